"""Role-play scenarios: TOML files with a persona, an opening, scripted turns and a rubric.

A scenario file (see ``cs_tui/scenarios/`` for the shipped ones)::

    id = "zh-late-parcel"              # optional: defaults to the file name without .toml
    title = "包裹晚到三天,顾客很生气"
    lang = "zh"                        # zh | en
    channel = "chat"                   # chat | phone | ticket | email | social
    category = "logistics"             # order | logistics | product | payment | after_sales | ...
    priority = "high"                  # optional, default normal
    time_limit = "8m"                  # the session ends by itself after this long
    beyond_policy = false              # true: the customer asks for more than policy allows
    brief = "what the trainer and trainee read before starting"
    opening = "我的快递到底什么时候到?"

    [persona]
    name = "王女士"
    tier = "vip"                       # standard | vip
    emotion = "angry"                  # angry | anxious | satisfied | neutral

    [rubric]                           # weights of the scorecard items; they add up to 100
    first_response = 15
    ...

    [[turn]]
    id = "waited"
    when = "silence"                   # the customer has waited this many seconds unanswered
    seconds = 40
    say = "我都等了3天了!你们到底管不管?"

    [[turn]]
    id = "when"
    when = "reply"                     # after the agent's reply (the replies since the customer
    lacks = ["@time_commitment"]       # last spoke), when it contains / lacks these patterns
    delay = 5                          # optional: seconds after the agent's last reply
    after = "waited"                   # optional: only once that turn has been said
    until = "calmer"                   # optional: only while that turn has not been said
    say = "那到底哪天能到?给个准话。"
    ends = false                       # optional: true when the customer is done after this

Patterns are regular expressions (case-insensitive). ``@name`` stands for an element of a good
reply as the scorecard finds it (``@greeting``, ``@confirm``, ``@empathy``, ``@time_commitment``,
``@options``, ``@escalation``, ``@closing``) and ``@avoid`` for any phrase to avoid.

A file with any problem is left out whole (a half-checked script would mislead a trainee); every
problem reads ``file:line: problem``, like phrase packs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cs_tui.content import (
    ContentError,
    KeyLines,
    Problem,
    Problems,
    decode_text,
    parse_toml,
    toml_files,
)
from cs_tui.durations import parse_duration
from cs_tui.i18n import N_, translate
from cs_tui.sla import CATEGORIES, CHANNELS, PRIORITIES

if TYPE_CHECKING:
    from cs_tui.config import Settings

__all__ = [
    "CRITERIA",
    "CRITERION_LABELS",
    "DEFAULT_WEIGHTS",
    "MAX_TURNS",
    "Persona",
    "Problem",
    "Scenario",
    "ScenarioError",
    "Turn",
    "check_paths",
    "criterion_label",
    "find_scenario",
    "load_scenarios",
    "parse_scenario",
    "read_scenario_file",
    "shipped_scenarios",
]

REPLY_ELEMENTS = (
    "greeting",
    "confirm",
    "empathy",
    "time_commitment",
    "options",
    "escalation",
    "closing",
)
"""The elements of a good reply the scorer looks for: each is a scorecard item, and a turn's
pattern may name it as ``@name``."""

CRITERIA = ("first_response", "next_response", "compliant_language", *REPLY_ELEMENTS)
"""The scorecard's items, in the order the scorecard lists them."""

CRITERION_LABELS: dict[str, str] = {
    "first_response": N_("First reply within target"),
    "next_response": N_("Later replies within target"),
    "compliant_language": N_("Compliant language"),
    "greeting": N_("Greeting"),
    "confirm": N_("Paraphrase and confirm"),
    "empathy": N_("Empathy for an upset customer"),
    "time_commitment": N_("Concrete time commitment"),
    "options": N_("2-3 options (pre-sale)"),
    "escalation": N_("Escalation beyond policy"),
    "closing": N_("Closing"),
}
"""The items' names in English; `criterion_label()` gives them in a scorecard's language."""


def criterion_label(criterion: str, lang: str | None) -> str | None:
    """A rubric item's name in `lang` (a card reads in its conversation's language, whatever
    the interface's), or None for an item this version does not know."""
    label = CRITERION_LABELS.get(criterion)
    return None if label is None else translate(lang, label)


DEFAULT_WEIGHTS: dict[str, float] = {
    "first_response": 15,
    "next_response": 10,
    "compliant_language": 20,
    "greeting": 10,
    "confirm": 10,
    "empathy": 10,
    "time_commitment": 10,
    "options": 5,
    "escalation": 5,
    "closing": 5,
}
"""Weights for auditing a conversation that was not played from a scenario (they add to 100;
items that do not apply to a conversation drop out of its maximum)."""

TIERS = ("standard", "vip")
EMOTIONS = ("angry", "anxious", "satisfied", "neutral")
LANGS = ("zh", "en")
WHEN = ("reply", "silence")
MAX_TURNS = 9
"""The trainer injects a turn with keys 1-9, so a scenario has at most nine."""
FIRST_REPLY_S = 30.0
NEXT_REPLY_S = 60.0
MAX_SCENARIO_BYTES = 500_000

ELEMENT_REFS = (*REPLY_ELEMENTS, "avoid")
"""What ``@name`` in a turn's pattern may refer to (``@avoid``: a phrase to avoid)."""

_ID_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,99}\Z")
_TURN_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}\Z")

TOP_KEYS = {
    "id",
    "title",
    "lang",
    "channel",
    "category",
    "priority",
    "time_limit",
    "beyond_policy",
    "brief",
    "opening",
    "first_reply_s",
    "next_reply_s",
    "persona",
    "rubric",
    "turn",
}
REQUIRED_TOP = ("title", "lang", "channel", "category", "time_limit", "opening")
PERSONA_KEYS = {"name", "tier", "emotion"}
TURN_KEYS = {"id", "when", "say", "seconds", "delay", "contains", "lacks", "after", "until", "ends"}


class ScenarioError(ValueError):
    """A scenario that cannot be found or used; the message is one line for the user."""


@dataclass(frozen=True)
class Pattern:
    """One ``contains``/``lacks`` entry: a regular expression, or ``@element``."""

    source: str
    element: str | None = None
    regex: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Persona:
    name: str
    tier: str = "standard"
    emotion: str = "neutral"


@dataclass(frozen=True)
class Turn:
    """A scripted customer message and when it is said (once at most)."""

    id: str
    say: str
    when: str  # reply | silence
    seconds: float = 0.0
    """silence: how long the customer has waited unanswered; reply: the delay after the reply."""
    contains: tuple[Pattern, ...] = ()
    lacks: tuple[Pattern, ...] = ()
    after: str | None = None
    until: str | None = None
    """Only while that turn has not been said (a first reaction that makes no sense later)."""
    ends: bool = False
    """The customer is done after saying this: no further turns, no reply owed."""
    line: int = 0
    key: str = ""
    """The digit the trainer presses to say this turn now."""

    def describe(self) -> str:
        """One line on when this turn fires, for the trainer's panel."""
        if self.when == "silence":
            text = f"after {self.seconds:g}s unanswered"
        else:
            parts = []
            if self.contains:
                parts.append("reply has " + " | ".join(p.source for p in self.contains))
            if self.lacks:
                parts.append("reply lacks " + " | ".join(p.source for p in self.lacks))
            text = "; ".join(parts) or "after any reply"
            if self.seconds:
                text += f" (+{self.seconds:g}s)"
        if self.after:
            text += f", once {self.after} was said"
        if self.until:
            text += f", until {self.until} is said"
        if self.ends:
            text += "; ends the conversation"
        return text


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    lang: str
    channel: str
    category: str
    persona: Persona
    opening: str
    turns: tuple[Turn, ...]
    weights: dict[str, float]
    time_limit_s: float
    priority: str = "normal"
    beyond_policy: bool = False
    brief: str = ""
    first_reply_s: float = FIRST_REPLY_S
    next_reply_s: float = NEXT_REPLY_S
    source: str = ""
    layer: str = "shipped"

    def turn(self, turn_id: str) -> Turn | None:
        for turn in self.turns:
            if turn.id == turn_id:
                return turn
        return None

    def turn_by_key(self, key: str) -> Turn | None:
        for turn in self.turns:
            if turn.key == key:
                return turn
        return None

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "lang": self.lang,
            "channel": self.channel,
            "category": self.category,
            "persona": {
                "name": self.persona.name,
                "tier": self.persona.tier,
                "emotion": self.persona.emotion,
            },
            "turns": len(self.turns),
            "time_limit_s": self.time_limit_s,
            "beyond_policy": self.beyond_policy,
            "brief": self.brief,
            "source": self.source,
        }


# --------------------------------------------------------------------------- parsing


def _compile_patterns(
    raw: Any, field_name: str, where: int | None, source: str, problems: list[Problem]
) -> tuple[Pattern, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(p, str) and p.strip() for p in raw):
        problems.append(Problem(source, where, f"{field_name} must be a list of patterns"))
        return ()
    out = []
    for text in raw:
        text = text.strip()
        if text.startswith("@"):
            name = text[1:]
            if name not in ELEMENT_REFS:
                problems.append(
                    Problem(
                        source,
                        where,
                        f"{field_name}: unknown element {text!r} "
                        f"(one of: {', '.join('@' + e for e in ELEMENT_REFS)})",
                    )
                )
                continue
            out.append(Pattern(text, element=name))
            continue
        try:
            regex = re.compile(text, re.IGNORECASE)
        except re.error as exc:
            problems.append(
                Problem(source, where, f"{field_name}: bad regular expression {text!r}: {exc}")
            )
            continue
        if regex.search(""):
            problems.append(
                Problem(source, where, f"{field_name}: pattern {text!r} matches empty text")
            )
            continue
        out.append(Pattern(text, regex=regex))
    return tuple(out)


def _duration(
    value: Any, name: str, where: int | None, source: str, problems: list[Problem]
) -> float:
    try:
        seconds = parse_duration(value)
    except (ValueError, TypeError) as exc:
        problems.append(Problem(source, where, f"{name}: {exc}"))
        return 0.0
    return seconds


def _text(
    data: dict, key: str, where: int | None, source: str, problems: list[Problem], *, required: bool
) -> str:
    value = data.get(key)
    if value is None:
        if required:
            problems.append(Problem(source, where, f"missing {key}"))
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append(Problem(source, where, f"{key} must be a non-empty string"))
        return ""
    return value.strip()


def parse_scenario(
    text: str, source: str, *, default_id: str | None = None, layer: str = "shipped"
) -> tuple[Scenario | None, list[Problem]]:
    """One scenario from a file's text, or None and every problem found."""
    try:
        data = parse_toml(text, source)
    except ContentError as exc:
        return None, [exc.problem]
    lines = KeyLines(text)
    problems = Problems(source, lines)

    for key in data:
        if key not in TOP_KEYS:
            problems.append(Problem(source, lines.line(key), f"unknown key {key!r}"))

    scenario_id = data.get("id", default_id)
    if not isinstance(scenario_id, str) or not _ID_RE.match(scenario_id):
        problems.append(
            Problem(
                source,
                lines.line("id"),
                f"id {scenario_id!r} must be lower-case letters, digits, '-', '_' or '.'",
            )
        )
        scenario_id = default_id or "?"
    for key in REQUIRED_TOP:
        if key not in data:
            problems.append(Problem(source, None, f"missing {key}"))
    title = _text(data, "title", lines.line("title"), source, problems, required="title" in data)
    opening = _text(
        data, "opening", lines.line("opening"), source, problems, required="opening" in data
    )
    brief = _text(data, "brief", lines.line("brief"), source, problems, required=False)

    lang = data.get("lang", "zh")
    if lang not in LANGS:
        problems.append(Problem(source, lines.line("lang"), f"lang must be zh or en, not {lang!r}"))
    channel = data.get("channel", "chat")
    problems.one_of(channel, CHANNELS, "channel", "channel")
    category = data.get("category", "order")
    problems.one_of(category, CATEGORIES, "category", "category")
    priority = data.get("priority", "normal")
    problems.one_of(priority, PRIORITIES, "priority", "priority")
    beyond_policy = data.get("beyond_policy", False)
    if not isinstance(beyond_policy, bool):
        problems.append(
            Problem(source, lines.line("beyond_policy"), "beyond_policy must be true or false")
        )
        beyond_policy = False
    time_limit = 0.0
    if "time_limit" in data:
        found = len(problems)
        where = lines.line("time_limit")
        time_limit = _duration(data["time_limit"], "time_limit", where, source, problems)
        if time_limit <= 0 and len(problems) == found:
            problems.append(Problem(source, where, "time_limit must be more than 0"))
    targets = {}
    for key, default in (("first_reply_s", FIRST_REPLY_S), ("next_reply_s", NEXT_REPLY_S)):
        targets[key] = default
        if key in data:
            found = len(problems)
            value = _duration(data[key], key, lines.line(key), source, problems)
            if value <= 0 and len(problems) == found:
                problems.append(Problem(source, lines.line(key), f"{key} must be > 0"))
            targets[key] = value or default

    persona = _parse_persona(data.get("persona"), problems)
    weights = _parse_rubric(data.get("rubric"), problems)
    turns = _parse_turns(data.get("turn"), lines, source, problems)

    # The rubric must fit the scenario, or the scorecard would ask for the impossible.
    rubric_line = lines.line("rubric")
    if weights.get("options") and category != "pre_sale":
        problems.append(
            Problem(
                source,
                lines.near("rubric", "options"),
                'options is scored only in pre-sale scenarios (category = "pre_sale")',
            )
        )
    if (
        weights.get("empathy")
        and persona is not None
        and persona.emotion
        not in (
            "angry",
            "anxious",
        )
    ):
        problems.append(
            Problem(
                source,
                lines.near("rubric", "empathy"),
                "empathy is scored only when the persona is angry or anxious",
            )
        )
    if weights.get("escalation") and not beyond_policy:
        problems.append(
            Problem(
                source,
                lines.near("rubric", "escalation"),
                "escalation is scored only when beyond_policy = true",
            )
        )
    if weights and abs(sum(weights.values()) - 100) > 1e-6:
        problems.append(
            Problem(
                source,
                rubric_line,
                f"rubric weights add up to {sum(weights.values()):g}, not 100",
            )
        )

    if problems or persona is None:
        problems.sort(key=lambda p: p.line or 0)
        return None, problems
    return (
        Scenario(
            id=scenario_id,
            title=title,
            lang=lang,
            channel=channel,
            category=category,
            persona=persona,
            opening=opening,
            turns=turns,
            weights=weights,
            time_limit_s=time_limit,
            priority=priority,
            beyond_policy=beyond_policy,
            brief=brief,
            first_reply_s=targets["first_reply_s"],
            next_reply_s=targets["next_reply_s"],
            source=source,
            layer=layer,
        ),
        [],
    )


def _parse_persona(raw: Any, problems: Problems) -> Persona | None:
    if raw is None:
        problems.add("missing [persona]")
        return None
    if not isinstance(raw, dict):
        problems.add("[persona] must be a table", "persona")
        return None
    for key in raw:
        if key not in PERSONA_KEYS:
            problems.add(f"[persona]: unknown key {key!r}", "persona", key)
    where = problems.lines.near("persona", "name")
    name = _text(raw, "name", where, problems.source, problems, required=True)
    tier = raw.get("tier", "standard")
    if tier not in TIERS:
        message = f"[persona]: tier must be one of {', '.join(TIERS)}, not {tier!r}"
        problems.add(message, "persona", "tier")
    emotion = raw.get("emotion", "neutral")
    if emotion not in EMOTIONS:
        message = f"[persona]: emotion must be one of {', '.join(EMOTIONS)}, not {emotion!r}"
        problems.add(message, "persona", "emotion")
    return Persona(name or "?", tier if tier in TIERS else "standard", emotion)


def _parse_rubric(raw: Any, problems: Problems) -> dict[str, float]:
    if raw is None:
        problems.add("missing [rubric]")
        return {}
    if not isinstance(raw, dict):
        problems.add("[rubric] must be a table", "rubric")
        return {}
    weights: dict[str, float] = {}
    for key, value in raw.items():
        if key not in CRITERIA:
            message = f"[rubric]: unknown item {key!r} (one of: {', '.join(CRITERIA)})"
            problems.add(message, "rubric", key)
        elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            problems.add(f"[rubric]: {key} must be a number >= 0", "rubric", key)
        elif value:
            weights[key] = float(value)
    if not weights:
        problems.add("[rubric] is empty", "rubric")
    return {k: weights[k] for k in CRITERIA if k in weights}


def _parse_turns(
    raw: Any, lines: KeyLines, source: str, problems: list[Problem]
) -> tuple[Turn, ...]:
    if raw is None:
        problems.append(Problem(source, None, "missing [[turn]]: a scenario needs scripted turns"))
        return ()
    if not isinstance(raw, list):
        problems.append(
            Problem(source, lines.line("turn"), "turn must be an array of tables [[turn]]")
        )
        return ()
    if len(raw) > MAX_TURNS:
        problems.append(
            Problem(
                source,
                lines.line("turn", MAX_TURNS),
                f"at most {MAX_TURNS} turns (the trainer says them with keys 1-{MAX_TURNS})",
            )
        )
    turns: list[Turn] = []
    seen: dict[str, int | None] = {}
    untils: list[tuple[str, str, int | None]] = []
    for index, item in enumerate(raw):
        start = lines.line("turn", index)

        def at(key: str, index: int = index) -> int | None:
            return lines.near("turn", index, key)

        if not isinstance(item, dict):
            problems.append(Problem(source, start, "a [[turn]] must be a table"))
            continue
        problems_before = len(problems)
        for key in item:
            if key not in TURN_KEYS:
                problems.append(Problem(source, at(key), f"turn: unknown key {key!r}"))
        turn_id = item.get("id")
        if not isinstance(turn_id, str) or not _TURN_ID_RE.match(turn_id):
            problems.append(
                Problem(
                    source,
                    at("id"),
                    f"turn id {turn_id!r} must be letters, digits, '-' or '_' (at most 40)",
                )
            )
            turn_id = f"#{index + 1}"
        elif turn_id in seen or turn_id == "opening":
            problems.append(
                Problem(
                    source,
                    at("id"),
                    f"duplicate turn id {turn_id!r}"
                    + (
                        f": also at {Problem(source, seen[turn_id], '').where}"
                        if turn_id in seen
                        else ""
                    ),
                )
            )
        say = _text(item, "say", at("say"), source, problems, required=True)
        when = item.get("when")
        if when not in WHEN:
            problems.append(
                Problem(source, at("when"), f"turn {turn_id}: when must be reply or silence")
            )
        seconds = 0.0
        if when == "silence":
            if "seconds" not in item:
                problems.append(
                    Problem(source, start, f"turn {turn_id}: a silence turn needs seconds")
                )
            else:
                found = len(problems)
                seconds = _duration(item["seconds"], "seconds", at("seconds"), source, problems)
                if seconds <= 0 and len(problems) == found:
                    problems.append(
                        Problem(source, at("seconds"), f"turn {turn_id}: seconds must be > 0")
                    )
            for key in ("contains", "lacks", "delay"):
                if key in item:
                    problems.append(
                        Problem(
                            source, at(key), f"turn {turn_id}: {key} applies to reply turns only"
                        )
                    )
        elif when == "reply":
            if "seconds" in item:
                problems.append(
                    Problem(
                        source,
                        at("seconds"),
                        f"turn {turn_id}: seconds is for silence turns; use delay",
                    )
                )
            if "delay" in item:
                seconds = _duration(item["delay"], "delay", at("delay"), source, problems)
        contains = _compile_patterns(
            item.get("contains"), "contains", at("contains"), source, problems
        )
        lacks = _compile_patterns(item.get("lacks"), "lacks", at("lacks"), source, problems)
        after = item.get("after")
        if after is not None and (not isinstance(after, str) or after not in seen):
            problems.append(
                Problem(
                    source,
                    at("after"),
                    f"turn {turn_id}: after = {after!r} must name a turn defined above it",
                )
            )
            after = None
        ends = item.get("ends", False)
        if not isinstance(ends, bool):
            problems.append(
                Problem(source, at("ends"), f"turn {turn_id}: ends must be true or false")
            )
        seen.setdefault(turn_id, at("id"))
        until = item.get("until")
        if until is not None and (not isinstance(until, str) or until == turn_id):
            problems.append(
                Problem(source, at("until"), f"turn {turn_id}: until must name another turn")
            )
            until = None
        elif until is not None:
            untils.append((turn_id, until, at("until")))
        if len(problems) > problems_before:
            continue
        turns.append(
            Turn(
                id=turn_id,
                say=say,
                when=str(when),
                seconds=seconds,
                contains=contains,
                lacks=lacks,
                after=after,
                until=until,
                ends=ends,
                line=start or 0,
                key=str(len(turns) + 1) if len(turns) < MAX_TURNS else "",
            )
        )
    for turn_id, until, line in untils:
        if until not in seen:
            problems.append(
                Problem(source, line, f"turn {turn_id}: until = {until!r} names no turn")
            )
    return tuple(turns)


# --------------------------------------------------------------------------- files


@dataclass
class ScenarioSet:
    scenarios: list[Scenario] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _parse_bytes(
    raw: bytes, source: str, default_id: str, layer: str
) -> tuple[Scenario | None, list[Problem]]:
    try:
        text = decode_text(
            raw,
            source,
            max_bytes=MAX_SCENARIO_BYTES,
            size_text=f"{MAX_SCENARIO_BYTES // 1000} kB",
            what="a TOML scenario",
        )
    except ContentError as exc:
        return None, [exc.problem]
    return parse_scenario(text, source, default_id=default_id, layer=layer)


def read_scenario_file(
    path: str | Path, *, layer: str = "team"
) -> tuple[Scenario | None, list[Problem]]:
    """(Scenario or None, problems) for one file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(str(path), 1, f"cannot read: {exc.strerror or exc}")]
    return _parse_bytes(raw, str(path), path.stem, layer)


def shipped_scenarios() -> ScenarioSet:
    """The scenarios inside the cs_tui package (works from a wheel or a zip)."""
    out = ScenarioSet()
    folder = resources.files("cs_tui") / "scenarios"
    for name in sorted(p.name for p in folder.iterdir() if p.name.endswith(".toml")):
        scenario, problems = _parse_bytes(
            (folder / name).read_bytes(), f"cs_tui/scenarios/{name}", name[:-5], "shipped"
        )
        out.problems.extend(problems)
        if scenario is not None:
            out.scenarios.append(scenario)
    return out


def _merge(layers: Sequence[Sequence[tuple[Scenario | None, list[Problem]]]]) -> ScenarioSet:
    """Later layers override earlier ones by id; within one layer an id appears once."""
    result = ScenarioSet()
    by_id: dict[str, Scenario] = {}
    for layer in layers:
        in_layer: dict[str, Scenario] = {}
        for scenario, problems in layer:
            result.problems.extend(problems)
            if scenario is None:
                continue
            earlier = in_layer.get(scenario.id)
            if earlier is not None:
                result.problems.append(
                    Problem(
                        scenario.source,
                        1,
                        f"duplicate scenario id {scenario.id!r}: also in {earlier.source}",
                    )
                )
                continue
            in_layer[scenario.id] = scenario
            by_id[scenario.id] = scenario
    result.scenarios = list(by_id.values())
    return result


def load_scenarios(
    settings: Settings | None = None,
    *,
    shipped: bool = True,
    extra: Sequence[str | Path] | None = None,
) -> ScenarioSet:
    """Shipped scenarios, then the team's (``scenario_dirs`` in the config, or ``extra``)."""
    layers: list[list[tuple[Scenario | None, list[Problem]]]] = []
    if shipped:
        base = shipped_scenarios()
        layers.append([(s, []) for s in base.scenarios] + [(None, base.problems)])
    team = list(extra) if extra is not None else list(settings.scenario_dirs if settings else [])
    if team:
        layers.append([read_scenario_file(p, layer="team") for p in toml_files(team)])
    return _merge(layers)


def check_paths(
    paths: Sequence[str | Path] | None, settings: Settings | None = None
) -> list[Problem]:
    """What ``cs-tui roleplay check`` reports: the given files and folders checked together,
    or, without paths, everything the app would load."""
    if paths:
        missing = [Path(p) for p in paths if not Path(p).expanduser().exists()]
        problems = [Problem(str(p), 1, "no such file or folder") for p in missing]
        present = [p for p in paths if Path(p).expanduser().exists()]
        return problems + _merge([[read_scenario_file(p) for p in toml_files(present)]]).problems
    return load_scenarios(settings).problems


def find_scenario(name: str, settings: Settings | None = None) -> Scenario:
    """A scenario by id, or a path to a scenario file; ScenarioError says what went wrong."""
    looks_like_path = name.endswith(".toml") or "/" in name or "\\" in name
    if looks_like_path:
        scenario, problems = read_scenario_file(name)
        if scenario is None:
            raise ScenarioError(str(problems[0]) if problems else f"{name}: not a scenario")
        return scenario
    loaded = load_scenarios(settings)
    for scenario in loaded.scenarios:
        if scenario.id == name:
            return scenario
    for problem in loaded.problems:
        if Path(problem.path).stem == name:
            raise ScenarioError(str(problem))
    known = ", ".join(sorted(s.id for s in loaded.scenarios)[:40])
    raise ScenarioError(f"no scenario {name!r} (known: {known})")
