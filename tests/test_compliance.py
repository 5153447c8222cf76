"""Language checks: the phrases to avoid are flagged, polite replies are left alone."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_tui import compliance
from cs_tui.compliance import RulesError, check, elements, parse_rules, scorecard

POLITE = [
    "您好，请问有什么可以帮您？",
    "请稍等，我帮您核实一下。",
    "非常抱歉给您带来不便，您的退款已经成功，会在24小时内到账。",
    "我理解您的心情，我来帮您联系物流核实。",
    "您的意思是商品有破损，希望换货，对吗？",
    "感谢您的耐心等待，祝您生活愉快！",
    "根据平台规则，我们无法为已激活的商品办理无理由退货，但可以为您提供免费检测，您看可以吗？",
    "这款商品暂时缺货，预计下周三补货，需要我为您登记到货提醒吗？",
    "请问您是自己用还是送礼呢？",
    "给您推荐两款：A款更轻，B款续航更长，您更看重哪一点？",
    "麻烦您提供一下订单号，我马上帮您查询。",
    "打开APP-我的-订单-查看详情，就能看到订单号。",
    "我已将问题反馈至售后团队，会在2小时内给您回复。",
    "请问您对这次的解决方案满意吗？",
    "Hello, how can I help you today?",
    "One moment, let me check that for you.",
    "I'm sorry for the delay; your refund will arrive within 24 hours.",
    "I understand how frustrating this is. I'll contact the courier for you.",
    "If I understand correctly, the item arrived damaged. Is that right?",
    "Is there anything else I can help you with? Have a great day!",
    "Unfortunately we can't accept a no-reason return for an activated phone, but we can offer a free repair.",
    "Could you share your order number, please?",
    "Thank you for your patience. I've passed this to our billing team, and they will reply within 2 hours.",
    "Here are three options: A is lighter, B lasts longer, C is the best value.",
]


@pytest.mark.parametrize("text", POLITE)
def test_polite_replies_have_no_findings(text):
    assert check(text) == []


def rules_of(text, lang=None):
    return {f.rule for f in check(text, lang)}


def test_buck_passing_and_informal_you():
    findings = check("这是物流的问题,你找物流吧")
    assert {"zh.buck_passing", "zh.informal_you"} <= {f.rule for f in findings}
    you = next(f for f in findings if f.rule == "zh.informal_you")
    assert you.text == "你" and you.suggestion == "您"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("不行，这个退不了。", "zh.bare_refusal"),
        ("这点小事也值得生气?", "zh.sarcasm"),
        ("您肯定是没查清楚", "zh.presumption"),
        ("没关系，别生气", "zh.dismissive"),
        ("规则就是这样", "zh.rigid_rule"),
        ("根据平台规则，您的问题无法解决", "zh.rigid_template"),
        ("我帮您申请额外赔偿", "zh.over_promise"),
        ("退款可能会到账", "zh.vague_commitment"),
        ("这款最贵，肯定最好", "zh.over_selling"),
        ("No, we can't do that.", "en.bare_refusal"),
        ("Is it really worth getting angry over this?", "en.sarcasm"),
        ("That's not our problem, you need to contact the courier.", "en.buck_passing"),
        ("You obviously didn't check the page.", "en.presumption"),
        ("Calm down, please.", "en.dismissive"),
        ("Those are the rules.", "en.rigid_rule"),
        ("I'll get you extra compensation.", "en.over_promise"),
        ("Your refund might arrive next week.", "en.vague_commitment"),
        ("The most expensive one is definitely the best.", "en.over_selling"),
        ("thx, u will get it soon", "en.informal"),
    ],
)
def test_each_phrase_to_avoid_is_flagged(text, rule):
    assert rule in rules_of(text)


def test_findings_carry_reason_suggestion_and_exact_span():
    text = "您好！退款可能会到账。"
    (finding,) = check(text)
    assert text[finding.start : finding.end] == finding.text == "可能会到账"
    assert finding.reason and finding.suggestion
    assert finding.to_json().keys() == {"rule", "start", "end", "text", "reason", "suggestion"}


def test_lang_restricts_rules():
    assert rules_of("你好 calm down", "zh") == {"zh.informal_you"}
    assert rules_of("你好 calm down", "en") == {"en.dismissive"}


def test_elements_of_a_good_reply():
    text = "您好，我理解您的心情。您的意思是包裹还没到，对吗？我会在10分钟内回复您。请问还有其他可以帮您的吗？"
    found = {e.element for e in elements(text)}
    assert found == set(compliance.ELEMENTS)
    card = scorecard(text)
    assert card["score"] == 100.0 and all(card["elements"].values())


def test_elements_in_english():
    text = (
        "Hi Ms Li, I'm so sorry about the delay. Just to confirm, the order is 123, is that right? "
        "I'll update you within 2 hours. Is there anything else I can help with?"
    )
    assert {e.element for e in elements(text)} == set(compliance.ELEMENTS)


def test_missing_elements_and_findings_lower_the_score():
    card = scorecard("你自己去找快递")
    assert card["score"] == 0.0
    assert not card["elements"]["greeting"]


def test_broken_rules_files_are_named(tmp_path):
    with pytest.raises(RulesError, match=r"bad\.toml:2: not valid TOML"):
        parse_rules("[[rule]]\nid = \n", "bad.toml")
    rules, problems = parse_rules(
        '[[rule]]\nid = "a"\nlang = "zh"\npattern = "("\nreason = "r"\nsuggestion = "s"\n'
        '[[rule]]\nid = "b"\nlang = "zh"\n',
        "rules.toml",
    )
    assert rules == []
    assert problems[0].startswith("rules.toml:1: rule 'a': bad regular expression")
    assert problems[1].startswith("rules.toml:7: rule is missing pattern")
    with pytest.raises(RulesError, match="cannot read"):
        compliance.load_rules(tmp_path / "missing.toml")


def test_rule_problems_count_headers_toml_sees_not_text_that_looks_like_one():
    text = (
        '[[rule]]\nid = "a"\nlang = "en"\npattern = "no"\nreason = "r"\n'
        'suggestion = """\n[[rule]] is how a rule starts\n"""\n'
        "[[ rule ]]\n"
        'id = "b"\nlang = "fr"\npattern = "x"\nreason = "r"\nsuggestion = "s"\n'
    )
    rules, problems = parse_rules(text, "rules.toml")
    assert [r.id for r in rules] == ["a"]
    assert problems == ["rules.toml:9: rule 'b': lang must be zh or en"]


def test_a_rule_table_that_is_not_an_array_is_named_at_its_header():
    with pytest.raises(RulesError, match=r"^rules\.toml:2: rule must be an array of tables"):
        parse_rules('# rules\n[rule]\nid = "a"\n', "rules.toml")


def test_shipped_rules_cover_the_standards_table():
    ids = {rule.id for rule in compliance.default_rules()}
    for name in (
        "bare_refusal",
        "sarcasm",
        "buck_passing",
        "presumption",
        "dismissive",
        "rigid_rule",
        "rigid_template",
        "over_promise",
        "vague_commitment",
        "over_selling",
    ):
        assert f"zh.{name}" in ids and f"en.{name}" in ids
    assert "zh.informal_you" in ids


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_checks_never_raise_and_spans_lie_inside_the_text(text):
    for finding in check(text):
        assert 0 <= finding.start < finding.end <= len(text)
        assert text[finding.start : finding.end] == finding.text
    for span in elements(text):
        assert 0 <= span.start < span.end <= len(text)
        assert text[span.start : span.end] == span.text


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="你您好不行没关系别生气物流找吧,。!? abcnotcan't", max_size=60))
def test_checks_on_rule_like_text_keep_spans_inside(text):
    for finding in check(text):
        assert text[finding.start : finding.end] == finding.text
