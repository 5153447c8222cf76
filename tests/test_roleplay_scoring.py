"""The scorecard on hand-written transcripts; every expected score is worked out in the test.

Times are explicit (seconds after T0), so response times are exact and nothing is timed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from cs_tui.roleplay import Line, Rubric, find_scenario, render_markdown, score
from cs_tui.roleplay.scoring import element_spans

T0 = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def c(seconds: float, text: str, turn: str | None = None) -> Line:
    return Line("customer", text, at(seconds), turn)


def a(seconds: float, text: str) -> Line:
    return Line("agent", text, at(seconds))


ANGRY_WEIGHTS = {
    "first_response": 10,
    "next_response": 20,
    "compliant_language": 20,
    "greeting": 10,
    "confirm": 10,
    "empathy": 10,
    "time_commitment": 10,
    "closing": 10,
}

ANGRY = [
    c(0, "我的快递三天了还没到,气死我了!"),  # 0
    a(20, "您好,非常理解您的心情。您的意思是包裹还没到,对吗?我马上帮您核实。"),  # 1
    c(50, "快点"),  # 2
    a(140, "快递今天18点之前送达。"),  # 3
    c(150, "你们太慢了"),  # 4
    a(170, "这是物流的问题,你找物流吧"),  # 5
    a(200, "请问还有什么可以帮您的吗?"),  # 6
]


def items(card) -> dict[str, tuple[bool, float]]:
    return {i.criterion: (i.passed, i.points) for i in card.items}


def test_angry_customer_transcript_scored_by_hand():
    card = score(ANGRY, Rubric(weights=ANGRY_WEIGHTS, lang="zh", emotion="angry"))
    # Response times: 20 s (first, target 30: in time), 90 s (late), 20 s (in time).
    assert [round(t.seconds) for t in card.response_times] == [20, 90, 20]
    # first_response 10; next_response 20 * 1/2 = 10; 3 of 4 replies clean: 20 * 3/4 = 15;
    # greeting, confirm, empathy, time commitment, closing: 10 each = 50.
    assert items(card) == {
        "first_response": (True, 10.0),
        "next_response": (False, 10.0),
        "compliant_language": (False, 15.0),
        "greeting": (True, 10.0),
        "confirm": (True, 10.0),
        "empathy": (True, 10.0),
        "time_commitment": (True, 10.0),
        "closing": (True, 10.0),
    }
    assert card.total == 85.0
    assert card.max_points == 100.0
    assert card.compliant_rate == 0.75


def test_evidence_points_at_the_message_and_the_span():
    card = score(ANGRY, Rubric(weights=ANGRY_WEIGHTS, lang="zh", emotion="angry"))
    language = card.item("compliant_language")
    spans = {(e.message, e.start, e.end, e.text) for e in language.evidence}
    assert (5, 0, 7, "这是物流的问题") in spans
    assert (5, 8, 9, "你") in spans
    assert all("→" in e.note for e in language.evidence)  # reason and what to say instead
    late = card.item("next_response").evidence
    assert [(e.message, e.note) for e in late] == [(3, "90秒(目标60秒)")]
    greeting = card.item("greeting").evidence[0]
    assert (greeting.message, greeting.start, greeting.end, greeting.text) == (1, 0, 2, "您好")
    time = card.item("time_commitment").evidence[0]
    assert (time.message, time.text) == (3, "今天18点之前")
    empathy = card.item("empathy").evidence
    assert [e.message for e in empathy] == [0, 1]  # where the customer was upset, the answer


def test_json_has_the_documented_fields():
    card = score(ANGRY, Rubric(weights=ANGRY_WEIGHTS, lang="zh", emotion="angry")).to_json()
    data = json.loads(json.dumps(card, ensure_ascii=False))
    assert data["total"] == 85.0 and data["max"] == 100.0
    assert data["response_times_s"] == [20.0, 90.0, 20.0]
    assert data["compliant_rate"] == 0.75
    for item in data["items"]:
        assert {"criterion", "passed", "points", "evidence"} <= set(item)
        for ev in item["evidence"]:
            assert {"message", "start", "end", "text"} <= set(ev)


def test_presale_transcript_with_the_default_rubric_drops_what_does_not_apply():
    lines = [
        c(0, "Hi, which laptop is better for office work?"),
        a(
            10,
            "Hello! Just to confirm, do you mean mostly spreadsheets and video calls? "
            "Option 1: the X1 Air, light and quiet. Option 2: the G5, stronger graphics.",
        ),
        a(25, "It can be shipped within 24 hours."),
    ]
    card = score(lines, Rubric.default(category="pre_sale"))
    # Default weights: first 15, next 10, language 20, greeting 10, confirm 10, empathy 10,
    # time 10, options 5, escalation 5, closing 5. Not applicable: next_response (one customer
    # message), empathy (a calm customer), escalation (nothing beyond policy) -> max 75.
    # Earned: 15 + 20 + 10 + 10 + 10 + 5 = 70 (no closing).
    assert card.max_points == 75.0
    assert card.total == 70.0
    assert card.percent == 93.3
    applicable = {i.criterion: i.applicable for i in card.items}
    assert applicable["empathy"] is False
    assert applicable["escalation"] is False
    assert applicable["next_response"] is False
    assert items(card)["options"] == (True, 5.0)
    assert items(card)["closing"] == (False, 0.0)


def test_options_need_two_distinct_numbered_choices():
    def has_options(text: str) -> bool:
        return any(s.element == "options" for s in element_spans(text))

    assert has_options("给您推荐两款:1. 轻薄本,适合办公;2. 游戏本,显卡更强。")
    assert has_options("方案一:退货退款;方案二:换新。")
    assert has_options("Option 1 is light; option 2 has the better screen.")
    assert not has_options("这是一款很好的电脑,推荐您。")
    assert not has_options("Option 1 is what I'd pick.")


def test_escalation_applies_to_a_demand_beyond_policy_and_counts_words_or_the_store():
    lines = [
        c(0, "You sent the wrong item. I want compensation, get me your manager!"),
        a(10, "Hello, I'm sorry for the trouble. Let me look into it."),
    ]
    rubric = Rubric(weights={"escalation": 50, "first_response": 50}, lang="en")
    card = score(lines, rubric)
    escalation = card.item("escalation")
    assert escalation.applicable and not escalation.passed
    assert escalation.evidence[0].text == "compensation"  # why it applies
    # The same words with an escalation pass it...
    passed = score(
        [
            *lines,
            a(20, "I have escalated this to my supervisor, who will call you within 2 hours."),
        ],
        rubric,
    )
    assert items(passed)["escalation"] == (True, 50.0)
    # ...and so does an escalation recorded in the store.
    assert items(score(lines, rubric, escalated_at=at(15)))["escalation"] == (True, 50.0)


def test_a_customer_left_waiting_at_the_end_counts_as_a_late_reply():
    lines = [c(0, "您好,我的退款还没到"), a(10, "您好,我帮您查一下"), c(20, "怎么样了?")]
    rubric = Rubric(weights={"first_response": 50, "next_response": 50}, lang="zh")
    # Ended 30 s after the question: still inside 60 s, so the question is not scored yet.
    early = score(lines, rubric, ended_at=at(50))
    assert early.item("next_response").applicable is False
    assert (early.total, early.max_points) == (50.0, 50.0)
    late = score(lines, rubric, ended_at=at(100))  # 80 s unanswered
    assert items(late)["next_response"] == (False, 0.0)
    assert late.item("next_response").evidence[0].note == "80秒后仍未回复"
    # A closing remark that ends the script is owed no reply.
    done = Rubric(
        weights={"first_response": 50, "next_response": 50},
        lang="zh",
        final_turns=frozenset({"bye"}),
    )
    lines_bye = [*lines[:2], c(20, "好的,谢谢", turn="bye")]
    card = score(lines_bye, done, ended_at=at(500))
    assert card.item("next_response").applicable is False
    assert card.total == 50.0 and card.max_points == 50.0


def test_no_reply_at_all_scores_nothing_and_says_why():
    rubric = Rubric(weights={"first_response": 40, "next_response": 20, "greeting": 40})
    card = score([c(0, "在吗?"), c(40, "人呢?")], rubric, ended_at=at(60))
    assert card.total == 0.0
    assert card.max_points == 100.0  # nothing drops out: every item was owed and missed
    first = card.item("first_response")
    assert first.note == "no reply"
    assert card.compliant_rate is None


def test_a_scenario_rubric_from_a_shipped_file():
    scenario = find_scenario("zh-presale-laptop")
    lines = [
        c(0, scenario.opening, "opening"),
        a(
            12,
            "您好,欢迎光临!请问您是自用还是送礼,主要用来做什么呢?",
        ),
        c(20, "主要办公,偶尔打游戏,经常出差。", "needs"),
        a(
            50,
            "您的意思是轻薄便携更重要,对吗?给您推荐两款:1. 轻薄办公本,续航12小时;"
            "2. 性能本,显卡更强但更重。今天下单48小时内发货。如有问题欢迎随时联系。",
        ),
    ]
    card = score(lines, Rubric.for_scenario(scenario))
    # Weights: first 15, next 10, language 20, greeting 10, confirm 10, time 5, options 25,
    # closing 5. Every reply in time (12 s; 30 s < 60 s), clean, and every element present.
    assert card.total == 100.0 and card.max_points == 100.0
    # Oversell instead of options: options 0, and 1 of 2 replies has a phrase to avoid.
    bad = [*lines[:3], a(50, "最贵的那款肯定最好,一分钱一分货。")]
    card = score(bad, Rubric.for_scenario(scenario))
    # 15 + 10 + 20*1/2 + 10 + 0 (confirm) + 0 (time) + 0 (options) + 0 (closing) = 45
    assert card.total == 45.0


def test_markdown_lists_items_evidence_and_response_times():
    card = score(ANGRY, Rubric(weights=ANGRY_WEIGHTS, lang="zh", emotion="angry"))
    md = render_markdown(card.to_json())
    assert "**总分: 85 / 100** (85 %)" in md
    assert "| 用语规范 | 15 / 20 | 未达标" in md
    assert "消息 6 [0:7] “这是物流的问题”" in md
    assert "✗ 后续回复: 90s / 60s (消息 4)" in md
    english = render_markdown(card.to_json(), lang="en")
    assert "| Compliant language | 15 / 20 | missed" in english


@pytest.mark.parametrize("text", ["hello [/] world", "[@click=app.quit]x[/]", "\x1b]52;c;AAAA\x07"])
def test_odd_text_never_breaks_the_scorer(text):
    card = score([c(0, text), a(5, text)], Rubric.default())
    assert card.replies == 1
    assert card.to_json()["items"]


def test_a_missed_element_points_at_the_reply_where_it_was_expected():
    lines = [
        c(0, "My parcel is three days late, this is ridiculous!"),  # 0
        a(15, "Let me check the tracking."),  # 1: no greeting, no empathy
        c(30, "And? I want compensation."),  # 2
        a(50, "It is in the depot."),  # 3: no hand-over, no time, no closing
    ]
    rubric = Rubric(
        weights={
            "greeting": 20,
            "confirm": 10,
            "empathy": 20,
            "time_commitment": 20,
            "escalation": 10,
            "closing": 20,
        },
        lang="en",
        emotion="angry",
        beyond_policy=None,
    )
    card = score(lines, rubric)
    pointed = {
        i.criterion: [(e.message, e.note) for e in i.evidence if e.note == "expected in this reply"]
        for i in card.items
    }
    assert pointed == {
        "greeting": [(1, "expected in this reply")],  # the first reply
        "confirm": [(1, "expected in this reply")],
        "empathy": [(1, "expected in this reply")],  # the first reply after the anger
        "time_commitment": [(3, "expected in this reply")],  # the last reply
        "escalation": [(3, "expected in this reply")],  # the first reply after the demand
        "closing": [(3, "expected in this reply")],
    }
    assert card.item("greeting").evidence[0].text == "Let me check the tracking."
    md = render_markdown(card.to_json())
    assert "- **Greeting**: message 2 “Let me check the tracking.” — expected in this reply" in md
    # Found elements keep their span as evidence, and nothing is pointed at.
    good = score([c(0, "hi"), a(5, "Hello! Anything else I can help with?")], rubric)
    assert all(e.note != "expected in this reply" for e in good.item("greeting").evidence)
