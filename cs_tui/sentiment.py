"""Emotion cues in customer text: angry, anxious, satisfied or neutral, in Chinese and English.

A small lexicon, not a model: each cue word adds weight to one emotion. A negation just before a
cue flips or cancels it (不满意 and "not happy" count as anger, 不着急 and "no rush" as calm), an
intensifier just before it (太, 非常, "so", "really") multiplies it, and the whole message gains
intensity from repeated !!!/??? , words in capitals, and waiting times (都等了3天了, "waited a
week"). The agent sees the label, a 0..1 strength, and the spans that caused it, so the guess can
be checked at a glance.

``order_for_emotion(phrases, emotion)`` puts the quick replies written for that emotion first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = ["EMOTIONS", "Cue", "Emotion", "detect", "order_for_emotion"]

EMOTIONS = ("angry", "anxious", "satisfied", "neutral")
MAX_TEXT = 20_000

# (pattern, emotion, weight). Chinese cues are matched as substrings, English as words.
_ZH_CUES: list[tuple[str, str, float]] = [
    (r"气死|生气|愤怒|火大|恼火|忍无可忍|太过分|过分了", "angry", 1.4),
    (r"垃圾|骗子|坑人|坑爹|欺骗|恶心|破(东西|玩意|店)|什么破|无良|黑店", "angry", 1.5),
    (r"投诉|差评|举报|曝光|12315|消协|工商", "angry", 1.3),
    (r"敷衍|推卸|态度(太)?差|服务(太)?差|太差|很差|真差|无语|离谱|搞什么|什么态度", "angry", 1.1),
    (r"退钱|给个说法|必须(给我)?(赔|退)|赔偿", "angry", 0.9),
    (r"满意|高兴|开心|放心", "satisfied", 1.0),
    (r"着急|急用|急死|焦急|赶紧|快点|尽快|马上|催", "anxious", 1.1),
    (r"担心|害怕|怕|不安|慌", "anxious", 1.0),
    (
        r"怎么还没|还没(到|收到|发货|退|到账)|到底(什么时候|还要|要等)|什么时候(能|才|可以)?(到|发|退|好)",
        "anxious",
        1.2,
    ),
    (r"谢谢|感谢|多谢|太好了|不错|给力|好评|赞|棒|专业|辛苦(了|您)|解决了", "satisfied", 1.0),
]
_EN_CUES: list[tuple[str, str, float]] = [
    (r"angry|furious|outraged|livid|pissed|mad", "angry", 1.4),
    (r"scam|fraud|rip-?off|liars?|cheat(ed|ing)?|disgusting|garbage|rubbish|trash", "angry", 1.5),
    (
        r"complain(t)?|report you|bad review|one[- ]star|lawyer|consumer (council|association)",
        "angry",
        1.3,
    ),
    (
        r"ridiculous|unacceptable|terrible|awful|worst|useless|pathetic|incompetent|fed up|sick of",
        "angry",
        1.2,
    ),
    (r"refund me now|want my money back", "angry", 0.9),
    (r"happy|pleased|satisfied|glad", "satisfied", 1.0),
    (r"urgent(ly)?|asap|hurry|immediately|right now|rush", "anxious", 1.1),
    (r"worried|anxious|nervous|concerned|scared|afraid|panic(king)?", "anxious", 1.0),
    (
        r"still (waiting|no|not)|when will|where is my|haven'?t (received|got)|not (arrived|received) yet",
        "anxious",
        1.2,
    ),
    (
        r"thanks|thank you|thx|great|perfect|awesome|excellent|appreciate(d)?|helpful|resolved|brilliant|love it",
        "satisfied",
        1.0,
    ),
]

_ZH_NEGATION = re.compile(
    r"(不太|不怎么|不是很|一点也不|一点都不|并不|从不|毫不|没有|没|不|别|无)$"
)
_EN_NEGATION = re.compile(
    r"\b(not|no|never|hardly|isn't|wasn't|aren't|don't|didn't|doesn't|nothing)\s+(\w+\s+)?$", re.I
)
_ZH_INTENSIFIER = re.compile(r"(太|非常|特别|超级|极其|十分|真的|实在|好|很)$")
_EN_INTENSIFIER = re.compile(
    r"\b(so|very|really|extremely|absolutely|totally|completely|super)\s+$", re.I
)

_BANGS = re.compile(r"[!！]{2,}|[?？]{2,}|[!！][?？]|[?？][!！]")
_WAIT_ZH = re.compile(
    r"(都|已经|足足|整整)?等了\s*(\d+|[一二两三四五六七八九十半几]+)\s*(个)?(天|星期|周|个月|小时|钟头)(了)?"
)
_WAIT_EN = re.compile(
    r"\b(waited|waiting|been)\s+(for\s+)?(\d+|a|an|one|two|three|four|five|six|seven|several|a few)\s+"
    r"(days?|weeks?|months?|hours?)\b",
    re.I,
)
_CAPS = re.compile(r"\b[A-Z]{4,}\b")


@dataclass(frozen=True)
class Cue:
    start: int
    end: int
    text: str
    emotion: str
    weight: float
    """Signed contribution after negation and intensity; negated cues carry what they became."""


@dataclass(frozen=True)
class Emotion:
    label: str
    score: float
    """0..1: how strongly the text shows the label (0 for neutral)."""
    cues: tuple[Cue, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "emotion": self.label,
            "score": round(self.score, 2),
            "cues": [
                {"start": c.start, "end": c.end, "text": c.text, "emotion": c.emotion}
                for c in self.cues
            ],
        }


def _compile(
    cues: list[tuple[str, str, float]], words: bool
) -> list[tuple[re.Pattern[str], str, float]]:
    out = []
    for pattern, emotion, weight in cues:
        text = rf"\b(?:{pattern})\b" if words else f"(?:{pattern})"
        out.append((re.compile(text, re.I), emotion, weight))
    return out


_ZH = _compile(_ZH_CUES, words=False)
_EN = _compile(_EN_CUES, words=True)


def _negated_zh(text: str, start: int) -> bool:
    return _ZH_NEGATION.search(text[max(0, start - 4) : start]) is not None


def detect(text: str) -> Emotion:
    """The customer's likely emotion in text. Never raises; empty or odd text is neutral."""
    if not isinstance(text, str) or not text.strip():
        return Emotion("neutral", 0.0)
    text = text[:MAX_TEXT]
    totals = {"angry": 0.0, "anxious": 0.0, "satisfied": 0.0}
    cues: list[Cue] = []
    taken: list[tuple[int, int]] = []

    def overlaps(start: int, end: int) -> bool:
        return any(start < e and s < end for s, e in taken)

    for table, zh in ((_ZH, True), (_EN, False)):
        for pattern, emotion, weight in table:
            for match in pattern.finditer(text):
                start, end = match.span()
                if start == end or overlaps(start, end):
                    continue
                before = text[max(0, start - 24) : start]
                negated = (
                    _negated_zh(text, start) if zh else _EN_NEGATION.search(before) is not None
                )
                intense = (_ZH_INTENSIFIER if zh else _EN_INTENSIFIER).search(
                    text[max(0, start - 3) : start] if zh else before
                )
                value = weight * (1.5 if intense else 1.0)
                label = emotion
                if negated:
                    if emotion == "satisfied":  # 不满意 / not happy: dissatisfaction
                        label, value = "angry", value * 0.8
                    else:  # 不着急 / not worried: the feeling is denied
                        label, value = "neutral", 0.0
                taken.append((start, end))
                cues.append(Cue(start, end, text[start:end], label, round(value, 3)))
                if label in totals:
                    totals[label] += value
    intensity = 1.0
    for pattern, boost in ((_BANGS, 0.35), (_CAPS, 0.25)):
        for match in pattern.finditer(text):
            intensity += boost
            cues.append(Cue(match.start(), match.end(), match.group(), "intensity", boost))
    for pattern in (_WAIT_ZH, _WAIT_EN):
        for match in pattern.finditer(text):
            totals["anxious"] += 0.8
            totals["angry"] += 0.4
            intensity += 0.3
            cues.append(Cue(match.start(), match.end(), match.group(), "anxious", 0.8))
    intensity = min(intensity, 3.0)
    # Intensity strengthens negative feelings; a satisfied customer's "!!" is just enthusiasm.
    totals["angry"] *= intensity
    totals["anxious"] *= intensity
    if totals["angry"] > 0 and totals["satisfied"] > 0:
        totals["satisfied"] *= 0.5  # "thanks for nothing!!" style sarcasm leans negative
    label = max(totals, key=lambda k: totals[k])
    best = totals[label]
    cues.sort(key=lambda c: (c.start, c.end))
    if best < 0.5:
        return Emotion("neutral", 0.0, tuple(cues), totals)
    score = 1.0 - math.exp(-best / 2.0)
    return Emotion(label, round(score, 3), tuple(cues), totals)


T = TypeVar("T")


def order_for_emotion(phrases: Iterable[T], emotion: str | Emotion | None) -> list[T]:
    """Phrases in a good order for a customer in this emotion: phrases written for the emotion
    first (empathy ones before others), then the rest, each group in its original order.

    Works on anything with ``emotion`` and ``category`` attributes (``cs_tui.phrases.Phrase``).
    """
    label = emotion.label if isinstance(emotion, Emotion) else emotion
    items: Sequence[T] = list(phrases)
    if not label or label == "neutral":
        return list(items)

    def rank(pair: tuple[int, T]) -> tuple[int, int]:
        index, phrase = pair
        matches = getattr(phrase, "emotion", None) == label
        empathy = getattr(phrase, "category", None) in ("empathy", "apology")
        if matches and empathy:
            group = 0
        elif matches:
            group = 1
        elif empathy and label in ("angry", "anxious"):
            group = 2
        else:
            group = 3
        return group, index

    return [phrase for _, phrase in sorted(enumerate(items), key=rank)]
