"""Scenario files and the scripted customer: what a trainer writes, and what the customer says.

The engine is pure: transcripts are built by hand with explicit times, so "the customer gets
angrier after 40 s of silence" is checked at 39 s and at 40 s without any clock or sleep.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cs_tui import sentiment
from cs_tui.roleplay import (
    Line,
    check_paths,
    due_turn,
    find_scenario,
    load_scenarios,
    parse_scenario,
    turn_states,
)
from cs_tui.roleplay.engine import customer_done
from cs_tui.roleplay.scenario import ScenarioError

T0 = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


GOOD = """\
title = "Test"
lang = "zh"
channel = "chat"
category = "logistics"
time_limit = "5m"
opening = "我的快递三天了还没到!"

[persona]
name = "王先生"
tier = "vip"
emotion = "angry"

[rubric]
first_response = 50
empathy = 50

[[turn]]
id = "waited"
when = "silence"
seconds = 40
say = "我都等了3天了!"

[[turn]]
id = "when"
when = "reply"
lacks = ["@time_commitment"]
delay = 5
say = "到底什么时候到?"

[[turn]]
id = "thanks"
when = "reply"
contains = ["@time_commitment", "今天"]
ends = true
say = "好的,谢谢。"

[[turn]]
id = "late"
when = "silence"
seconds = 90
say = "还在吗?"
"""


def scenario(text: str = GOOD):
    found, problems = parse_scenario(text, "test.toml", default_id="test")
    assert problems == [], [str(p) for p in problems]
    return found


def problems_of(text: str) -> list[str]:
    found, problems = parse_scenario(text, "s.toml", default_id="s")
    assert found is None
    return [str(p) for p in problems]


def opening(text="我的快递三天了还没到!") -> Line:
    return Line("customer", text, T0, "opening")


# -- the shipped scenarios -----------------------------------------------------------------


def test_shipped_scenarios_load_without_problems_and_cover_the_standards():
    loaded = load_scenarios()
    assert loaded.problems == []
    by_lang = {"zh": [], "en": []}
    for s in loaded.scenarios:
        by_lang[s.lang].append(s.id)
    assert len(by_lang["zh"]) >= 10
    assert len(by_lang["en"]) >= 5
    # STANDARDS.md §8: the ten typical role-play scenarios, each in Chinese.
    topics = [
        "damaged",
        "late-parcel",
        "refund-missing",
        "return-activated",
        "compensation-beyond-policy",
        "presale-laptop",
        "out-of-stock",
        "rude-agent",
        "abusive",
        "outage",
    ]
    for topic in topics:
        assert any(topic in sid for sid in by_lang["zh"]), topic


def test_every_shipped_scenario_is_playable():
    for s in load_scenarios().scenarios:
        assert sum(s.weights.values()) == pytest.approx(100), s.id
        kinds = {t.when for t in s.turns}
        assert kinds == {"reply", "silence"}, s.id  # reacts to replies and to silence
        assert any(t.ends for t in s.turns), f"{s.id}: the customer never finishes"
        assert 1 <= len(s.turns) <= 9
        assert [t.key for t in s.turns] == [str(i) for i in range(1, len(s.turns) + 1)]
        if s.persona.emotion in ("angry", "anxious"):
            # The workstation's emotion cue must agree with the persona from the first line.
            assert sentiment.detect(s.opening).label in ("angry", "anxious"), s.id
        if s.category == "pre_sale":
            assert s.weights.get("options"), s.id
        if s.beyond_policy:
            assert s.weights.get("escalation"), s.id


def test_find_scenario_by_id_and_by_path(tmp_path):
    assert find_scenario("zh-late-parcel").persona.tier == "vip"
    path = tmp_path / "mine.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert find_scenario(str(path)).id == "mine"
    with pytest.raises(ScenarioError, match="no scenario 'nope'"):
        find_scenario("nope")


def test_find_scenario_reports_a_broken_file_with_its_line(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(GOOD.replace('tier = "vip"', 'tier = "gold"'), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        find_scenario(str(path))
    assert str(err.value) == f"{path}:10: [persona]: tier must be one of standard, vip, not 'gold'"


# -- validation: one clear line per problem, with its line ------------------------------------


def test_not_toml_names_the_line():
    assert problems_of('title = "x"\nlang = \n') == ["s.toml:2: not valid TOML: Invalid value"]


def test_problems_point_at_the_offending_line():
    text = GOOD.replace("seconds = 40", 'seconds = "soon"').replace(
        'lacks = ["@time_commitment"]', 'lacks = ["@promise"]'
    )
    assert problems_of(text) == [
        "s.toml:20: seconds: 'soon' is not a duration like 30s, 10m, 2h or 1d",
        "s.toml:26: lacks: unknown element '@promise' (one of: @greeting, @confirm, @empathy, "
        "@time_commitment, @options, @escalation, @closing, @avoid)",
    ]


def test_text_that_looks_like_a_header_inside_a_string_does_not_move_problems():
    brief = 'brief = """\nWhat the trainee reads:\n[[turn]]\n[persona]\ntier = "gold"\n"""\n'
    text = GOOD.replace('opening = "', brief + 'opening = "').replace(
        'tier = "vip"', 'tier = "gold"'
    )
    assert problems_of(text) == [
        "s.toml:16: [persona]: tier must be one of standard, vip, not 'gold'"
    ]
    text = GOOD.replace('opening = "', brief + 'opening = "').replace("seconds = 90", "seconds = 0")
    assert problems_of(text) == ["s.toml:46: turn late: seconds must be > 0"]


def test_a_missing_part_is_reported_without_a_made_up_line():
    text = GOOD.replace('title = "Test"\n', "").split("[rubric]")[0]
    assert problems_of(text) == [
        "s.toml: missing title",
        "s.toml: missing [rubric]",
        "s.toml: missing [[turn]]: a scenario needs scripted turns",
    ]


def test_bad_regex_unknown_key_and_unknown_after():
    text = GOOD.replace('contains = ["@time_commitment", "今天"]', 'contains = ["(今天"]')
    text = text.replace("ends = true", 'ends = true\nafter = "nowhere"\nmood = "x"')
    problems = problems_of(text)
    assert problems[0].startswith("s.toml:33: contains: bad regular expression '(今天'")
    assert "s.toml:36: turn: unknown key 'mood'" in problems
    assert "s.toml:35: turn thanks: after = 'nowhere' must name a turn defined above it" in problems


def test_rubric_must_add_up_to_100_and_fit_the_scenario():
    text = GOOD.replace("empathy = 50", "empathy = 40\noptions = 5")
    assert problems_of(text) == [
        "s.toml:13: rubric weights add up to 95, not 100",
        's.toml:16: options is scored only in pre-sale scenarios (category = "pre_sale")',
    ]
    calm = GOOD.replace('emotion = "angry"', 'emotion = "neutral"')
    assert problems_of(calm) == [
        "s.toml:15: empathy is scored only when the persona is angry or anxious"
    ]


def test_silence_turn_needs_seconds_and_reply_turn_refuses_seconds():
    text = GOOD.replace("seconds = 40\n", "").replace("delay = 5", "seconds = 5")
    assert problems_of(text) == [
        "s.toml:17: turn waited: a silence turn needs seconds",
        "s.toml:26: turn when: seconds is for silence turns; use delay",
    ]


def test_duplicate_turn_ids_and_too_many_turns():
    extra = "".join(
        f'\n[[turn]]\nid = "t{i}"\nwhen = "silence"\nseconds = {100 + i}\nsay = "?"\n'
        for i in range(6)
    )
    problems = problems_of(GOOD.replace('id = "late"', 'id = "when"') + extra)
    assert any("duplicate turn id 'when': also at s.toml:24" in p for p in problems)
    assert any("at most 9 turns" in p for p in problems)


def test_check_paths_reports_each_bad_file_and_keeps_going(tmp_path):
    (tmp_path / "a.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.toml").write_text(GOOD.replace('lang = "zh"', 'lang = "fr"'), "utf-8")
    (tmp_path / "c.toml").write_bytes(b"\xff\xfe not utf-8")
    problems = [str(p) for p in check_paths([tmp_path])]
    assert problems == [
        f"{tmp_path / 'b.toml'}:2: lang must be zh or en, not 'fr'",
        f"{tmp_path / 'c.toml'}:1: not UTF-8 text",
    ]
    assert check_paths([tmp_path / "a.toml"]) == []
    assert [str(p) for p in check_paths([tmp_path / "missing.toml"])] == [
        f"{tmp_path / 'missing.toml'}:1: no such file or folder"
    ]


def test_team_scenarios_override_shipped_ones_by_id(tmp_path):
    (tmp_path / "zh-late-parcel.toml").write_text(GOOD.replace("Test", "Team version"), "utf-8")
    loaded = load_scenarios(extra=[tmp_path])
    ours = [s for s in loaded.scenarios if s.id == "zh-late-parcel"]
    assert [s.title for s in ours] == ["Team version"]


# -- the scripted customer ------------------------------------------------------------------


def test_silence_turn_fires_after_its_seconds_and_only_once():
    s = scenario()
    lines = [opening()]
    assert due_turn(s, lines, at(39.9)) is None
    turn = due_turn(s, lines, at(40))
    assert turn.id == "waited"
    lines.append(Line("customer", turn.say, at(40), "waited"))
    # Still unanswered: the next silence turn counts from when the customer started waiting.
    assert due_turn(s, lines, at(89)) is None
    assert due_turn(s, lines, at(90)).id == "late"
    lines.append(Line("customer", "还在吗?", at(90), "late"))
    assert due_turn(s, lines, at(500)) is None


def test_an_answer_stops_the_silence_clock():
    s = scenario()
    lines = [opening(), Line("agent", "您好,我马上帮您查,今天18点之前给您答复。", at(10))]
    assert due_turn(s, lines, at(200)).id == "thanks"  # the reply turn, not a silence turn


def test_reply_turn_on_what_the_reply_lacks_waits_for_its_delay():
    s = scenario()
    lines = [opening(), Line("agent", "您好,非常理解您的心情。", at(10))]
    assert due_turn(s, lines, at(14)) is None
    assert due_turn(s, lines, at(15)).id == "when"
    # A second reply inside the delay that brings the time commitment changes the answer.
    lines.append(Line("agent", "今天18点之前一定送到。", at(13)))
    assert due_turn(s, lines, at(15)).id == "thanks"


def test_the_customer_answers_a_batch_of_replies_once():
    s = scenario()
    lines = [
        opening(),
        Line("agent", "您好", at(5)),
        Line("customer", "到底什么时候到?", at(10), "when"),
    ]
    # "when" was said: the same replies do not set off another turn.
    assert due_turn(s, lines, at(11)) is None
    lines.append(Line("agent", "我帮您催一下", at(20)))
    assert due_turn(s, lines, at(30)) is None  # "when" is said already; "thanks" needs a time


def test_after_makes_a_turn_wait_for_another():
    text = GOOD.replace('say = "好的,谢谢。"', 'say = "好的,谢谢。"\nafter = "waited"')
    s = scenario(text)
    lines = [opening(), Line("agent", "今天18点之前送到", at(5))]
    states = {st.turn.id: st.state for st in turn_states(s, lines, at(6))}
    assert states["thanks"] == "blocked"
    assert due_turn(s, lines, at(6)) is None


def test_until_retires_a_first_reaction_once_another_turn_was_said():
    text = GOOD.replace('say = "到底什么时候到?"', 'say = "到底什么时候到?"\nuntil = "waited"')
    s = scenario(text)
    lines = [opening(), Line("customer", "我都等了3天了!", at(40), "waited")]
    lines.append(Line("agent", "您好,非常理解您的心情。", at(45)))
    states = {st.turn.id: st.state for st in turn_states(s, lines, at(60))}
    assert states["when"] == "skipped"
    assert due_turn(s, lines, at(60)) is None
    assert problems_of(GOOD.replace("delay = 5", 'delay = 5\nuntil = "nobody"')) == [
        "s.toml:28: turn when: until = 'nobody' names no turn"
    ]


def test_a_turn_that_ends_the_conversation_stops_the_script():
    s = scenario()
    lines = [
        opening(),
        Line("agent", "今天18点之前送到", at(5)),
        Line("customer", "好的,谢谢。", at(6), "thanks"),
    ]
    assert customer_done(s, lines)
    assert due_turn(s, lines, at(1000)) is None
    assert {st.state for st in turn_states(s, lines, at(1000))} == {"said", "done"}


def test_notes_and_system_lines_are_not_talk():
    s = scenario()
    lines = [opening(), Line("note", "稍后回复", at(5)), Line("system", "转接中", at(6))]
    assert due_turn(s, lines, at(40)).id == "waited"


def test_turn_states_tell_the_trainer_what_is_coming():
    s = scenario()
    states = turn_states(s, [opening()], at(30))
    assert [(st.turn.id, st.state, st.due_in_s) for st in states] == [
        ("waited", "soon", 10.0),
        ("when", "waiting", None),
        ("thanks", "waiting", None),
        ("late", "soon", 60.0),
    ]


# -- shipped scripts react the way a trainer expects ---------------------------------------


def play(scenario_id: str, replies: list[tuple[float, str]], until: float = 300) -> list[Line]:
    """Run the script second by second with the agent's replies at the given times."""
    s = find_scenario(scenario_id)
    lines = [Line("customer", s.opening, T0, "opening")]
    pending = sorted(replies)
    for second in range(int(until) + 1):
        now = at(second)
        while pending and pending[0][0] <= second:
            lines.append(Line("agent", pending.pop(0)[1], now))
        turn = due_turn(s, lines, now)
        if turn is not None:
            lines.append(Line("customer", turn.say, now, turn.id))
    return lines


def said(lines: list[Line]) -> list[str]:
    return [line.turn for line in lines if line.turn]


def test_late_parcel_good_agent_gets_a_calm_customer():
    lines = play(
        "zh-late-parcel",
        [
            (
                15,
                "您好,非常理解您的心情。您的意思是包裹超时3天没有更新,对吗?我马上帮您联系快递核实。",
            ),
            (45, "已经核实,包裹在中转站,快递承诺今天18点之前送达。"),
            (70, "如果今天没送到,我们为您补偿20元优惠券。请问还有什么可以帮您的吗?"),
        ],
    )
    assert said(lines) == ["opening", "checking", "promised", "compensated"]


def test_late_parcel_slow_agent_who_passes_the_buck_gets_an_angrier_customer():
    lines = play("zh-late-parcel", [(50, "这是物流的问题,你找物流吧")], until=200)
    assert said(lines) == ["opening", "waited", "buck", "threat"]
    assert lines[1].text == "我都等了3天了!现在问个客服还要等这么久?"
    assert lines[1].at == at(30)


def test_presale_customer_asks_for_options_when_none_are_given():
    lines = play(
        "en-presale-laptop",
        [(10, "Hello! What will you mainly use it for?"), (20, "The X1 is a great laptop.")],
        until=60,
    )
    assert said(lines) == ["opening", "needs", "want-options"]


def test_abusive_customer_calms_down_only_when_handed_to_a_supervisor():
    lines = play(
        "zh-abusive-customer",
        [
            (10, "您好,非常抱歉给您带来不好的体验。我已将您的问题反馈给主管处理。"),
            (20, "主管会在10分钟内给您打电话,请您保持电话畅通。"),
        ],
        until=60,
    )
    assert said(lines) == ["opening", "supervisor", "deadline"]


def test_shipped_scenarios_parse_from_their_files_like_any_team_file():
    folder = Path(__file__).resolve().parents[1] / "cs_tui" / "scenarios"
    assert check_paths([folder]) == []
