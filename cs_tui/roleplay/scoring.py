"""The scorecard: one rubric for role-play sessions, transcripts and real conversations.

Items (``CRITERIA``), each worth the rubric's weight:

- **first_response**: the agent's first reply came within the first-reply target (30 s) of the
  customer's first message. All or nothing.
- **next_response**: every later reply came within the next-reply target (60 s). Measured from
  the first customer message the reply answers, i.e. how long the customer really waited (the
  queue's countdown restarts with each message; a trainee should not gain from a customer who
  writes twice). A customer still waiting longer than the target when the session ends counts
  as a late reply. Points in proportion to the replies in time; not scored when the customer
  wrote only once.
- **compliant_language**: the share of the agent's replies without a phrase to avoid
  (``cs_tui.compliance.check``); this share is also the scorecard's ``compliant_rate``. Points
  in proportion; every finding is evidence.
- **greeting** (in the first reply), **confirm**, **time_commitment**, **closing** (in any
  reply): the elements of a good reply as ``cs_tui.compliance.elements`` finds them.
- **empathy**: a reply after the customer first showed anger or anxiety acknowledges the
  feeling. Scored only when the customer is angry or anxious (the persona's emotion, or, for a
  conversation without a scenario, what ``cs_tui.sentiment`` reads in the customer's messages).
- **options**: one reply offers 2-3 numbered options. Scored only in pre-sale conversations.
- **escalation**: the agent hands the case on (says so, or the conversation was escalated).
  Scored only when the request is beyond policy (the scenario says so, or the customer demands
  compensation or a supervisor).

An item missed because something was never said points at the reply where it was expected: the
greeting and the paraphrase in the first reply, the closing and the time commitment in the
last, the empathy in the first reply after the customer was upset, the options in the first
reply, the hand-over in the first reply after the demand.

Items that do not apply drop out of ``max``; a scenario's weights add up to 100, so a played
scenario is scored out of 100. Every item carries its evidence: the message (its index in the
transcript and its store id or file line) and the span of text that decided it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from cs_tui import compliance, sentiment
from cs_tui.i18n import N_, translate
from cs_tui.roleplay.scenario import (
    CRITERIA,
    DEFAULT_WEIGHTS,
    FIRST_REPLY_S,
    NEXT_REPLY_S,
    Scenario,
    criterion_label,
)
from cs_tui.roleplay.transcript import Line

__all__ = [
    "Evidence",
    "Item",
    "ResponseTime",
    "Rubric",
    "Scorecard",
    "element_spans",
    "has_element",
    "render_markdown",
    "score",
]

UPSET = ("angry", "anxious")
EXCERPT = 80

# -- elements the compliance module does not cover: options, escalation, beyond-policy demands

_OPTION_MARK = {
    "zh": re.compile(
        r"(?:^|(?<=[\s，,。；;：:！!？?、]))(?:选项|选择|推荐)?"
        r"(?:(?P<num>[1-3１-３一二三])(?:[、.．)）:：]|款|种|个方案)"
        r"|(?P<letter>[ABC])(?:款|型|方案|[、.．)）:：]))"
        r"|第(?P<ord>[一二三])(?:款|种|个|套)|(?P<circ>[①②③])|方案(?P<plan>[一二三1-3ABC])",
        re.MULTILINE,
    ),
    "en": re.compile(
        r"\b(?:option|choice|plan)\s*(?P<num>[1-3]|one|two|three|[abc])\b"
        r"|(?:^|(?<=\s))\(?(?P<list>[1-3])[.)]\s"
        r"|\b(?P<ord>first|second|third)ly\b",
        re.IGNORECASE | re.MULTILINE,
    ),
}
_ORDINAL = {
    "1": 1, "１": 1, "一": 1, "①": 1, "a": 1, "one": 1, "first": 1,
    "2": 2, "２": 2, "二": 2, "②": 2, "b": 2, "two": 2, "second": 2,
    "3": 3, "３": 3, "三": 3, "③": 3, "c": 3, "three": 3, "third": 3,
}  # fmt: skip

_ESCALATION = {
    "zh": re.compile(
        r"(反馈|提交|上报|转交|转接|移交|升级)(给|至|到)?[^。！？!?\n]{0,8}"
        r"(主管|经理|上级|专员|专属客服|相关(的)?(团队|部门)|售后(团队|部门)|技术(团队|部门))"
        r"|升级(处理|给)|(主管|经理|专员)(会|将)(在|于)?[^。！？!?\n]{0,12}(联系|回复|处理|致电)"
        r"|为您申请[^。！？!?\n]{0,10}(特殊|特批|审批)"
    ),
    "en": re.compile(
        r"\bescalat(e|ed|ing)\b|\b(pass|hand|transfer|refer)(ed|ing)? (this|it|you|your case)"
        r"( on| over)? to (a |my |our |the )?(supervisor|manager|specialist|team lead"
        r"|senior|relevant team)\b|\b(supervisor|manager|specialist) (will|is going to)"
        r" (call|contact|reply|get back|review)\b",
        re.IGNORECASE,
    ),
}
_BEYOND_POLICY = {
    "zh": re.compile(
        r"赔偿|补偿|赔我|赔钱|退一赔|[三十]倍|精神损失|找(你们)?(领导|主管|经理|上级)"
        r"|叫(你们)?(领导|主管|经理)|投诉你|12315|消协|工商|律师|起诉"
    ),
    "en": re.compile(
        r"\bcompensat\w*|\b(manager|supervisor|your boss)\b|\blawyer\b|\bsue\b"
        r"|\bconsumer (council|association|protection)\b",
        re.IGNORECASE,
    ),
}


def _langs(text: str, lang: str | None) -> list[str]:
    if lang in ("zh", "en"):
        return [lang]
    return [compliance.detect_lang(text)]


def _option_span(text: str, lang: str | None) -> compliance.ElementSpan | None:
    """Two or more distinct numbered options in one reply, as one span from first to last."""
    for code in _langs(text, lang):
        marks: dict[int, tuple[int, int]] = {}
        for match in _OPTION_MARK[code].finditer(text):
            token = next(g for g in match.groupdict().values() if g)
            number = _ORDINAL.get(token.lower())
            if number is not None and number not in marks:
                marks[number] = match.span()
        if len(marks) >= 2:
            start = min(s for s, _e in marks.values())
            end = max(e for _s, e in marks.values())
            return compliance.ElementSpan("options", start, end, text[start:end])
    return None


def element_spans(text: str, lang: str | None = None) -> list[compliance.ElementSpan]:
    """compliance.elements, plus the two the scorecard adds: options and escalation."""
    spans = list(compliance.elements(text, lang))
    option = _option_span(text, lang)
    if option is not None:
        spans.append(option)
    for code in _langs(text, lang):
        for match in _ESCALATION[code].finditer(text):
            spans.append(
                compliance.ElementSpan("escalation", match.start(), match.end(), match.group())
            )
    spans.sort(key=lambda e: (e.start, e.end, e.element))
    return spans


@lru_cache(maxsize=512)
def _cached_spans(text: str, lang: str | None) -> tuple[compliance.ElementSpan, ...]:
    return tuple(element_spans(text, lang))


@lru_cache(maxsize=512)
def _cached_findings(text: str, lang: str | None) -> tuple[compliance.Finding, ...]:
    return tuple(compliance.check(text, lang))


def has_element(name: str, text: str, lang: str | None = None) -> bool:
    """Whether a reply has this element; ``avoid`` means "uses a phrase to avoid"."""
    if name == "avoid":
        return bool(_cached_findings(text, lang))
    return any(span.element == name for span in _cached_spans(text, lang))


_NOTES: dict[str, str] = {
    "no_customer": N_("no customer message"),
    "no_reply": N_("no reply"),
    "unanswered_after": N_("unanswered after {s}s"),
    "time": N_("{s}s (target {t}s)"),
    "no_later": N_("no later customer message was due an answer"),
    "in_time": N_("{a} of {b} in time (target {t}s)"),
    "clean": N_("{a} of {b} replies without a phrase to avoid"),
    "no_replies": N_("no replies"),
    "no_greeting": N_("no greeting in the first reply"),
    "no_confirm": N_("never paraphrased and confirmed the request"),
    "no_time": N_("no concrete time commitment"),
    "no_closing": N_("no closing"),
    "calm": N_("the customer was not upset"),
    "no_empathy": N_("the customer's feeling was never acknowledged"),
    "upset_here": N_("the customer is upset here"),
    "not_presale": N_("not a pre-sale conversation"),
    "no_options": N_("no reply offered 2-3 numbered options"),
    "within_policy": N_("nothing beyond policy was asked"),
    "not_escalated": N_("the request was not handed on"),
    "escalated_at": N_("escalated in the store at {at}"),
    "beyond_here": N_("the request goes beyond policy"),
    "expected_here": N_("expected in this reply"),
}
"""The notes a scorecard gives, in English; `note()` renders them in the card's language."""


def note(lang: str, key: str, **values: Any) -> str:
    """A scorecard note in the card's language (the conversation's, not the interface's)."""
    return translate(lang, _NOTES[key]).format(**values)


# -- the scorecard --------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    message: int | None
    """Index of the message in the transcript (0-based), or None for evidence about no message."""
    ref: Any = None
    """The store's message id, or the JSONL line number."""
    author: str | None = None
    start: int | None = None
    end: int | None = None
    text: str = ""
    """The span (or an excerpt of the message when the whole message is the evidence)."""
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)  # every field, as named here


@dataclass(frozen=True)
class Item:
    criterion: str
    passed: bool
    points: float
    max_points: float
    applicable: bool = True
    evidence: tuple[Evidence, ...] = ()
    note: str = ""

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "label": criterion_label(self.criterion, lang),
            "applicable": self.applicable,
            "passed": self.passed,
            "points": self.points,
            "max": self.max_points,
            "note": self.note,
            "evidence": [e.to_json() for e in self.evidence],
        }


@dataclass(frozen=True)
class ResponseTime:
    message: int | None
    """The reply (None: the customer was still waiting when the session ended)."""
    waited_from: int
    """The first customer message the reply answers."""
    seconds: float
    target_s: float
    first: bool

    @property
    def in_time(self) -> bool:
        return self.message is not None and self.seconds <= self.target_s


@dataclass(frozen=True)
class Rubric:
    """What a transcript is scored against: a scenario's, or the default audit rubric."""

    weights: dict[str, float]
    lang: str | None = None
    category: str | None = None
    emotion: str | None = None
    """The customer's emotion when known (a scenario's persona); None: read from the messages."""
    beyond_policy: bool | None = None
    """Whether the request is beyond policy; None: read from the customer's messages."""
    first_reply_s: float = FIRST_REPLY_S
    next_reply_s: float = NEXT_REPLY_S
    scenario_id: str | None = None
    title: str = ""
    final_turns: frozenset[str] = frozenset()
    """Scripted turns after which the customer is done: such a message is owed no reply."""

    @classmethod
    def for_scenario(cls, scenario: Scenario) -> Rubric:
        return cls(
            weights=dict(scenario.weights),
            lang=scenario.lang,
            category=scenario.category,
            emotion=scenario.persona.emotion,
            beyond_policy=scenario.beyond_policy,
            first_reply_s=scenario.first_reply_s,
            next_reply_s=scenario.next_reply_s,
            scenario_id=scenario.id,
            title=scenario.title,
            final_turns=frozenset(t.id for t in scenario.turns if t.ends),
        )

    @classmethod
    def default(
        cls, *, category: str | None = None, lang: str | None = None, title: str = ""
    ) -> Rubric:
        return cls(weights=dict(DEFAULT_WEIGHTS), lang=lang, category=category, title=title)


@dataclass(frozen=True)
class Scorecard:
    items: tuple[Item, ...]
    total: float
    max_points: float
    response_times: tuple[ResponseTime, ...]
    compliant_rate: float | None
    replies: int
    lang: str = "en"
    scenario_id: str | None = None
    title: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    """Who, when, which session: filled in by whoever has that context."""

    @property
    def percent(self) -> float:
        return round(100.0 * self.total / self.max_points, 1) if self.max_points else 0.0

    def item(self, criterion: str) -> Item | None:
        for item in self.items:
            if item.criterion == criterion:
                return item
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario_id,
            "title": self.title,
            "lang": self.lang,
            "total": self.total,
            "max": self.max_points,
            "percent": self.percent,
            "items": [item.to_json(self.lang) for item in self.items],
            "response_times_s": [
                round(r.seconds, 1) for r in self.response_times if r.message is not None
            ],
            "response_times": [
                {
                    "message": r.message,
                    "answers": r.waited_from,
                    "seconds": round(r.seconds, 1),
                    "target_s": r.target_s,
                    "in_time": r.in_time,
                    "first": r.first,
                    "answered": r.message is not None,
                }
                for r in self.response_times
            ],
            "compliant_rate": self.compliant_rate,
            "replies": self.replies,
            **({"info": self.info} if self.info else {}),
        }

    def to_markdown(self) -> str:
        return render_markdown(self.to_json())


def _excerpt(text: str, limit: int = EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _secs(seconds: float) -> str:
    return f"{round(seconds, 1):g}"


def _points(weight: float, share: float) -> float:
    return round(weight * share, 1)


def score(
    lines: Sequence[Line],
    rubric: Rubric,
    *,
    ended_at: datetime | None = None,
    escalated_at: datetime | None = None,
) -> Scorecard:
    """Score a transcript. ``ended_at``: when the session ended (a customer still waiting then
    counts against the reply targets); ``escalated_at``: when the conversation was escalated in
    the store, which counts as escalation."""
    indexed = sorted(
        ((i, line) for i, line in enumerate(lines) if line.author in ("customer", "agent")),
        key=lambda pair: pair[1].at,
    )
    customer = [(i, line) for i, line in indexed if line.author == "customer"]
    replies = [(i, line) for i, line in indexed if line.author == "agent"]
    lang = rubric.lang or compliance.detect_lang(" ".join(line.text for _i, line in replies[:5]))
    scorer = _Scorer(rubric, lang, indexed, customer, replies, ended_at, escalated_at)
    items = []
    for criterion in CRITERIA:
        weight = float(rubric.weights.get(criterion, 0) or 0)
        if weight <= 0:
            continue
        items.append(getattr(scorer, criterion)(weight))
    total = round(sum(item.points for item in items), 1)
    max_points = round(sum(item.max_points for item in items if item.applicable), 1)
    return Scorecard(
        items=tuple(items),
        total=total,
        max_points=max_points,
        response_times=tuple(scorer.times),
        compliant_rate=scorer.rate,
        replies=len(replies),
        lang=lang,
        scenario_id=rubric.scenario_id,
        title=rubric.title,
    )


_Indexed = list[tuple[int, Line]]
"""Lines with their place in the transcript as given (evidence names messages by it)."""


@dataclass
class _Scorer:
    """One scoring pass: the lines by author, and what several items read (response times,
    findings per reply, the compliant rate), computed once."""

    rubric: Rubric
    lang: str
    indexed: _Indexed
    customer: _Indexed
    replies: _Indexed
    ended_at: datetime | None
    escalated_at: datetime | None
    times: list[ResponseTime] = field(init=False)
    findings: list[tuple[int, Line, tuple[compliance.Finding, ...]]] = field(init=False)
    rate: float | None = field(init=False)

    def __post_init__(self) -> None:
        self.times = self._response_times()
        self.findings = [
            (i, line, _cached_findings(line.text, self.lang)) for i, line in self.replies
        ]
        clean = sum(1 for _i, _line, found in self.findings if not found)
        self.rate = round(clean / len(self.replies), 4) if self.replies else None

    def _t(self, key: str, **values: Any) -> str:
        return note(self.lang, key, **values)

    # -- helpers --------------------------------------------------------------------------

    def _response_times(self) -> list[ResponseTime]:
        times: list[ResponseTime] = []
        waiting: tuple[int, datetime] | None = None
        agent_seen = False
        final = False
        for i, line in self.indexed:
            if line.author == "customer":
                if waiting is None:
                    waiting = (i, line.at)
                    final = line.turn in self.rubric.final_turns
                continue
            if waiting is not None:
                first = not agent_seen
                target = self.rubric.first_reply_s if first else self.rubric.next_reply_s
                seconds = max(0.0, (line.at - waiting[1]).total_seconds())
                times.append(ResponseTime(i, waiting[0], seconds, target, first))
                waiting = None
            agent_seen = True
        if waiting is not None and self.ended_at is not None and not final:
            first = not agent_seen
            target = self.rubric.first_reply_s if first else self.rubric.next_reply_s
            seconds = max(0.0, (self.ended_at - waiting[1]).total_seconds())
            if seconds > target or first:
                times.append(ResponseTime(None, waiting[0], seconds, target, first))
        return times

    def _line(self, index: int) -> Line:
        for i, line in self.indexed:
            if i == index:
                return line
        raise KeyError(index)

    def _message_evidence(self, index: int, note: str = "") -> Evidence:
        line = self._line(index)
        return Evidence(index, line.ref, line.author, None, None, _excerpt(line.text), note)

    def _span_evidence(
        self, index: int, span: compliance.ElementSpan | compliance.Finding, note: str = ""
    ) -> Evidence:
        """A span of a message as evidence: an element of a good reply, or a phrase to avoid."""
        line = self._line(index)
        return Evidence(index, line.ref, line.author, span.start, span.end, span.text, note)

    def _find(
        self, element: str, among: Sequence[tuple[int, Line]]
    ) -> tuple[int, compliance.ElementSpan] | None:
        for i, line in among:
            for span in _cached_spans(line.text, self.lang):
                if span.element == element:
                    return i, span
        return None

    def _element_item(
        self,
        criterion: str,
        weight: float,
        among: Sequence[tuple[int, Line]],
        missing: str,
        expected: tuple[int, Line] | None = None,
    ) -> Item:
        """Passed with the span that has the element, or missed: then the evidence is the
        reply where it was ``expected`` (when there is one), so the trainee can look there."""
        found = self._find(criterion, among)
        if found is None:
            evidence: tuple[Evidence, ...] = ()
            if expected is not None:
                evidence = (self._message_evidence(expected[0], self._t("expected_here")),)
            return Item(criterion, False, 0.0, weight, evidence=evidence, note=missing)
        index, span = found
        return Item(criterion, True, weight, weight, evidence=(self._span_evidence(index, span),))

    def _not_applicable(self, criterion: str, weight: float, note: str) -> Item:
        return Item(criterion, False, 0.0, weight, applicable=False, note=note)

    # -- items ----------------------------------------------------------------------------

    def first_response(self, weight: float) -> Item:
        if not self.customer:
            return self._not_applicable("first_response", weight, self._t("no_customer"))
        first = next((t for t in self.times if t.first), None)
        target = self.rubric.first_reply_s
        if first is None or first.message is None:
            waited = (
                self._t("unanswered_after", s=_secs(first.seconds))
                if first is not None
                else self._t("no_reply")
            )
            evidence = (self._message_evidence(self.customer[0][0], waited),)
            return Item(
                "first_response", False, 0.0, weight, evidence=evidence, note=self._t("no_reply")
            )
        passed = first.in_time
        note = self._t("time", s=_secs(first.seconds), t=_secs(target))
        return Item(
            "first_response",
            passed,
            weight if passed else 0.0,
            weight,
            evidence=(self._message_evidence(first.message, note),),
            note=note,
        )

    def next_response(self, weight: float) -> Item:
        later = [t for t in self.times if not t.first]
        if not self.replies:
            return Item("next_response", False, 0.0, weight, note=self._t("no_replies"))
        if not later:
            return self._not_applicable("next_response", weight, self._t("no_later"))
        in_time = sum(1 for t in later if t.in_time)
        evidence = []
        for t in later:
            if t.message is None:
                evidence.append(
                    self._message_evidence(
                        t.waited_from, self._t("unanswered_after", s=_secs(t.seconds))
                    )
                )
            elif not t.in_time:
                evidence.append(
                    self._message_evidence(
                        t.message, self._t("time", s=_secs(t.seconds), t=_secs(t.target_s))
                    )
                )
        return Item(
            "next_response",
            in_time == len(later),
            _points(weight, in_time / len(later)),
            weight,
            evidence=tuple(evidence),
            note=self._t("in_time", a=in_time, b=len(later), t=_secs(self.rubric.next_reply_s)),
        )

    def compliant_language(self, weight: float) -> Item:
        if not self.replies:
            return Item("compliant_language", False, 0.0, weight, note=self._t("no_replies"))
        evidence = []
        for i, _line, found in self.findings:
            for finding in found:
                evidence.append(
                    self._span_evidence(
                        i, finding, f"{finding.reason} → {finding.suggestion}".strip(" →")
                    )
                )
        clean = sum(1 for _i, _line, found in self.findings if not found)
        return Item(
            "compliant_language",
            clean == len(self.replies),
            _points(weight, clean / len(self.replies)),
            weight,
            evidence=tuple(evidence),
            note=self._t("clean", a=clean, b=len(self.replies)),
        )

    def greeting(self, weight: float) -> Item:
        if not self.replies:
            return Item("greeting", False, 0.0, weight, note=self._t("no_replies"))
        first = self.replies[0]
        return self._element_item(
            "greeting", weight, self.replies[:1], self._t("no_greeting"), first
        )

    def _first_reply(self) -> tuple[int, Line] | None:
        return self.replies[0] if self.replies else None

    def _last_reply(self) -> tuple[int, Line] | None:
        return self.replies[-1] if self.replies else None

    def confirm(self, weight: float) -> Item:
        return self._element_item(
            "confirm", weight, self.replies, self._t("no_confirm"), self._first_reply()
        )

    def time_commitment(self, weight: float) -> Item:
        return self._element_item(
            "time_commitment", weight, self.replies, self._t("no_time"), self._last_reply()
        )

    def closing(self, weight: float) -> Item:
        return self._element_item(
            "closing", weight, self.replies, self._t("no_closing"), self._last_reply()
        )

    def empathy(self, weight: float) -> Item:
        upset_at = None
        if self.rubric.emotion is not None:
            if self.rubric.emotion in UPSET and self.customer:
                upset_at = self.customer[0]
        else:
            for i, line in self.customer:
                if sentiment.detect(line.text).label in UPSET:
                    upset_at = (i, line)
                    break
        if upset_at is None:
            return self._not_applicable("empathy", weight, self._t("calm"))
        after = [(i, line) for i, line in self.replies if line.at >= upset_at[1].at]
        item = self._element_item(
            "empathy", weight, after, self._t("no_empathy"), after[0] if after else None
        )
        return _with_cause(item, self._message_evidence(upset_at[0], self._t("upset_here")))

    def options(self, weight: float) -> Item:
        if self.rubric.category != "pre_sale":
            return self._not_applicable("options", weight, self._t("not_presale"))
        return self._element_item(
            "options", weight, self.replies, self._t("no_options"), self._first_reply()
        )

    def escalation(self, weight: float) -> Item:
        cause = None
        if self.rubric.beyond_policy is None:
            for i, line in self.customer:
                for code in _langs(line.text, None):
                    match = _BEYOND_POLICY[code].search(line.text)
                    if match:
                        span = compliance.ElementSpan("demand", *match.span(), match.group())
                        cause = self._span_evidence(i, span, self._t("beyond_here"))
                        break
                if cause:
                    break
            if cause is None:
                return self._not_applicable("escalation", weight, self._t("within_policy"))
        elif not self.rubric.beyond_policy:
            return self._not_applicable("escalation", weight, self._t("within_policy"))
        asked_at = cause.message if cause is not None and cause.message is not None else -1
        after = [(i, line) for i, line in self.replies if i > asked_at]
        item = self._element_item(
            "escalation",
            weight,
            self.replies,
            self._t("not_escalated"),
            after[0] if after else self._first_reply(),
        )
        if not item.passed and self.escalated_at is not None:  # the store's hand-over counts
            note = self._t("escalated_at", at=self.escalated_at.isoformat())
            item = Item(
                "escalation",
                True,
                weight,
                weight,
                evidence=(Evidence(None, None, None, None, None, "", note),),
            )
        return item if cause is None else _with_cause(item, cause)


def _with_cause(item: Item, cause: Evidence) -> Item:
    """The item with what made it apply (an upset message, a demand) as its first evidence."""
    return replace(item, evidence=(cause, *item.evidence))


# -- rendering ------------------------------------------------------------------------------

_MD = {
    "title": N_("Scorecard"),
    "total": N_("Total"),
    "item": N_("Item"),
    "points": N_("Points"),
    "result": N_("Result"),
    "evidence": N_("Evidence"),
    "times": N_("Response times"),
    "rate": N_("Compliant-language rate"),
    "na": N_("not scored"),
    "pass": N_("passed"),
    "fail": N_("missed"),
    "message": N_("message"),
    "unanswered": N_("unanswered"),
    "first": N_("first reply"),
    "later": N_("later reply"),
}
"""The words of the Markdown scorecard, in English; rendered in the card's language."""


def _md_text(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|").replace("`", "'")


def render_markdown(card: dict[str, Any], lang: str | None = None) -> str:
    """A scorecard (``Scorecard.to_json()``, or one stored with a session) as Markdown."""
    lang = lang or card.get("lang") or "en"
    words = {key: translate(lang, text) for key, text in _MD.items()}
    out = []
    title = card.get("title") or card.get("scenario") or ""
    out.append(f"# {words['title']}" + (f": {_md_text(title)}" if title else ""))
    info = card.get("info") or {}
    keys = ("session", "trainee", "trainer", "agent", "mode", "conversation", "category")
    for key in (*keys, "started_at", "ended_at"):
        if info.get(key) is not None:
            out.append(f"- {key}: {_md_text(info[key])}")
    out.append("")
    out.append(
        f"**{words['total']}: {card.get('total', 0):g} / {card.get('max', 0):g}** "
        f"({card.get('percent', 0):g} %)"
    )
    rate = card.get("compliant_rate")
    if rate is not None:
        out.append(f"{words['rate']}: {rate * 100:.0f} %")
    out.append("")
    out.append(f"| {words['item']} | {words['points']} | {words['result']} |")
    out.append("|---|---:|---|")
    for item in card.get("items", []):
        label = criterion_label(item["criterion"], lang) or item["criterion"]
        if not item.get("applicable", True):
            result = words["na"]
            points = "–"
        else:
            result = words["pass"] if item.get("passed") else words["fail"]
            points = f"{item.get('points', 0):g} / {item.get('max', 0):g}"
        note = f" — {_md_text(item['note'])}" if item.get("note") else ""
        out.append(f"| {label} | {points} | {result}{note} |")
    evidence_lines = []
    for item in card.get("items", []):
        label = criterion_label(item["criterion"], lang) or item["criterion"]
        for ev in item.get("evidence", []):
            where = (
                f"{words['message']} {ev['message'] + 1}" if ev.get("message") is not None else "–"
            )
            span = f" [{ev['start']}:{ev['end']}]" if ev.get("start") is not None else ""
            text = f" “{_md_text(ev['text'])}”" if ev.get("text") else ""
            note = f" — {_md_text(ev['note'])}" if ev.get("note") else ""
            evidence_lines.append(f"- **{label}**: {where}{span}{text}{note}")
    if evidence_lines:
        out.append("")
        out.append(f"## {words['evidence']}")
        out.extend(evidence_lines)
    times = card.get("response_times") or []
    if times:
        out.append("")
        out.append(f"## {words['times']}")
        for t in times:
            kind = words["first"] if t.get("first") else words["later"]
            mark = "✓" if t.get("in_time") else "✗"
            if t.get("answered", True):
                where = f"{words['message']} {t['message'] + 1}"
            else:
                where = words["unanswered"]
            out.append(f"- {mark} {kind}: {t['seconds']:g}s / {t['target_s']:g}s ({where})")
    return "\n".join(out) + "\n"
