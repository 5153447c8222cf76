"""The SLA engine: which clock runs for a conversation, its deadline, and how close it is.

Pure functions over plain values, so the store, the queue, the scorecard and the reports all
agree on one definition of "late". The store keeps only the resulting deadline (due_at); a
countdown is always due_at minus the clock's now, computed when it is drawn.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path

from cs_tui.durations import parse_duration

CHANNELS = ("chat", "phone", "ticket", "email", "social")
CATEGORIES = (
    "order",
    "logistics",
    "product",
    "payment",
    "after_sales",
    "complaint",
    "pre_sale",
)
PRIORITIES = ("low", "normal", "high", "urgent")
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
    NONE = "none"


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names file:line."""


TARGET_KEYS = tuple(c.value for c in SlaClock)


@dataclass(frozen=True)
class Override:
    channel: str | None
    category: str | None
    priority: str | None
    targets: dict[str, float]

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


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return 1


def _targets(table: dict, *, where: str, text: str, source: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, raw in table.items():
        if key not in TARGET_KEYS:
            line = _line_of(text, key)
            raise PolicyError(
                f"{source}:{line}: unknown clock {key!r} in {where} "
                f"(known: {', '.join(TARGET_KEYS)})"
            )
        try:
            out[key] = parse_duration(raw)
        except ValueError as exc:
            raise PolicyError(f"{source}:{_line_of(text, key)}: {key}: {exc}") from None
    return out


def parse_policy(text: str, source: str = "<policy>") -> SlaPolicy:
    """Read a policy from TOML text; every problem is reported as source:line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or 1
        raise PolicyError(
            f"{source}:{line}: not valid TOML: {exc.msg if hasattr(exc, 'msg') else exc}"
        ) from None
    known = {
        "warning_ratio",
        "max_snooze",
        "targets",
        "channels",
        "categories",
        "priorities",
        "override",
    }
    for key in data:
        if key not in known:
            raise PolicyError(f"{source}:{_line_of(text, key)}: unknown setting {key!r}")
    ratio = data.get("warning_ratio", 0.25)
    if not isinstance(ratio, int | float) or isinstance(ratio, bool) or not 0 <= ratio < 1:
        raise PolicyError(
            f"{source}:{_line_of(text, 'warning_ratio')}: warning_ratio must be a number from 0 to 1"
        )
    max_snooze = _max_snooze(data, text=text, source=source)
    base = dict(DEFAULT_TARGETS)
    base.update(_targets(data.get("targets", {}), where="[targets]", text=text, source=source))

    def layer(name: str, allowed: tuple[str, ...]) -> dict[str, dict[str, float]]:
        table = data.get(name, {})
        if not isinstance(table, dict):
            raise PolicyError(f"{source}:{_line_of(text, name)}: [{name}] must be a table")
        out = {}
        for key, sub in table.items():
            if key not in allowed:
                raise PolicyError(
                    f"{source}:{_line_of(text, f'{name}.{key}')}: unknown {name[:-1].replace('ie', 'y')} "
                    f"{key!r} (known: {', '.join(allowed)})"
                )
            if not isinstance(sub, dict):
                raise PolicyError(f"{source}:{_line_of(text, key)}: [{name}.{key}] must be a table")
            out[key] = _targets(sub, where=f"[{name}.{key}]", text=text, source=source)
        return out

    overrides = []
    for index, raw in enumerate(data.get("override", [])):
        if not isinstance(raw, dict):
            raise PolicyError(
                f"{source}:{_line_of(text, '[[override]]')}: [[override]] must be a table"
            )
        match = {k: raw.pop(k, None) for k in ("channel", "category", "priority")}
        for key, allowed in (
            ("channel", CHANNELS),
            ("category", CATEGORIES),
            ("priority", PRIORITIES),
        ):
            if match[key] is not None and match[key] not in allowed:
                raise PolicyError(
                    f"{source}:{_line_of(text, str(match[key]))}: override #{index + 1}: "
                    f"unknown {key} {match[key]!r}"
                )
        overrides.append(
            Override(
                match["channel"],
                match["category"],
                match["priority"],
                _targets(raw, where=f"override #{index + 1}", text=text, source=source),
            )
        )
    return SlaPolicy(
        targets=base,
        channels=layer("channels", CHANNELS),
        categories=layer("categories", CATEGORIES),
        priorities=layer("priorities", PRIORITIES),
        overrides=tuple(overrides),
        warning_ratio=float(ratio),
        source=source,
        max_snooze=max_snooze,
    )


def _max_snooze(data: dict, *, text: str, source: str) -> float:
    raw = data.get("max_snooze", DEFAULT_MAX_SNOOZE)
    where = f"{source}:{_line_of(text, 'max_snooze')}: max_snooze"
    if not isinstance(raw, str | int | float):
        raise PolicyError(f"{where}: expected a duration like 30m, 8h or 1d")
    try:
        seconds = parse_duration(raw)
    except ValueError as exc:
        raise PolicyError(f"{where}: {exc}") from None
    if seconds <= 0:
        raise PolicyError(f"{where}: must be longer than 0")
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
    return parse_policy(text, source=str(path))


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
    clock: SlaClock
    started_at: datetime
    due_at: datetime | None  # None while the clock is paused with no known end
    target_s: float


@dataclass(frozen=True)
class SlaStatus:
    clock: SlaClock | None
    due_at: datetime | None
    remaining_s: float | None
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


def _paused_seconds(facts: ConversationFacts, since: datetime) -> tuple[float, bool]:
    """Seconds of pause after `since`, and whether a pause is still open with no end."""
    total = 0.0
    open_ended = False
    for start, end in facts.pauses:
        if end is None:
            if facts.status == "snoozed" and facts.snooze_until is not None:
                end = facts.snooze_until
            else:
                open_ended = True
                end = None
        if end is None:
            continue
        lo = max(start, since)
        if end > lo:
            total += (end - lo).total_seconds()
    return total, open_ended


def deadline(policy: SlaPolicy, facts: ConversationFacts) -> Deadline | None:
    running = running_clock(facts)
    if running is None:
        return None
    clock, started = running
    target = policy.target(clock.value, facts.channel, facts.category, facts.priority)
    paused, open_ended = _paused_seconds(facts, started)
    if facts.status == "pending" or open_ended:
        return Deadline(clock, started, None, target)
    return Deadline(clock, started, started + timedelta(seconds=target + paused), target)


def evaluate(policy: SlaPolicy, facts: ConversationFacts, now: datetime) -> SlaStatus:
    d = deadline(policy, facts)
    if d is None:
        return SlaStatus(None, None, None, None, SlaState.NONE)
    if d.due_at is None:
        return SlaStatus(d.clock, None, None, d.target_s, SlaState.PAUSED)
    remaining = (d.due_at - now).total_seconds()
    if facts.status == "snoozed" and facts.snooze_until is not None and now < facts.snooze_until:
        return SlaStatus(d.clock, d.due_at, remaining, d.target_s, SlaState.PAUSED)
    return SlaStatus(d.clock, d.due_at, remaining, d.target_s, policy.state(remaining, d.target_s))
