"""Language checks for replies: phrases to avoid, and the elements a good reply has.

``check(text)`` finds the phrases the service standards tell agents to avoid (a bare refusal,
sarcasm, passing the buck ("not my job", "I don't know" with nothing offered), presumption,
dismissing a feeling, rigid rules, promises beyond policy, vague commitments, over-selling, the
informal 你), each with a reason and a suggestion in the rule's own language.
The rules live in ``cs_tui/policy/compliance.toml``; a team can load its own file with
``load_rules(path)``. A rule may carry an ``unless`` pattern: when that matches the same sentence,
the rule stays quiet (a refusal followed by an alternative is not a bare refusal).

``elements(text)`` finds what the training scorecard looks for: greeting, paraphrase-and-confirm,
empathy, a concrete time commitment, closing.

Every span is a (start, end) of the text as given (no normalisation), so a UI can underline it.
Plain functions, standard library only; nothing here raises on odd text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from cs_tui.content import ContentError, KeyLines, Problem, parse_toml

__all__ = [
    "ELEMENTS",
    "ElementSpan",
    "Finding",
    "Rule",
    "RulesError",
    "check",
    "default_rules",
    "detect_lang",
    "elements",
    "load_rules",
    "scorecard",
]

MAX_CHECK_CHARS = 20_000
"""Longer text is checked up to here; a reply longer than this is not a chat reply."""

_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_RE = re.compile(r"[A-Za-z]{2,}")
_SENTENCE_END_RE = re.compile(r"[。！？!?\n]|\.(?=\s|$)")


class RulesError(ValueError):
    """A rules file that cannot be used at all; the message names file:line."""


@dataclass(frozen=True)
class Rule:
    id: str
    lang: str
    pattern: re.Pattern[str]
    reason: str
    suggestion: str
    unless: re.Pattern[str] | None = None
    line: int = 0


@dataclass(frozen=True)
class Finding:
    rule: str
    start: int
    end: int
    text: str
    reason: str
    suggestion: str

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "reason": self.reason,
            "suggestion": self.suggestion,
        }


@dataclass(frozen=True)
class ElementSpan:
    element: str
    start: int
    end: int
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"element": self.element, "start": self.start, "end": self.end, "text": self.text}


# --------------------------------------------------------------------------- rules files


_RULE_FIELDS = ("id", "lang", "pattern", "reason", "suggestion")


def parse_rules(text: str, source: str) -> tuple[list[Rule], list[str]]:
    """Rules from a file's text, and a ``file:line: problem`` for each rule that was left out.

    Raises RulesError only when the file is not TOML at all.
    """
    try:
        data = parse_toml(text, source)
    except ContentError as exc:
        raise RulesError(str(exc)) from None
    lines = KeyLines(text)
    items = data.get("rule", [])
    if not isinstance(items, list):
        raise RulesError(
            str(Problem(source, lines.line("rule"), "rule must be an array of tables [[rule]]"))
        )
    problems: list[str] = []
    rules: list[Rule] = []
    seen: set[str] = set()
    for number, item in enumerate(items):
        line = lines.line("rule", number)
        rule = _parse_rule(item, seen, source, line, problems)
        if rule is not None:
            seen.add(rule.id)
            rules.append(rule)
    return rules, problems


def _parse_rule(
    item: Any, seen: set[str], source: str, line: int | None, problems: list[str]
) -> Rule | None:
    """One [[rule]], or None after adding why it was left out to ``problems``."""

    def problem(message: str) -> Rule | None:
        problems.append(str(Problem(source, line, message)))
        return None

    if not isinstance(item, dict):
        return problem("a [[rule]] must be a table")
    missing = [k for k in _RULE_FIELDS if not item.get(k)]
    if missing:
        return problem(f"rule is missing {', '.join(missing)}")
    if not all(isinstance(item[k], str) for k in _RULE_FIELDS):
        return problem("rule fields must be strings")
    if item["lang"] not in ("zh", "en"):
        return problem(f"rule {item['id']!r}: lang must be zh or en")
    if item["id"] in seen:
        return problem(f"duplicate rule id {item['id']!r}")
    try:
        pattern = re.compile(item["pattern"], re.IGNORECASE)
        unless = item.get("unless")
        unless_re = (
            re.compile(unless, re.IGNORECASE) if isinstance(unless, str) and unless else None
        )
    except re.error as exc:
        return problem(f"rule {item['id']!r}: bad regular expression: {exc}")
    if pattern.match(""):
        return problem(f"rule {item['id']!r}: pattern matches empty text")
    return Rule(
        id=item["id"],
        lang=item["lang"],
        pattern=pattern,
        reason=item["reason"],
        suggestion=item["suggestion"],
        unless=unless_re,
        line=line or 0,
    )


def load_rules(path: str | Path) -> tuple[list[Rule], list[str]]:
    """Rules from a file; RulesError when it cannot be read or parsed at all."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}:1: cannot read rules: {exc}") from None
    return parse_rules(text, str(path))


@lru_cache(maxsize=1)
def default_rules() -> tuple[Rule, ...]:
    """The shipped rules (cs_tui/policy/compliance.toml)."""
    text = (resources.files("cs_tui") / "policy" / "compliance.toml").read_text(encoding="utf-8")
    rules, problems = parse_rules(text, "cs_tui/policy/compliance.toml")
    if problems:  # pragma: no cover - guarded by tests of the shipped file
        raise RulesError("; ".join(problems))
    return tuple(rules)


# --------------------------------------------------------------------------- checking


def detect_lang(text: str) -> str:
    """'zh' when the text holds Chinese characters, else 'en'."""
    return "zh" if _HAN_RE.search(text or "") else "en"


def written_lang(text: str) -> str | None:
    """The language a reply is plainly written in: 'zh' or 'en' by which has more (Chinese
    characters against English words), None when it holds neither (digits, an emoji).

    Counted, not "any Chinese character": an English reply that names the customer (王芳) or
    quotes a Chinese product name is still an English reply, and a Chinese one that names an
    iPhone is still Chinese.
    """
    han = len(_HAN_RE.findall(text))
    words = len(_LATIN_RE.findall(text))
    if not han and not words:
        return None
    return "zh" if han >= words else "en"


def _langs_for(text: str, lang: str | None) -> set[str]:
    if lang in ("zh", "en"):
        return {lang}
    langs = set()
    if _HAN_RE.search(text):
        langs.add("zh")
    if _LATIN_RE.search(text):
        langs.add("en")
    return langs


def _sentence(text: str, start: int, end: int) -> str:
    left = 0
    for match in _SENTENCE_END_RE.finditer(text, 0, start):
        left = match.end()
    stop = _SENTENCE_END_RE.search(text, end)
    return text[left : stop.end() if stop else len(text)]


def check(text: str, lang: str | None = None, rules: Sequence[Rule] | None = None) -> list[Finding]:
    """Phrases to avoid in text, in order of position.

    ``lang`` "zh" or "en" applies that language's rules; None picks them from the text (Chinese
    rules when it has Chinese characters, English rules when it has English words).
    """
    if not isinstance(text, str) or not text:
        return []
    text = text[:MAX_CHECK_CHARS]
    langs = _langs_for(text, lang)
    findings: list[Finding] = []
    for rule in rules if rules is not None else default_rules():
        if rule.lang not in langs:
            continue
        for match in rule.pattern.finditer(text):
            start, end = match.span()
            if start == end:
                continue
            if rule.unless is not None and rule.unless.search(_sentence(text, start, end)):
                continue
            findings.append(
                Finding(rule.id, start, end, text[start:end], rule.reason, rule.suggestion)
            )
    findings.sort(key=lambda f: (f.start, f.end, f.rule))
    return findings


# --------------------------------------------------------------------------- good elements

ELEMENTS = ("greeting", "confirm", "empathy", "time_commitment", "closing")

_NUM = r"(?:\d+(?:\s*[-到至~]\s*\d+)?|[一二两三四五六七八九十半]+)"
_ELEMENT_PATTERNS: dict[str, dict[str, str]] = {
    "greeting": {
        "zh": r"(您|你)好|(早上|上午|中午|下午|晚上)好|欢迎(您)?(光临|咨询|来到)|很高兴为您服务",
        "en": r"\b(hello|hi|hey there|good (morning|afternoon|evening)|welcome)\b"
        r"|\bthanks? (you )?for (contacting|reaching out|getting in touch)",
    },
    "confirm": {
        "zh": r"您的意思是[^。！？!?]*(对吗|是吗|对吧|是这样吗)?|(跟|和|与)您(确认|核对)(一下)?"
        r"|我(再)?(确认|核对)一下|您是说[^。！？!?]*|是这样吗|对吗[？?]",
        "en": r"\bif i understand (you )?(correctly|right)\b|\bjust to (confirm|check|be sure)\b"
        r"|\bso you(?:'d| would)? (mean|prefer|like|want)\b|\bdo you mean\b"
        r"|\bis that (right|correct)\??",
    },
    "empathy": {
        "zh": r"(非常|完全|特别|很)?理解(您|你)(的)?(心情|感受|着急|不满)?|理解您[^。，,！!]{0,8}(心情|感受)"
        r"|(给|让)您(带来|造成)?(了)?(不便|麻烦|困扰)|(非常|十分|真的很|实在)抱歉|让您久等了"
        r"|换作是我|辛苦您了|确实(是)?(我们|让您|给您)",
        "en": r"\bi (completely |totally |fully )?understand\b|\bi(?:'m| am) (so |very |really |truly )?sorry"
        r"|\bsorry (for|about) the (trouble|inconvenience|wait|delay)\b|\bi can (see|hear|imagine) (why|how)"
        r"|\bthat must be (frustrating|annoying|stressful|worrying)\b|\bi apologi[sz]e\b"
        r"|\bwe apologi[sz]e\b|\bin your place\b",
    },
    "time_commitment": {
        "zh": _NUM + r"\s*(个)?(分钟|小时|个?工作日|天|日|周)(之内|以内|内)"
        r"|(今天|今晚|明天|后天|本周[一二三四五六日]?|周[一二三四五六日])\s*(上午|下午|晚上)?\s*"
        r"(\d{1,2}\s*(点|:\d\d))?\s*(之前|以前|前)"
        r"|\d{1,2}月\d{1,2}日(之前|前)?",
        "en": r"\bwithin (\d+|one|two|three|four|five|ten|twenty-four|a few|an?) "
        r"(minutes?|hours?|business days?|working days?|days?|weeks?)\b"
        r"|\bby (today|tonight|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
        r"|\d{1,2}(:\d\d)?\s*(am|pm)?|noon|the end of (the )?(day|week))\b"
        r"|\bin the next \d+ (minutes|hours)\b",
    },
    "closing": {
        "zh": r"(请问)?还有(什么|其他|别的)[^。？?]{0,10}(吗|呢)|祝您[^。！!，,]{0,8}(愉快|顺利|开心)"
        r"|感谢您的(耐心|理解|支持|等待|配合)|欢迎(您)?随时(联系|咨询)|如有(需要|问题)",
        "en": r"\b(is there )?anything else (i can|we can|to)\b|\bhave a (great|nice|good|lovely) "
        r"(day|evening|weekend)\b|\bthank you for your (patience|understanding|time)\b"
        r"|\bfeel free to (contact|reach out|message)\b|\bcontact (me|us) any ?time\b",
    },
}


@lru_cache(maxsize=4)
def _element_res(lang: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple(
        (name, re.compile(_ELEMENT_PATTERNS[name][lang], re.IGNORECASE)) for name in ELEMENTS
    )


def elements(text: str, lang: str | None = None) -> list[ElementSpan]:
    """Spans of the elements of a good reply (see ELEMENTS), in order of position."""
    if not isinstance(text, str) or not text:
        return []
    text = text[:MAX_CHECK_CHARS]
    found: list[ElementSpan] = []
    for code in sorted(_langs_for(text, lang)):
        for name, pattern in _element_res(code):
            for match in pattern.finditer(text):
                start, end = match.span()
                if start < end:
                    found.append(ElementSpan(name, start, end, text[start:end]))
    found.sort(key=lambda e: (e.start, e.end, e.element))
    return found


def scorecard(text: str, lang: str | None = None) -> dict[str, Any]:
    """For the training scorecard: which elements a reply has, and which phrases to avoid it used.

    ``{"elements": {"greeting": True, ...}, "findings": [Finding, ...], "score": 0..100}``: the
    score is the share of elements present, minus 10 per finding, never below 0.
    """
    spans = elements(text, lang)
    present = {name: any(s.element == name for s in spans) for name in ELEMENTS}
    findings = check(text, lang)
    score = 100.0 * sum(present.values()) / len(ELEMENTS) - 10.0 * len(findings)
    return {"elements": present, "findings": findings, "score": max(0.0, round(score, 1))}
