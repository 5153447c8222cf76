"""Emotion cues: labels, negation, intensity, spans, and phrase ordering."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_tui.phrases import Phrase
from cs_tui.sentiment import detect, order_for_emotion


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("你们这什么破服务，我要投诉！", "angry"),
        ("都等了3天了，怎么还没发货？", "anxious"),
        ("谢谢，问题解决了，很满意", "satisfied"),
        ("我对这次处理不满意", "angry"),
        ("不着急，您慢慢查", "neutral"),
        ("请问这款有黑色吗", "neutral"),
        ("This is ridiculous, the worst service ever", "angry"),
        ("I'm not happy with this at all", "angry"),
        ("Where is my parcel? I need it urgently", "anxious"),
        ("Thanks, that was really helpful", "satisfied"),
        ("no rush, whenever you can", "neutral"),
        ("hello", "neutral"),
        ("", "neutral"),
    ],
)
def test_labels(text, label):
    assert detect(text).label == label


def test_intensity_raises_the_score():
    calm = detect("等了很久，什么时候到")
    loud = detect("都等了3天了，什么时候到！！！")
    assert loud.label == "anxious"
    assert loud.score > calm.score
    assert any(c.text == "！！！" for c in loud.cues)


def test_capitals_and_exclamations_count_in_english():
    assert detect("WHERE IS MY ORDER!!!").score > detect("where is my order").score


def test_cue_spans_point_into_the_text():
    text = "我要投诉你们，太过分了"
    emotion = detect(text)
    assert {text[c.start : c.end] for c in emotion.cues} >= {"投诉", "太过分"}


def test_order_for_emotion_puts_matching_empathy_first():
    phrases = [
        Phrase("g", "g", "greeting", "问候", "您好"),
        Phrase("calm", "c", "empathy", "安抚着急", "我理解您着急", emotion="anxious"),
        Phrase("angry", "a", "empathy", "理解心情", "我非常理解您的心情", emotion="angry"),
        Phrase("sorry", "s", "apology", "致歉", "非常抱歉"),
    ]
    ordered = [p.id for p in order_for_emotion(phrases, detect("气死了，我要投诉"))]
    assert ordered[0] == "angry"
    assert ordered.index("sorry") < ordered.index("g")
    assert [p.id for p in order_for_emotion(phrases, "neutral")] == ["g", "calm", "angry", "sorry"]
    assert [p.id for p in order_for_emotion(phrases, "anxious")][0] == "calm"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_detect_never_raises_and_spans_lie_inside(text):
    emotion = detect(text)
    assert emotion.label in ("angry", "anxious", "satisfied", "neutral")
    assert 0.0 <= emotion.score <= 1.0
    for cue in emotion.cues:
        assert 0 <= cue.start < cue.end <= len(text)
        assert text[cue.start : cue.end] == cue.text
