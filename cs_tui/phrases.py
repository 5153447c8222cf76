"""Quick-reply phrase packs: load, validate, merge, render.

Packs are TOML files, one ``[pack]`` table and many ``[[phrase]]`` tables::

    [pack]
    lang = "zh"                      # zh | en (default: from the file name, zh-CN.toml -> zh)
    variables = ["store_hotline"]    # optional: extra variables this pack may use

    [[phrase]]
    id = "zh.refund.timing"          # unique; a later pack with the same id overrides it
    shortcut = "tkdz"                # typed in the composer; unique across all packs
    category = "refund"              # one of CATEGORIES
    title = "退款到账时间"
    body = "{customer_name}您好,您的退款已经成功,会在{eta}内原路退回。"
    emotion = "anxious"              # optional: angry | anxious | satisfied | neutral

Three layers, later overriding earlier by id: the packs shipped with cs-tui, the team packs named by
``team_phrases`` in the config (files or folders of ``*.toml``), and the agent's personal packs in
``cs_tui.config.personal_phrase_dir()``. Within one layer an id may appear once; a shortcut may
belong to one phrase id across all layers.

A broken file (not TOML, not UTF-8) is skipped whole and named in ``PhraseLibrary.skipped``; a
phrase with missing or wrong fields is skipped and reported; everything else still loads. Every
problem reads ``file:line: problem``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cs_tui import pinyin_keys
from cs_tui.content import (
    ContentError,
    KeyLines,
    Problem,
    decode_text,
    parse_toml,
    toml_files,
)
from cs_tui.i18n import N_, translate
from cs_tui.placeholders import NAME_RE as _NAME_RE
from cs_tui.placeholders import VARIABLE_RE as _VARIABLE_RE
from cs_tui.placeholders import placeholder_spans

if TYPE_CHECKING:
    from cs_tui.config import Settings
    from cs_tui.search import Entry, Hit, SearchIndex

__all__ = [
    "CATEGORIES",
    "CATEGORY_LABELS",
    "EMOTIONS",
    "KNOWN_VARIABLES",
    "PERSONAL",
    "Phrase",
    "PhraseLibrary",
    "Problem",
    "check_paths",
    "personal_phrase",
    "placeholder_spans",
    "render",
]

CATEGORIES = (
    "greeting",
    "hold",
    "apology",
    "empathy",
    "confirm",
    "closing",
    "escalation",
    "refund",
    "logistics_delay",
    "out_of_stock",
    "presale",
    "recommendation",
    "risk_notice",
    "return_policy",
    "return_window",
    "order_number",
    "follow_up",
    "auto_reply",
    "outage",
    "compensation",
)
"""The quick-reply categories of the service standards, in the order the side panel lists them."""

CATEGORY_LABELS: dict[str, str] = {
    "greeting": N_("Greeting"),
    "hold": N_("Hold"),
    "apology": N_("Apology"),
    "empathy": N_("Empathy"),
    "confirm": N_("Paraphrase & confirm"),
    "closing": N_("Closing"),
    "escalation": N_("Escalation & transfer"),
    "refund": N_("Refund timing"),
    "logistics_delay": N_("Delivery delay"),
    "out_of_stock": N_("Out of stock"),
    "presale": N_("Pre-sale questions"),
    "recommendation": N_("Recommendation"),
    "risk_notice": N_("Risk notice"),
    "return_policy": N_("7-day returns"),
    "return_window": N_("Return window"),
    "order_number": N_("Order number"),
    "follow_up": N_("Follow-up"),
    "auto_reply": N_("Auto-reply menu"),
    "outage": N_("Outage notice"),
    "compensation": N_("Compensation"),
    "personal": N_("My phrases"),
}
"""Category names in English; a phrase shows its own in the language it is written in."""

PERSONAL = "personal"
"""The category of an agent's own phrases kept in the store: not one a pack may use, listed
first in the picker."""

EMOTIONS = ("angry", "anxious", "satisfied", "neutral")
LANGS = ("zh", "en")

KNOWN_VARIABLES: dict[str, str] = {
    "customer_name": "the customer's name",
    "agent_name": "your name as customers see it",
    "shop_name": "the shop or brand",
    "order_id": "order number",
    "product": "product name",
    "eta": "when it will happen (e.g. 24小时 / 24 hours)",
    "date": "a date",
    "amount": "an amount of money",
    "courier": "courier company",
    "tracking_no": "tracking number",
    "coupon": "coupon value",
    "days": "a number of days",
    "hours": "a number of hours",
    "minutes": "a number of minutes",
    "team": "the team a case goes to",
    "phone": "a phone number",
    "reason": "the reason for a delay or outage",
}
"""Variables any pack may use; a pack adds its own in ``[pack] variables``."""

REQUIRED = ("id", "shortcut", "category", "title", "body")
MAX_PACK_BYTES = 2_000_000


@dataclass(frozen=True)
class Phrase:
    id: str
    shortcut: str
    category: str
    title: str
    body: str
    lang: str = "zh"
    emotion: str | None = None
    source: str = ""
    line: int = 0
    """Line of the phrase's [[phrase]] header in its file."""
    layer: str = "shipped"
    shortcut_line: int = 0

    @property
    def variables(self) -> list[str]:
        """Variable names in the body, in order of first use."""
        return list(dict.fromkeys(m.group(1) for m in _VARIABLE_RE.finditer(self.body)))

    @property
    def label(self) -> str:
        label = CATEGORY_LABELS.get(self.category)
        return self.category if label is None else translate(self.lang, label)


# --------------------------------------------------------------------------- rendering


def render(
    text: str | Phrase, variables: Mapping[str, Any] | None = None, *, blank: bool = False
) -> str:
    """Fill ``{name}`` placeholders. Never raises.

    Values that are given and not empty are inserted as plain text (never re-expanded). A missing
    value stays visible as ``{name}`` so the agent sees what to fill in, or becomes "" with
    ``blank=True``. Braces that are not a variable are left alone.
    """
    body = text.body if isinstance(text, Phrase) else str(text)
    values = variables or {}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        value = values.get(name)
        if value is None or value == "":
            return "" if blank and _NAME_RE.match(name) else match.group(0)
        return str(value)

    return _VARIABLE_RE.sub(fill, body)


# --------------------------------------------------------------------------- parsing


@dataclass
class _PackFile:
    path: str
    phrases: list[Phrase] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    broken: str | None = None  # why the whole file was skipped


def _lang_from_name(name: str) -> str | None:
    lower = name.lower()
    if lower.startswith("zh"):
        return "zh"
    if lower.startswith("en"):
        return "en"
    return None


def _broken(path: str, problem: Problem) -> _PackFile:
    """A file skipped whole: its one problem says why."""
    return _PackFile(path, problems=[problem], broken=problem.message)


def parse_pack(
    text: str, path: str, *, layer: str = "shipped", default_lang: str | None = None
) -> _PackFile:
    """Parse one pack's text. Problems are collected, never raised."""
    try:
        data = parse_toml(text, path)
    except ContentError as exc:
        return _broken(path, exc.problem)
    result = _PackFile(path)
    lines = KeyLines(text)
    lang, allowed = _pack_header(data, path, lines, default_lang, result.problems)
    for key in data:
        if key not in ("pack", "phrase"):
            result.problems.append(Problem(path, lines.line(key), f"unknown table or key {key!r}"))
    items = data.get("phrase", [])
    if not isinstance(items, list):
        message = "phrase must be an array of tables [[phrase]]"
        result.problems.append(Problem(path, lines.line("phrase"), message))
        return result
    context = _PackContext(path, lines, lang, layer, allowed, result.problems)
    seen_ids: dict[str, int | None] = {}
    seen_shortcuts: dict[str, int | None] = {}
    for number, item in enumerate(items):
        phrase = _parse_phrase(item, number, context)
        if phrase is None:
            continue
        id_line = lines.line("phrase", number, "id")
        if phrase.id in seen_ids:
            where = Problem(path, seen_ids[phrase.id], "").where
            message = f"duplicate id {phrase.id!r}: also at {where}"
            result.problems.append(Problem(path, id_line, message))
            continue
        key = phrase.shortcut.casefold()
        if key in seen_shortcuts:
            where = Problem(path, seen_shortcuts[key], "").where
            message = f"duplicate shortcut {phrase.shortcut!r}: also at {where}"
            result.problems.append(Problem(path, phrase.shortcut_line or None, message))
            continue
        seen_ids[phrase.id] = id_line
        seen_shortcuts[key] = phrase.shortcut_line or None
        result.phrases.append(phrase)
    return result


def _pack_header(
    data: dict, path: str, lines: KeyLines, default_lang: str | None, problems: list[Problem]
) -> tuple[str, set[str]]:
    """The pack's language and the variables its phrases may use."""
    pack = data.get("pack", {})
    if not isinstance(pack, dict):
        problems.append(Problem(path, lines.line("pack"), "[pack] must be a table"))
        pack = {}
    lang = pack.get("lang", default_lang or "zh")
    if lang not in LANGS:
        problems.append(Problem(path, lines.line("pack", "lang"), f"unknown lang {lang!r}"))
        lang = default_lang or "zh"
    extra = pack.get("variables", [])
    if not isinstance(extra, list) or not all(isinstance(v, str) for v in extra):
        message = "[pack] variables must be a list of names"
        problems.append(Problem(path, lines.near("pack", "variables"), message))
        extra = []
    return lang, set(KNOWN_VARIABLES) | set(extra)


@dataclass(frozen=True)
class _PackContext:
    """What every phrase of one pack is checked against."""

    path: str
    lines: KeyLines
    lang: str
    layer: str
    allowed: set[str]
    problems: list[Problem]


_OPTIONAL = ("emotion", "lang")
_RETIRED = {
    "channel": "channel is no longer used (a phrase is offered on every channel); remove it"
}


def _parse_phrase(item: Any, number: int, ctx: _PackContext) -> Phrase | None:
    start = ctx.lines.near("phrase", number)  # an inline array: its line
    path, problems = ctx.path, ctx.problems

    def line_of(key: str) -> int | None:
        """The key's line; a key the text does not show (a missing one) belongs to the header."""
        return ctx.lines.near("phrase", number, key)

    if not isinstance(item, dict):
        problems.append(Problem(path, start, "a [[phrase]] must be a table"))
        return None
    missing = [key for key in REQUIRED if key not in item]
    if missing:
        problems.append(Problem(path, start, f"phrase is missing {', '.join(missing)}"))
        return None
    ok = True
    for key in REQUIRED:
        value = item[key]
        if not isinstance(value, str) or not value.strip():
            problems.append(Problem(path, line_of(key), f"{key} must be a non-empty string"))
            ok = False
    for key in _OPTIONAL:
        if key in item and not isinstance(item[key], str):
            problems.append(Problem(path, line_of(key), f"{key} must be a string"))
            ok = False
    for key in sorted(set(item) - set(REQUIRED) - set(_OPTIONAL)):
        message = _RETIRED.get(key, f"unknown field {key!r}")
        problems.append(Problem(path, line_of(key), message))
    if not ok:
        return None
    return _checked_phrase(item, start, line_of, ctx)


def _checked_phrase(
    item: dict[str, Any],
    start: int | None,
    line_of: Callable[[str], int | None],
    ctx: _PackContext,
) -> Phrase | None:
    """The cross-field checks of one phrase whose fields have the right types."""
    path, problems = ctx.path, ctx.problems
    shortcut = item["shortcut"].strip()
    if any(c.isspace() for c in shortcut):
        problems.append(Problem(path, line_of("shortcut"), "shortcut must not contain spaces"))
        return None
    category = item["category"].strip()
    if category not in CATEGORIES:
        message = f"unknown category {category!r} (one of: {', '.join(CATEGORIES)})"
        problems.append(Problem(path, line_of("category"), message))
        return None
    emotion = item.get("emotion")
    if emotion is not None and emotion not in EMOTIONS:
        message = f"unknown emotion {emotion!r} ({', '.join(EMOTIONS)})"
        problems.append(Problem(path, line_of("emotion"), message))
        emotion = None
    phrase_lang = item.get("lang", ctx.lang)
    if phrase_lang not in LANGS:
        problems.append(Problem(path, line_of("lang"), f"unknown lang {phrase_lang!r}"))
        phrase_lang = ctx.lang
    body = item["body"]
    for match in _VARIABLE_RE.finditer(body):
        name = match.group(1).strip()
        if name not in ctx.allowed:
            hint = " (declare it in [pack] variables)" if _NAME_RE.match(name) else ""
            message = f"unknown variable {{{match.group(1)}}} in {item['id']!r}{hint}"
            problems.append(Problem(path, line_of("body"), message))
    return Phrase(
        id=item["id"].strip(),
        shortcut=shortcut,
        category=category,
        title=item["title"].strip(),
        body=body.strip(),
        lang=phrase_lang,
        emotion=emotion,
        source=path,
        line=start or 0,
        layer=ctx.layer,
        shortcut_line=line_of("shortcut") or 0,
    )


def read_pack_file(path: Path, *, layer: str) -> _PackFile:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return _broken(str(path), Problem(str(path), 1, f"cannot read: {exc.strerror or exc}"))
    return _parse_bytes(raw, str(path), layer=layer, default_lang=_lang_from_name(path.name))


def _parse_bytes(raw: bytes, path: str, *, layer: str, default_lang: str | None) -> _PackFile:
    try:
        text = decode_text(
            raw,
            path,
            max_bytes=MAX_PACK_BYTES,
            size_text=f"{MAX_PACK_BYTES // 1_000_000} MB",
            what="a TOML pack",
        )
    except ContentError as exc:
        return _broken(path, exc.problem)
    return parse_pack(text, path, layer=layer, default_lang=default_lang)


def shipped_phrase_dir() -> Traversable:
    """Where the shipped packs are.

    They live in the repository's top-level ``phrases/`` so a team edits them without reading
    code; the wheel build maps that folder into the package as ``cs_tui/phrases`` (read through
    importlib.resources, so a zip works too). A checkout or an editable install has no such
    package folder and reads the repository's own.
    """
    packaged = resources.files("cs_tui") / "phrases"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "phrases"


def shipped_pack_files() -> list[_PackFile]:
    """The packs shipped with cs-tui, named ``phrases/<file>`` in problems."""
    folder = shipped_phrase_dir()
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".toml"))
    return [
        _parse_bytes(
            (folder / name).read_bytes(),
            f"phrases/{name}",
            layer="shipped",
            default_lang=_lang_from_name(name),
        )
        for name in names
    ]


# --------------------------------------------------------------------------- the library


@dataclass
class PhraseLibrary:
    """The merged phrases the workstation offers. Build with ``PhraseLibrary.load``."""

    phrases: list[Phrase] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    """Whole files that were skipped, with why: show these to the agent at start-up."""
    _by_id: dict[str, Phrase] = field(default_factory=dict, repr=False)
    _by_shortcut: dict[str, Phrase] = field(default_factory=dict, repr=False)
    _index: SearchIndex | None = field(default=None, repr=False)

    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        *,
        shipped: bool = True,
        team: Sequence[str | Path] | None = None,
        personal: str | Path | None = None,
    ) -> tuple[PhraseLibrary, list[Problem]]:
        """Shipped packs, then team packs (``settings.team_phrases`` unless ``team`` is given),
        then the personal folder (``config.personal_phrase_dir()`` unless ``personal`` is given).

        Returns the library and every problem found; never raises for a bad pack.
        """
        from cs_tui import config

        layers: list[list[_PackFile]] = []
        if shipped:
            layers.append(shipped_pack_files())
        team_paths = team if team is not None else (settings.team_phrases if settings else [])
        if team_paths:
            layers.append([read_pack_file(p, layer="team") for p in toml_files(team_paths)])
        personal_dir = Path(personal) if personal is not None else config.personal_phrase_dir()
        if personal_dir.is_dir():
            layers.append([read_pack_file(p, layer="personal") for p in toml_files([personal_dir])])
        return cls.from_layers(layers)

    @classmethod
    def from_layers(
        cls, layers: Sequence[Sequence[_PackFile]]
    ) -> tuple[PhraseLibrary, list[Problem]]:
        library = cls()
        problems: list[Problem] = []
        order: dict[str, Phrase] = {}
        shortcut_owner: dict[str, Phrase] = {}
        for files in layers:
            layer_ids: dict[str, Phrase] = {}
            for pack in files:
                problems.extend(pack.problems)
                if pack.broken is not None:
                    library.skipped.append(Problem(pack.path, pack.problems[0].line, pack.broken))
                    continue
                for phrase in pack.phrases:
                    earlier = layer_ids.get(phrase.id)
                    if earlier is not None:
                        problems.append(
                            Problem(
                                phrase.source,
                                phrase.line,
                                f"duplicate id {phrase.id!r}: also at {earlier.source}:{earlier.line}",
                            )
                        )
                        continue
                    key = phrase.shortcut.casefold()
                    owner = shortcut_owner.get(key)
                    if owner is not None and owner.id != phrase.id:
                        problems.append(
                            Problem(
                                phrase.source,
                                phrase.shortcut_line or phrase.line,
                                f"duplicate shortcut {phrase.shortcut!r}: also used by "
                                f"{owner.id!r} at {owner.source}:{owner.shortcut_line or owner.line}",
                            )
                        )
                        continue
                    layer_ids[phrase.id] = phrase
                    replaced = order.get(phrase.id)
                    if replaced is not None:
                        old_key = replaced.shortcut.casefold()
                        if shortcut_owner.get(old_key) is replaced:
                            del shortcut_owner[old_key]
                    order[phrase.id] = phrase
                    shortcut_owner[key] = phrase
        library.phrases = list(order.values())
        library._by_id = dict(order)
        library._by_shortcut = {p.shortcut.casefold(): p for p in library.phrases}
        return library, problems

    # -- look-ups for the UI

    def get(self, phrase_id: str) -> Phrase | None:
        return self._by_id.get(phrase_id)

    def by_shortcut(self, shortcut: str) -> Phrase | None:
        return self._by_shortcut.get(shortcut.strip().casefold())

    def for_lang(self, lang: str | None) -> list[Phrase]:
        return [p for p in self.phrases if lang is None or p.lang == lang]

    def by_category(self, lang: str | None = None) -> dict[str, list[Phrase]]:
        """Category -> phrases: the agent's own first, then CATEGORIES order, empty ones left
        out."""
        grouped: dict[str, list[Phrase]] = {c: [] for c in (PERSONAL, *CATEGORIES)}
        for phrase in self.for_lang(lang):
            grouped.setdefault(phrase.category, []).append(phrase)
        return {c: items for c, items in grouped.items() if items}

    def render(self, phrase: Phrase | str, variables: Mapping[str, Any] | None = None) -> str:
        """A phrase (or its id) with variables filled; unknown ids render as ""."""
        if isinstance(phrase, str):
            found = self.get(phrase)
            if found is None:
                return ""
            phrase = found
        return render(phrase, variables)

    def entries(self) -> list[Entry]:
        """Search entries for ``cs_tui.search.SearchIndex``; each hit's payload is the Phrase."""
        from cs_tui.search import Entry

        return [
            Entry(
                id=p.id,
                kind="phrase",
                title=p.title,
                body=p.body,
                shortcut=p.shortcut,
                category=p.category,
                tags=(p.label,) if p.label != p.category else (),
                lang=p.lang,
                keys=pinyin_keys.make_keys([p.title, p.label]),
                payload=p,
            )
            for p in self.phrases
        ]

    def index(self) -> SearchIndex:
        """The search index over these phrases, built on first use (call it from a worker)."""
        if self._index is None:
            from cs_tui.search import SearchIndex

            self._index = SearchIndex.build(self.entries())
        return self._index

    def search(self, query: str, limit: int = 20, **kwargs: Any) -> list[Hit]:
        """Shortcut for ``self.index().search(...)``; hits carry the Phrase as ``entry.payload``."""
        return self.index().search(query, limit, **kwargs)

    def with_phrases(self, extra: Iterable[Phrase]) -> PhraseLibrary:
        """A copy with more phrases (benchmarks, tests); ids already present are replaced."""
        merged = dict(self._by_id)
        for phrase in extra:
            merged[phrase.id] = phrase
        library = PhraseLibrary(list(merged.values()), list(self.skipped))
        library._by_id = merged
        library._by_shortcut = {p.shortcut.casefold(): p for p in merged.values() if p.shortcut}
        return library

    def with_personal(self, phrases: Iterable[Phrase]) -> PhraseLibrary:
        """A copy with the agent's own phrases from the store (see `personal_phrase`). The
        packs keep their shortcuts: an own phrase whose shortcut a pack phrase already has is
        still listed and found by search, without the shortcut."""
        taken = set(self._by_shortcut)
        kept = []
        for phrase in phrases:
            key = phrase.shortcut.casefold()
            if key in taken:
                phrase = replace(phrase, shortcut="")
            elif key:
                taken.add(key)
            kept.append(phrase)
        return self.with_phrases(kept)


def personal_phrase(number: int, title: str, body: str, shortcut: str | None, lang: str) -> Phrase:
    """One of an agent's own phrases kept in the store, as the library holds it."""
    return Phrase(
        id=f"mine.{number}",
        shortcut=shortcut or "",
        category=PERSONAL,
        title=title,
        body=body,
        lang=lang if lang in LANGS else "zh",
        source="store",
        layer="personal",
    )


def check_paths(
    paths: Sequence[str | Path] | None, settings: Settings | None = None
) -> list[Problem]:
    """What ``cs-tui phrases check`` reports.

    With paths: those files (folders expand to their ``*.toml``) checked together as one layer,
    so a repeated id or shortcut among them is a problem. Without: the packs the app would load
    (shipped, team, personal), where a later layer may override an id on purpose.
    """
    if paths:
        files = [read_pack_file(p, layer="checked") for p in toml_files(paths)]
        _, problems = PhraseLibrary.from_layers([files])
        return problems
    _, problems = PhraseLibrary.load(settings)
    return problems
