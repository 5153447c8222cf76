"""Role-play sessions in the store and the `cs-tui roleplay` / `cs-tui audit` commands.

Store behaviour runs on SQLite and PostgreSQL (the `store` fixture); the commands run through
`cs_tui.cli.main` exactly as the `cs-tui` script does, and both what they print and what the store
holds afterwards are checked.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from cs_tui.cli import main
from cs_tui.data.errors import NotAllowed
from cs_tui.data.store import Store
from cs_tui.data.views import QueueFilter
from cs_tui.roleplay import find_scenario
from cs_tui.roleplay.play import finish, tick, transcript


def cli(capsys, *argv):
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


@pytest.fixture
def team(store):
    return {
        "bob": store.ensure_agent("bob", "Bob"),
        "tina": store.ensure_agent("tina", "Tina", role="trainer"),
        "boss": store.ensure_agent("boss", "Boss", role="supervisor"),
        "alice": store.ensure_agent("alice", "Alice"),
    }


# -- sessions in the store ------------------------------------------------------------------


def test_a_solo_session_is_a_training_conversation_for_the_trainee(store, team, clock):
    scenario = find_scenario("zh-late-parcel")
    session = store.start_session(team["bob"], scenario)
    detail = store.conversation(session.conversation_id)
    assert detail.training is True
    assert detail.row.assignee == "bob"
    assert detail.customer.name == "王先生" and detail.customer.tier == "vip"
    assert [m.body for m in detail.messages] == [scenario.opening]
    # Out of the normal queue (and so of the team's work), in the training queue.
    assert store.queue(team["bob"], QueueFilter(scope="mine")) == []
    training = store.queue(team["bob"], QueueFilter(scope="mine", training=True))
    assert [r.id for r in training] == [session.conversation_id]
    assert [line.turn for line in transcript(store, session.conversation_id)] == ["opening"]


def test_scripted_turns_are_said_once_even_when_two_apps_try(store, team, clock):
    scenario = find_scenario("zh-late-parcel")
    session = store.start_session(team["bob"], scenario)
    clock.advance(30)
    assert tick(store, session, scenario).said == "waited"
    # The same turn again (e.g. from the trainer's screen a moment later) is not stored twice.
    assert store.post_turn(session.conversation_id, "waited", "again") is None
    assert tick(store, session, scenario).said is None
    bodies = [line.text for line in transcript(store, session.conversation_id)]
    assert bodies == [scenario.opening, "我都等了3天了!现在问个客服还要等这么久?"]


def test_tick_reports_the_time_limit(store, team, clock):
    scenario = find_scenario("zh-abusive-customer")  # 6 minutes
    session = store.start_session(team["bob"], scenario)
    store.post_reply(team["bob"], session.conversation_id, "您好")
    clock.advance(359)
    assert tick(store, session, scenario).expired is False
    clock.advance(1)
    assert tick(store, session, scenario).expired is True


def test_live_sessions_are_run_by_trainers_only(store, team):
    scenario = find_scenario("en-late-parcel")
    with pytest.raises(NotAllowed):
        store.start_session(team["bob"], scenario, "live", trainer=team["alice"])
    session = store.start_session(team["bob"], scenario, "live", trainer=team["tina"])
    assert (session.mode, session.trainer, session.trainee) == ("live", "tina", "bob")
    message = store.post_as_customer(team["tina"], session.conversation_id, "Hello?? [/] anyone")
    assert message.author_kind == "customer" and message.body == "Hello?? [/] anyone"
    with pytest.raises(NotAllowed):
        store.post_as_customer(team["alice"], session.conversation_id, "hi")
    # A real conversation cannot be typed into by a trainer posing as the customer.
    real = store.create_conversation(external_id="REAL-1", customer_handle="c1")
    with pytest.raises(NotAllowed):
        store.post_as_customer(team["tina"], real, "hi")
    assert store.open_session_for("bob").id == session.id


def test_finishing_stores_the_scorecard_once_and_closes_the_conversation(store, team, clock):
    scenario = find_scenario("zh-late-parcel")
    session = store.start_session(team["bob"], scenario)
    clock.advance(20)
    store.post_reply(team["bob"], session.conversation_id, "您好,非常理解您的心情。")
    clock.advance(10)
    view, card = finish(store, session, scenario, actor=team["bob"])
    assert view.finished and view.total == card["total"] and view.max_points == card["max"]
    assert card["info"]["trainee"] == "bob"
    # first 15 (20 s) + language 20 + greeting 5 + empathy 15 = 55 of 90 (no later message).
    assert (card["total"], card["max"]) == (55.0, 90.0)
    assert store.queue_row(session.conversation_id).status == "closed"
    # The other side pressing "end" a moment later gets the same card, not a new one.
    clock.advance(60)
    again, card2 = finish(store, session, scenario, actor=team["bob"])
    assert card2 == card and again.ended_at == view.ended_at
    with pytest.raises(NotAllowed):
        store.finish_session(session.id, {}, 0, 0, actor=team["alice"])


def test_sessions_for_lists_oldest_first(store, team, clock):
    scenario = find_scenario("en-refund-missing")
    ids = []
    for total in (40.0, 70.0):
        session = store.start_session(team["bob"], scenario)
        store.finish_session(session.id, {"total": total}, total, 100.0, actor=team["bob"])
        ids.append(session.id)
        clock.advance(3600)
    assert [s.id for s in store.sessions_for("bob")] == ids
    assert [s.percent for s in store.sessions_for("bob")] == [40.0, 70.0]


# -- commands -------------------------------------------------------------------------------


def test_roleplay_check_and_list(capsys, tmp_path):
    rc, out, _err = cli(capsys, "roleplay", "check")
    assert rc == 0 and out.strip() == "all 15 scenarios are valid"
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "x"\nlang = "zh"\nchannel = "fax"\n', encoding="utf-8")
    rc, out, err = cli(capsys, "roleplay", "check", str(bad))
    assert rc == 1
    assert f"{bad}:3: unknown channel 'fax'" in out
    assert "problem(s)" in err
    rc, out, _err = cli(capsys, "roleplay", "list", "--json", "--lang", "en")
    listed = json.loads(out)
    assert len(listed) == 5 and {s["lang"] for s in listed} == {"en"}


TRANSCRIPT = [
    ("customer", "My parcel is three days late and I'm furious!", 0),
    ("agent", "Hello, I'm so sorry for the delay. Let me check with the courier for you.", 20),
    ("customer", "Well?", 40),
    ("agent", "It will arrive by 6 pm today. Is there anything else I can help with?", 70),
]


def write_transcript(path, rows=TRANSCRIPT):
    with path.open("w", encoding="utf-8") as fh:
        for i, (author, text, seconds) in enumerate(rows):
            line = {
                "message_id": f"m{i}",
                "conversation_id": "T1",
                "channel": "chat",
                "customer": "emma",
                "author": author,
                "text": text,
                "sent_at": (
                    datetime(2026, 11, 11, 9, tzinfo=UTC) + timedelta(seconds=seconds)
                ).isoformat(),
            }
            if author == "agent":
                line["agent"] = "bob"
            fh.write(json.dumps(line) + "\n")
    return path


def test_roleplay_score_transcript_json(capsys, tmp_path):
    path = write_transcript(tmp_path / "t.jsonl")
    rc, out, _err = cli(
        capsys, "roleplay", "score", "en-late-parcel", "--transcript", str(path), "--json"
    )
    assert rc == 0
    card = json.loads(out)
    # en-late-parcel: first 15, next 10, language 20, greeting 5, confirm 5, empathy 15,
    # time 20, closing 10. Replies at 20 s and 30 s after the customer, both clean; no confirm.
    assert card["response_times_s"] == [20.0, 30.0]
    assert card["compliant_rate"] == 1.0
    assert (card["total"], card["max"]) == (95.0, 100.0)
    confirm = next(i for i in card["items"] if i["criterion"] == "confirm")
    assert confirm["passed"] is False and confirm["points"] == 0.0


def test_roleplay_score_names_the_bad_line(capsys, tmp_path):
    path = write_transcript(tmp_path / "t.jsonl")
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"message_id": "x"}\n')
    rc, out, err = cli(capsys, "roleplay", "score", "en-late-parcel", "--transcript", str(path))
    assert rc == 2 and out == ""
    assert err.strip() == f"cs-tui: {path}:5: missing field 'conversation_id'"
    rc, _out, err = cli(capsys, "roleplay", "score", "no-such", "--transcript", str(path))
    assert rc == 2 and "no scenario 'no-such'" in err


@pytest.mark.parametrize(
    "poison, why",
    [
        ("[" * 100_000 + "]" * 100_000, "nested deeper than"),
        ('{"n": ' + "9" * 5000 + "}", "digits"),
    ],
)
def test_roleplay_score_names_a_poison_line_without_a_traceback(capsys, tmp_path, poison, why):
    path = write_transcript(tmp_path / "t.jsonl")
    with path.open("a", encoding="utf-8") as fh:
        fh.write(poison + "\n")
    rc, out, err = cli(capsys, "roleplay", "score", "en-late-parcel", "--transcript", str(path))
    assert rc == 2 and out == ""
    assert err.startswith(f"cs-tui: {path}:5: ") and why in err
    assert "Traceback" not in err


def test_audit_a_stored_conversation(capsys, store_url, clock):
    with Store.open(store_url, clock=clock) as store:
        store.ensure_agent("boss", role="supervisor")
        bob = store.ensure_agent("bob")
        store.ensure_agent("alice")
        cid = store.create_conversation(
            external_id="C-9", customer_handle="c9", category="logistics", assignee=bob
        )
        store.post_customer_message(cid, "我的快递三天了还没到,气死我了!")
        clock.advance(25)
        store.post_reply(bob, cid, "您好,非常理解您的心情,我马上帮您核实,今天18点之前给您答复。")
    rc, out, _err = cli(capsys, "--db", store_url, "--agent", "boss", "audit", "C-9", "--json")
    assert rc == 0
    card = json.loads(out)
    # Default rubric; not scored: next_response, options, escalation (max 100-10-5-5 = 80).
    # Earned: first 15 + language 20 + greeting 10 + empathy 10 + time 10 = 65 (no confirm,
    # no closing).
    assert (card["total"], card["max"]) == (65.0, 80.0)
    assert card["response_times_s"] == [25.0]
    rc, _out, err = cli(capsys, "--db", store_url, "--agent", "alice", "audit", "C-9")
    assert rc == 2 and "audit their own" in err
    rc, out, _err = cli(capsys, "--db", store_url, "--agent", "bob", "audit", "C-9")
    assert rc == 0 and "# 评分卡: C-9" in out  # in the language of the conversation


def test_report_and_sessions_with_trend(capsys, store_url, clock):
    scenario = find_scenario("en-refund-missing")
    with Store.open(store_url, clock=clock) as store:
        bob = store.ensure_agent("bob")
        sessions = []
        for reply in ("ok", "Hello, I understand your worry. It will arrive within 24 hours."):
            session = store.start_session(bob, scenario)
            clock.advance(10)
            store.post_reply(bob, session.conversation_id, reply)
            finish(store, session, scenario, actor=bob)
            sessions.append(session.id)
            clock.advance(3600)
    rc, out, _err = cli(
        capsys, "--db", store_url, "--agent", "bob", "roleplay", "report", str(sessions[1]),
        "--format", "json",
    )  # fmt: skip
    assert rc == 0
    card = json.loads(out)
    # first 15 + language 20 + greeting 10 + empathy 10 + time 20 = 75 of 90.
    assert (card["total"], card["max"]) == (75.0, 90.0)
    rc, out, _err = cli(
        capsys, "--db", store_url, "--agent", "bob", "roleplay", "report", str(sessions[0])
    )
    assert "**Total: 35 / 90**" in out  # "ok" in time and clean, nothing else
    rc, out, _err = cli(
        capsys, "--db", store_url, "--agent", "bob", "roleplay", "sessions", "--json"
    )
    listed = json.loads(out)
    assert [s["session"] for s in listed["sessions"]] == sessions
    trend = listed["trend"]
    assert (trend["first"], trend["last"], trend["change"]) == (38.9, 83.3, 44.4)
    rc, out, _err = cli(capsys, "--db", store_url, "--agent", "bob", "roleplay", "sessions")
    assert "trend ▄▇" in out and "(+44.4)" in out
    # Someone else's sessions are for trainers and supervisors.
    rc, _out, err = cli(
        capsys, "--db", store_url, "--agent", "carol", "roleplay", "sessions", "--trainee", "bob"
    )
    assert rc == 2 and "trainers and supervisors" in err
    rc, _out, err = cli(
        capsys, "--db", store_url, "--agent", "carol", "roleplay", "report", str(sessions[0])
    )
    assert rc == 2 and "belongs to another agent" in err
