"""The SLA engine: which clock runs for a conversation, its deadline, and how close it is.

Pure functions over plain values, so the store, the queue, the scorecard and the reports all
agree on one definition of "late". The store keeps only the resulting deadline (due_at); a
countdown is always due_at minus the clock's now, computed when it is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from cs_tui.calendars import ALWAYS, Calendar, add_open_time, open_seconds, parse_calendars
from cs_tui.content import ContentError, KeyLines, Problem, Problems, parse_toml
from cs_tui.durations import parse_duration
from cs_tui.i18n import N_

CHANNELS = ("chat", "phone", "ticket", "email", "social")
CATEGORY_NAMES = {
    "order": N_("order"),
    "logistics": N_("logistics"),
    "product": N_("product"),
    "payment": N_("payment"),
    "after_sales": N_("after-sales"),
    "complaint": N_("complaint"),
    "pre_sale": N_("pre-sale"),
}
"""The one list of categories: stored code -> interface name (a catalog msgid), in the order
the choice dialog, the filters and the reports show them."""
CATEGORIES = tuple(CATEGORY_NAMES)
PRIORITY_NAMES = {
    "low": N_("low"),
    "normal": N_("normal"),
    "high": N_("high"),
    "urgent": N_("urgent"),
}
"""The one list of priorities, lowest first, as CATEGORY_NAMES."""
PRIORITIES = tuple(PRIORITY_NAMES)
STATUSES = ("new", "open", "pending", "snoozed", "escalated", "resolved", "closed")
TICKET_CHANNELS = frozenset({"ticket", "email"})


class SlaClock(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    ASSIGNMENT = "assignment"
    RESOLUTION = "resolution"
    ESCALATION = "escalation"
    TRANSFER = "transfer"
    FOLLOW_UP = "follow_up"


class SlaState(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    PAUSED = "paused"
    WAITING = "waiting"
    """Shown, never stored or evaluated: a running clock whose calendar is closed right now
    (it resumes at the next opening; the screens say when)."""
    NONE = "none"


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names file:line, one line per problem
    (`problems` holds them one by one for `cs-tui calendar check`)."""

    def __init__(self, message: str, problems: tuple[Problem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


TARGET_KEYS = tuple(c.value for c in SlaClock)


@dataclass(frozen=True)
class Override:
    """A policy rule: other targets (and calendar) for a channel, category or priority."""

    channel: str | None
    category: str | None
    priority: str | None
    targets: dict[str, float]
    calendar: str | None = None
    """The calendar this rule puts its conversations on (ALWAYS: around the clock)."""

    def matches(self, channel: str, category: str, priority: str) -> bool:
        return (
            (self.channel is None or self.channel == channel)
            and (self.category is None or self.category == category)
            and (self.priority is None or self.priority == priority)
        )


@dataclass(frozen=True)
class SlaPolicy:
    """Targets in seconds, layered: defaults < channel < category < priority < overrides."""

    targets: dict[str, float]
    channels: dict[str, dict[str, float]] = field(default_factory=dict)
    categories: dict[str, dict[str, float]] = field(default_factory=dict)
    priorities: dict[str, dict[str, float]] = field(default_factory=dict)
    overrides: tuple[Override, ...] = ()
    warning_ratio: float = 0.25
    source: str = "<built-in>"
    max_snooze: float = 86400.0
    """Longest snooze in seconds: a snooze pauses every clock, so an unbounded one would hide
    a waiting customer past every deadline."""
    calendars: dict[str, Calendar] = field(default_factory=dict)
    """Service hours by name; a clock counts only open time when a rule names one."""
    calendar_rules: dict[str, dict[str, str]] = field(default_factory=dict)
    """Which calendar a layer names: {"": {"": name}} for the policy-wide `calendar`, then
    {"channels": {"email": "office"}}, "categories", "priorities"; overrides carry their own."""
    _calendar_cache: dict[tuple[str, str, str], Calendar | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def calendar_for(self, channel: str, category: str, priority: str) -> Calendar | None:
        """The calendar a conversation's clocks count on, None for around the clock. Layered like
        the targets: policy-wide < channel < category < priority < overrides (last match wins)."""
        if not self.calendars:
            return None
        key = (channel, category, priority)
        try:
            return self._calendar_cache[key]
        except KeyError:
            found = self._calendar_cache[key] = self._resolve_calendar(*key)
            return found

    def _resolve_calendar(self, channel: str, category: str, priority: str) -> Calendar | None:
        rules = self.calendar_rules
        name = rules.get("", {}).get("")
        for layer, key in (
            ("channels", channel),
            ("categories", category),
            ("priorities", priority),
        ):
            name = rules.get(layer, {}).get(key, name)
        for override in self.overrides:
            if override.calendar is not None and override.matches(channel, category, priority):
                name = override.calendar
        if name is None or name == ALWAYS:
            return None
        return self.calendars[name]

    def target(self, clock: str, channel: str, category: str, priority: str) -> float:
        value = self.targets[clock]
        for layer, key in (
            (self.channels, channel),
            (self.categories, category),
            (self.priorities, priority),
        ):
            value = layer.get(key, {}).get(clock, value)
        for override in self.overrides:
            if clock in override.targets and override.matches(channel, category, priority):
                value = override.targets[clock]
        return value

    def state(self, remaining_s: float, target_s: float) -> SlaState:
        if remaining_s < 0:
            return SlaState.BREACHED
        if remaining_s <= target_s * self.warning_ratio:
            return SlaState.WARNING
        return SlaState.OK

    def clock_state(
        self, due_at: datetime, target_s: float, now: datetime, calendar: Calendar | None
    ) -> SlaState:
        """Breached once the deadline has passed; due soon when what is left of the clock is at
        most `warning_ratio` of its target, counted in the calendar's open time: an e-mail due
        at 10:00 on Monday is not due soon on Friday evening, though 62 wall hours is little
        against its target of 9.5 open hours."""
        remaining = (due_at - now).total_seconds()
        if calendar is not None and remaining >= 0:
            remaining = open_seconds(calendar, now, due_at)
        return self.state(remaining, target_s)


def _fail(source: str, line: int | None, message: str) -> PolicyError:
    problem = Problem(source, line, message)
    return PolicyError(str(problem), (problem,))


def _targets(
    table: dict, at: tuple, *, where: str, lines: KeyLines, source: str
) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, raw in table.items():
        if key not in TARGET_KEYS:
            raise _fail(
                source,
                lines.line(*at, key),
                f"unknown clock {key!r} in {where} (known: {', '.join(TARGET_KEYS)})",
            )
        try:
            out[key] = parse_duration(raw)
        except ValueError as exc:
            raise _fail(source, lines.line(*at, key), f"{key}: {exc}") from None
    return out


_KNOWN_SETTINGS = (
    "warning_ratio",
    "max_snooze",
    "targets",
    "channels",
    "categories",
    "priorities",
    "override",
    "calendars",
    "calendar",
)


def parse_policy(text: str, source: str = "<policy>", *, base_dir: Path | None = None) -> SlaPolicy:
    """Read a policy from TOML text; every problem is reported as source:line.

    The calendars' problems are all reported together (with the first problem of the rest of the
    file); `base_dir` is where a calendar's relative `holidays_ics` path starts.
    """
    try:
        data = parse_toml(text, source)
    except ContentError as exc:
        raise PolicyError(str(exc), (exc.problem,)) from None
    lines = KeyLines(text)
    problems = Problems(source, lines)
    calendars = parse_calendars(data.get("calendars", {}), problems, base_dir=base_dir, text=text)
    try:
        policy = _parse_rest(data, lines, source)
    except PolicyError as exc:
        problems.extend(exc.problems)
        policy = None
    rules = _calendar_rules(data, calendars, problems)
    if problems or policy is None:
        ordered = tuple(sorted(problems, key=lambda p: p.line or 0))
        raise PolicyError("\n".join(str(p) for p in ordered), ordered)
    return replace(policy, calendars=calendars, calendar_rules=rules)


def _calendar_rules(
    data: dict[str, Any], calendars: dict[str, Calendar], problems: Problems
) -> dict[str, dict[str, str]]:
    """Every `calendar = NAME` of the file, checked against the calendars it defines (a calendar
    with problems of its own is not reported again as unknown)."""
    defined = set(data.get("calendars", {})) if isinstance(data.get("calendars"), dict) else set()
    known = ", ".join(sorted(defined)) or "none"

    def check(value: Any, *path: str | int) -> str | None:
        if not isinstance(value, str) or not value:
            problems.add("calendar must be the name of a [calendars.NAME] table", *path)
            return None
        if value != ALWAYS and value not in defined:
            problems.add(
                f"unknown calendar {value!r} (defined: {known}; {ALWAYS!r}: around the clock)",
                *path,
            )
            return None
        return value

    rules: dict[str, dict[str, str]] = {}
    if "calendar" in data:
        name = check(data["calendar"], "calendar")
        if name is not None:
            rules[""] = {"": name}
    for layer in ("channels", "categories", "priorities"):
        table = data.get(layer)
        if not isinstance(table, dict):
            continue
        for key, sub in table.items():
            if isinstance(sub, dict) and "calendar" in sub:
                name = check(sub["calendar"], layer, key, "calendar")
                if name is not None:
                    rules.setdefault(layer, {})[key] = name
    overrides = data.get("override")
    if isinstance(overrides, list):
        for index, raw in enumerate(overrides):
            if isinstance(raw, dict) and "calendar" in raw:
                check(raw["calendar"], "override", index, "calendar")
    return rules


def _parse_rest(data: dict[str, Any], lines: KeyLines, source: str) -> SlaPolicy:
    """Everything but the calendars; stops at the first problem."""
    for key in data:
        if key not in _KNOWN_SETTINGS:
            raise _fail(source, lines.line(key), f"unknown setting {key!r}")
    ratio = data.get("warning_ratio", 0.25)
    if not isinstance(ratio, int | float) or isinstance(ratio, bool) or not 0 <= ratio < 1:
        raise _fail(
            source, lines.line("warning_ratio"), "warning_ratio must be a number from 0 to 1"
        )
    max_snooze = _max_snooze(data, lines=lines, source=source)
    base = dict(DEFAULT_TARGETS)
    base.update(
        _targets(
            data.get("targets", {}), ("targets",), where="[targets]", lines=lines, source=source
        )
    )

    def layer(name: str, allowed: tuple[str, ...]) -> dict[str, dict[str, float]]:
        return _layer(data, name, allowed, lines=lines, source=source)

    return SlaPolicy(
        targets=base,
        channels=layer("channels", CHANNELS),
        categories=layer("categories", CATEGORIES),
        priorities=layer("priorities", PRIORITIES),
        overrides=_overrides(data.get("override", []), lines=lines, source=source),
        warning_ratio=float(ratio),
        source=source,
        max_snooze=max_snooze,
    )


def _layer(
    data: dict, name: str, allowed: tuple[str, ...], *, lines: KeyLines, source: str
) -> dict[str, dict[str, float]]:
    """One of the [channels] / [categories] / [priorities] tables: known names, clock targets."""
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise _fail(source, lines.line(name), f"[{name}] must be a table")
    out = {}
    for key, sub in table.items():
        if key not in allowed:
            raise _fail(
                source,
                lines.line(name, key),
                f"unknown {name[:-1].replace('ie', 'y')} {key!r} (known: {', '.join(allowed)})",
            )
        if not isinstance(sub, dict):
            raise _fail(source, lines.line(name, key), f"[{name}.{key}] must be a table")
        sub = {k: v for k, v in sub.items() if k != "calendar"}  # checked by _calendar_rules
        out[key] = _targets(sub, (name, key), where=f"[{name}.{key}]", lines=lines, source=source)
    return out


def _overrides(items: list, *, lines: KeyLines, source: str) -> tuple[Override, ...]:
    overrides = []
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            raise _fail(source, lines.line("override", index), "[[override]] must be a table")
        raw = dict(raw)
        calendar = raw.pop("calendar", None)  # checked by _calendar_rules
        match = {k: raw.pop(k, None) for k in ("channel", "category", "priority")}
        for key, allowed in (
            ("channel", CHANNELS),
            ("category", CATEGORIES),
            ("priority", PRIORITIES),
        ):
            if match[key] is not None and match[key] not in allowed:
                raise _fail(
                    source,
                    lines.line("override", index, key),
                    f"override #{index + 1}: unknown {key} {match[key]!r}",
                )
        where = f"override #{index + 1}"
        targets = _targets(raw, ("override", index), where=where, lines=lines, source=source)
        overrides.append(
            Override(
                match["channel"],
                match["category"],
                match["priority"],
                targets,
                calendar if isinstance(calendar, str) else None,
            )
        )
    return tuple(overrides)


def _max_snooze(data: dict, *, lines: KeyLines, source: str) -> float:
    raw = data.get("max_snooze", DEFAULT_MAX_SNOOZE)
    line = lines.line("max_snooze")
    if not isinstance(raw, str | int | float):
        raise _fail(source, line, "max_snooze: expected a duration like 30m, 8h or 1d")
    try:
        seconds = parse_duration(raw)
    except ValueError as exc:
        raise _fail(source, line, f"max_snooze: {exc}") from None
    if seconds <= 0:
        raise _fail(source, line, "max_snooze: must be longer than 0")
    return seconds


DEFAULT_MAX_SNOOZE = 86400.0


DEFAULT_TARGETS = {
    "first_response": 30.0,
    "next_response": 60.0,
    "assignment": 86400.0,
    "resolution": 172800.0,
    "escalation": 1800.0,
    "transfer": 300.0,
    "follow_up": 86400.0,
}


def default_policy() -> SlaPolicy:
    text = resources.files("cs_tui.policy").joinpath("sla.toml").read_text(encoding="utf-8")
    return parse_policy(text, source="cs_tui/policy/sla.toml")


def load_policy(path: str | Path | None) -> SlaPolicy:
    """The team's policy file, or the shipped defaults when none is configured."""
    if path is None:
        return default_policy()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{path}:1: cannot read policy file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise PolicyError(f"{path}:1: policy file is not UTF-8 text") from None
    return parse_policy(text, source=str(path), base_dir=path.parent)


@dataclass(frozen=True)
class ConversationFacts:
    """What the engine needs to know about one conversation; all times aware UTC."""

    channel: str
    category: str
    priority: str
    status: str
    created_at: datetime
    assigned: bool = False
    assigned_at: datetime | None = None
    first_customer_at: datetime | None = None
    last_customer_at: datetime | None = None
    first_agent_at: datetime | None = None
    last_agent_at: datetime | None = None
    escalated_at: datetime | None = None
    transfer_requested_at: datetime | None = None
    resolved_at: datetime | None = None
    followed_up_at: datetime | None = None
    snooze_until: datetime | None = None
    # Intervals during which the clock stood still (pending on the customer, snoozed); an open
    # interval has end None. A snoozed conversation's open pause ends at snooze_until.
    pauses: tuple[tuple[datetime, datetime | None], ...] = ()


@dataclass(frozen=True)
class Deadline:
    """The clock that runs for a conversation now, and when it is due."""

    clock: SlaClock
    started_at: datetime
    due_at: datetime | None  # None while the clock is paused with no known end
    target_s: float
    calendar_name: str | None = None
    """The calendar the clock counts on (`SlaPolicy.calendars[name]`), None: around the clock.
    A screen asks `calendars.next_opening(calendar, now)` when the clock resumes."""


@dataclass(frozen=True)
class SlaStatus:
    """A conversation's countdown as the queue draws it: which clock, how long, how late."""

    clock: SlaClock | None
    due_at: datetime | None
    remaining_s: float | None
    """Wall seconds to the deadline (the countdown); the state counts business time."""
    target_s: float | None
    state: SlaState


def running_clock(facts: ConversationFacts) -> tuple[SlaClock, datetime] | None:
    """Which clock runs and when it started, or None when nothing is owed to the customer."""
    status = facts.status
    if status == "closed":
        return None
    if status == "resolved":
        if facts.resolved_at is None or (
            facts.followed_up_at is not None and facts.followed_up_at >= facts.resolved_at
        ):
            return None
        return SlaClock.FOLLOW_UP, facts.resolved_at
    if status == "escalated" and facts.escalated_at is not None:
        return SlaClock.ESCALATION, facts.escalated_at
    if facts.transfer_requested_at is not None:
        return SlaClock.TRANSFER, facts.transfer_requested_at
    waiting_since = _customer_waiting_since(facts)
    if facts.channel in TICKET_CHANNELS:
        if not facts.assigned:
            return SlaClock.ASSIGNMENT, facts.created_at
        if waiting_since is None:
            return None
        return SlaClock.RESOLUTION, max(waiting_since, facts.assigned_at or waiting_since)
    if facts.first_agent_at is None:
        return SlaClock.FIRST_RESPONSE, facts.first_customer_at or facts.created_at
    if waiting_since is None:
        return None
    return SlaClock.NEXT_RESPONSE, waiting_since


def _customer_waiting_since(facts: ConversationFacts) -> datetime | None:
    if facts.last_customer_at is None:
        return None
    if facts.last_agent_at is not None and facts.last_agent_at >= facts.last_customer_at:
        return None
    return facts.last_customer_at


def _pause_spans(
    facts: ConversationFacts, since: datetime
) -> tuple[list[tuple[datetime, datetime]], bool]:
    """The closed pauses after `since` as (start, end) spans, and whether a pause is still open
    with no end. A snooze's pause ends when the snooze does."""
    spans: list[tuple[datetime, datetime]] = []
    open_ended = False
    for start, end in facts.pauses:
        if end is None:
            if facts.status == "snoozed" and facts.snooze_until is not None:
                end = facts.snooze_until
            else:
                open_ended = True
                continue
        lo = max(start, since)
        if end > lo:
            spans.append((lo, end))
    return spans, open_ended


def _paused_seconds(facts: ConversationFacts, since: datetime) -> tuple[float, bool]:
    """Seconds of pause after `since`, and whether a pause is still open with no end."""
    spans, open_ended = _pause_spans(facts, since)
    return sum(((end - lo).total_seconds() for lo, end in spans), 0.0), open_ended


def _paused_open_seconds(
    calendar: Calendar, facts: ConversationFacts, since: datetime
) -> tuple[float, bool]:
    """As `_paused_seconds`, counting only the open time inside each pause."""
    spans, open_ended = _pause_spans(facts, since)
    return sum((open_seconds(calendar, lo, end) for lo, end in spans), 0.0), open_ended


def deadline(policy: SlaPolicy, facts: ConversationFacts) -> Deadline | None:
    """When the running clock is due.

    Around the clock, the target plus every pause after the start (wall time). On a calendar,
    the same rule in open time: the instant when the target plus the open time spent paused has
    passed in open time, so a pause's open hours do not count and its closed hours were not
    counting anyway. A start while closed counts from the next opening. (So a calendar open
    around the clock gives exactly the deadline of no calendar.)
    """
    running = running_clock(facts)
    if running is None:
        return None
    clock, started = running
    target = policy.target(clock.value, facts.channel, facts.category, facts.priority)
    calendar = policy.calendar_for(facts.channel, facts.category, facts.priority)
    if calendar is not None:
        return _calendar_deadline(calendar, facts, clock, started, target)
    paused, open_ended = _paused_seconds(facts, started)
    if facts.status == "pending" or open_ended:
        return Deadline(clock, started, None, target)
    return Deadline(clock, started, started + timedelta(seconds=target + paused), target)


def _calendar_deadline(
    calendar: Calendar, facts: ConversationFacts, clock: SlaClock, started: datetime, target: float
) -> Deadline:
    paused, open_ended = _paused_open_seconds(calendar, facts, started)
    if facts.status == "pending" or open_ended:
        return Deadline(clock, started, None, target, calendar.name)
    due = add_open_time(calendar, started, target + paused)
    return Deadline(clock, started, due, target, calendar.name)


def evaluate(policy: SlaPolicy, facts: ConversationFacts, now: datetime) -> SlaStatus:
    d = deadline(policy, facts)
    if d is None:
        return SlaStatus(None, None, None, None, SlaState.NONE)
    if d.due_at is None:
        return SlaStatus(d.clock, None, None, d.target_s, SlaState.PAUSED)
    remaining = (d.due_at - now).total_seconds()
    if facts.status == "snoozed" and facts.snooze_until is not None and now < facts.snooze_until:
        return SlaStatus(d.clock, d.due_at, remaining, d.target_s, SlaState.PAUSED)
    calendar = policy.calendars.get(d.calendar_name) if d.calendar_name else None
    state = policy.clock_state(d.due_at, d.target_s, now, calendar)
    return SlaStatus(d.clock, d.due_at, remaining, d.target_s, state)
