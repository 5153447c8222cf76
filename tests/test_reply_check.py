"""The reply check the composer and `cs-tui reply` share: buck-passing and "I don't know" with
nothing offered, a reply in another language than the customer's, and 你好."""

from __future__ import annotations

import re

import pytest

from cs_tui import compliance
from cs_tui.i18n import current_language, set_language
from cs_tui.reply_check import reply_findings
from cs_tui.roleplay.scoring import element_spans

HAN = re.compile(r"[\u4e00-\u9fff]")

ZH_AVOID = [
    ("不知道", "zh.ignorance"),
    ("我也不清楚", "zh.ignorance"),
    ("不归我管", "zh.not_my_job"),
    ("不是我的问题", "zh.not_my_job"),
    ("这不是我负责的", "zh.not_my_job"),
]
EN_AVOID = [
    ("I don't know", "en.ignorance"),
    ("I have no idea", "en.ignorance"),
    ("not my problem", "en.not_my_job"),
    ("not my department", "en.not_my_job"),
]


@pytest.fixture(params=["zh", "en"])
def ui_lang(request):
    """The findings must not depend on the interface language the agent chose."""
    before = current_language()
    set_language(request.param)
    yield request.param
    set_language(before)


def language_findings(text, customer_lang):
    return [f for f in reply_findings(text, customer_lang) if f.kind == "language"]


@pytest.mark.parametrize(("phrase", "rule"), ZH_AVOID)
@pytest.mark.parametrize("shape", ["{p}", "您好,{p}。", "这个{p},您再等等吧。"])
def test_chinese_buck_passing_and_ignorance_are_flagged_with_a_chinese_suggestion(
    ui_lang, phrase, rule, shape
):
    text = shape.format(p=phrase)
    (finding,) = language_findings(text, "zh")
    assert phrase.endswith(finding.phrase) or finding.phrase == phrase
    assert text[finding.start : finding.end] == finding.phrase
    assert HAN.search(finding.suggestion) and HAN.search(finding.why)
    assert not finding.blocks
    assert rule in {f.rule for f in compliance.check(text)}


@pytest.mark.parametrize(("phrase", "rule"), EN_AVOID)
@pytest.mark.parametrize("shape", ["{p}", "Hello, {p}.", "Sorry, {p}, please wait."])
def test_english_buck_passing_and_ignorance_are_flagged_with_an_english_suggestion(
    ui_lang, phrase, rule, shape
):
    text = shape.format(p=phrase)
    (finding,) = language_findings(text, "en")
    assert finding.phrase.lower() == phrase.lower()
    assert not HAN.search(finding.suggestion) and not HAN.search(finding.why)
    assert finding.suggestion.isascii() and finding.why.isascii()
    assert rule in {f.rule for f in compliance.check(text)}


@pytest.mark.parametrize(
    "text",
    [
        "我也不清楚,我帮您查询一下,请稍等。",
        "不知道您方便提供一下订单号吗?",
        "这不是我负责的,我马上帮您转给售后同事处理。",
        "您不清楚的话没问题,我来帮您核实。",
        "I don't know yet, let me check that for you.",
        "That's not my department, but I'll pass it to the right team for you.",
        "I have no idea why it failed; I will find out and reply within 10 minutes.",
    ],
)
def test_the_same_words_with_an_offer_to_help_pass(text):
    assert language_findings(text, compliance.detect_lang(text)) == []


def test_an_english_reply_to_a_chinese_customer_is_a_warning_and_the_reverse_too():
    (to_zh,) = reply_findings("Your refund will arrive within 24 hours.", "zh")
    assert to_zh.kind == "mismatch" and not to_zh.blocks
    (to_en,) = reply_findings("您的退款会在24小时内到账。", "en")
    assert to_en.kind == "mismatch" and not to_en.blocks
    assert reply_findings("您的退款会在24小时内到账。", "zh") == []


def test_an_english_reply_that_names_a_chinese_customer_is_still_english():
    kinds = [f.kind for f in reply_findings("Hi 王芳, your refund will arrive today.", "zh")]
    assert kinds == ["mismatch"]
    assert reply_findings("您好,您的 iPhone 15 会在今天18点前送达。", "zh") == []


def test_nihao_is_one_finding_and_still_a_greeting():
    (finding,) = reply_findings("你好", "zh")
    assert (finding.kind, finding.phrase, finding.suggestion) == ("language", "你", "您")
    assert compliance.scorecard("你好")["elements"]["greeting"]
    assert "greeting" in {span.element for span in element_spans("你好")}
