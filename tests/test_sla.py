"""The SLA engine: which clock runs, its deadline and state, with a FakeClock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cs_tui.clock import FakeClock
from cs_tui.durations import format_countdown, parse_duration
from cs_tui.sla import (
    ConversationFacts,
    PolicyError,
    SlaClock,
    SlaState,
    default_policy,
    evaluate,
    load_policy,
    parse_policy,
)

T0 = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)


def facts(**kw) -> ConversationFacts:
    base = dict(channel="chat", category="order", priority="normal", status="new", created_at=T0)
    base.update(kw)
    return ConversationFacts(**base)


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def test_shipped_defaults_are_the_service_standards():
    p = default_policy()
    assert p.target("first_response", "chat", "order", "normal") == 30
    assert p.target("next_response", "chat", "order", "normal") == 60
    assert p.target("first_response", "phone", "order", "normal") == 10
    assert p.target("next_response", "phone", "order", "normal") == 2 * 3600
    assert p.target("assignment", "ticket", "order", "normal") == 24 * 3600
    assert p.target("resolution", "email", "order", "normal") == 48 * 3600
    assert p.target("first_response", "chat", "complaint", "normal") == 10 * 60
    assert p.target("transfer", "chat", "order", "normal") == 5 * 60
    assert p.target("escalation", "chat", "order", "normal") == 30 * 60
    assert p.target("follow_up", "chat", "order", "normal") == 86400
    assert p.target("first_response", "social", "order", "normal") == 30
    assert p.warning_ratio == 0.25


def test_first_response_counts_down_then_warns_then_breaches():
    p = default_policy()
    clock = FakeClock(T0)
    f = facts(first_customer_at=T0, last_customer_at=T0)
    st = evaluate(p, f, clock.now())
    assert (st.clock, st.remaining_s, st.state) == (SlaClock.FIRST_RESPONSE, 30, SlaState.OK)
    clock.advance(22)  # 8 s left: inside the last 25 % (7.5 s)? no: 8 > 7.5
    assert evaluate(p, f, clock.now()).state is SlaState.OK
    clock.advance(1)  # 7 s left
    assert evaluate(p, f, clock.now()).state is SlaState.WARNING
    clock.advance(8)  # -1 s
    st = evaluate(p, f, clock.now())
    assert st.state is SlaState.BREACHED and st.remaining_s == -1


def test_next_response_restarts_with_each_customer_message():
    p = default_policy()
    f = facts(
        status="open",
        assigned=True,
        first_customer_at=T0,
        first_agent_at=T0 + s(10),
        last_agent_at=T0 + s(10),
        last_customer_at=T0 + s(100),
    )
    st = evaluate(p, f, T0 + s(100))
    assert st.clock is SlaClock.NEXT_RESPONSE
    assert st.due_at == T0 + s(160)
    # The agent answered: nothing is owed.
    answered = facts(**{**f.__dict__, "last_agent_at": T0 + s(120)})
    assert evaluate(p, answered, T0 + s(130)).state is SlaState.NONE


def test_late_ingested_older_message_does_not_move_the_clock():
    """A customer message that arrives late but was sent before the agent's reply owes nothing."""
    p = default_policy()
    f = facts(
        status="open",
        first_customer_at=T0 - s(50),
        last_customer_at=T0,
        first_agent_at=T0 + s(20),
        last_agent_at=T0 + s(20),
    )
    assert evaluate(p, f, T0 + s(200)).state is SlaState.NONE


def test_out_of_order_first_customer_message_sets_the_first_response_start():
    p = default_policy()
    # created later than the earliest message (ingested out of order): the clock runs from the message
    f = facts(created_at=T0 + s(40), first_customer_at=T0, last_customer_at=T0 + s(40))
    st = evaluate(p, f, T0 + s(40))
    assert st.due_at == T0 + s(30)
    assert st.state is SlaState.BREACHED


def test_phone_answers_in_ten_seconds_and_complaints_in_ten_minutes():
    p = default_policy()
    assert evaluate(p, facts(channel="phone", first_customer_at=T0), T0).due_at == T0 + s(10)
    assert evaluate(p, facts(category="complaint", first_customer_at=T0), T0).due_at == T0 + s(600)


def test_ticket_assignment_then_resolution():
    p = parse_policy("")  # around the clock; the shipped office hours: tests/test_calendars.py
    f = facts(channel="ticket", first_customer_at=T0, last_customer_at=T0)
    st = evaluate(p, f, T0)
    assert st.clock is SlaClock.ASSIGNMENT and st.due_at == T0 + timedelta(hours=24)
    assigned = facts(
        channel="email",
        assigned=True,
        assigned_at=T0 + s(3600),
        status="open",
        first_customer_at=T0,
        last_customer_at=T0,
    )
    st = evaluate(p, assigned, T0 + s(3600))
    assert st.clock is SlaClock.RESOLUTION and st.due_at == T0 + s(3600) + timedelta(hours=48)


def test_escalation_transfer_and_follow_up_clocks():
    p = default_policy()
    esc = facts(status="escalated", escalated_at=T0, first_agent_at=T0, last_agent_at=T0)
    assert evaluate(p, esc, T0).due_at == T0 + timedelta(minutes=30)
    tr = facts(status="open", transfer_requested_at=T0, first_agent_at=T0, last_agent_at=T0)
    st = evaluate(p, tr, T0)
    assert st.clock is SlaClock.TRANSFER and st.due_at == T0 + timedelta(minutes=5)
    res = facts(status="resolved", resolved_at=T0)
    st = evaluate(p, res, T0)
    assert st.clock is SlaClock.FOLLOW_UP and st.due_at == T0 + timedelta(days=1)
    done = facts(status="resolved", resolved_at=T0, followed_up_at=T0 + s(60))
    assert evaluate(p, done, T0 + s(60)).state is SlaState.NONE


def test_pending_stops_the_clock_and_snooze_pushes_the_deadline():
    p = default_policy()
    pending = facts(status="pending", first_customer_at=T0, pauses=((T0 + s(10), None),))
    st = evaluate(p, pending, T0 + s(500))
    assert st.state is SlaState.PAUSED and st.remaining_s is None
    # Snoozed 10 s into a 30 s first-response clock, until +5 min: 20 s are left after the snooze.
    until = T0 + s(300)
    snoozed = facts(
        status="snoozed", snooze_until=until, first_customer_at=T0, pauses=((T0 + s(10), None),)
    )
    st = evaluate(p, snoozed, T0 + s(100))
    assert st.state is SlaState.PAUSED
    assert st.due_at == until + s(20)
    # A closed pause counts only its length.
    woken = facts(status="open", first_customer_at=T0, pauses=((T0 + s(10), T0 + s(70)),))
    assert evaluate(p, woken, T0 + s(70)).due_at == T0 + s(90)


def test_policy_overrides_layer_by_channel_category_priority_and_rules(tmp_path):
    text = """
warning_ratio = 0.5
[targets]
first_response = "45s"
[channels.social]
first_response = "2m"
[priorities.urgent]
first_response = "15s"
[[override]]
channel = "chat"
category = "payment"
first_response = "20s"
"""
    p = parse_policy(text, "team.toml")
    assert p.target("first_response", "chat", "order", "normal") == 45
    assert p.target("first_response", "social", "order", "normal") == 120
    assert p.target("first_response", "social", "order", "urgent") == 15
    assert p.target("first_response", "chat", "payment", "normal") == 20
    assert p.target("next_response", "chat", "order", "normal") == 60  # untouched default
    assert p.state(30, 60) is SlaState.WARNING


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('[targets]\nfirst_response = "30 parsecs"\n', 2, "first_response"),
        ('[targets]\nfirst_reply = "30s"\n', 2, "unknown clock"),
        ("warning_ratio = 2\n", 1, "warning_ratio"),
        ('[channels.fax]\nfirst_response = "1m"\n', 1, "unknown channel"),
        ("[targets\nx = 1\n", 1, "not valid TOML"),
        ('\n\n[[override]]\nchannel = "pigeon"\n', 4, "unknown channel"),
    ],
)
def test_bad_policy_files_name_file_and_line(text, line, words):
    with pytest.raises(PolicyError) as err:
        parse_policy(text, "team.toml")
    msg = str(err.value)
    assert msg.startswith(f"team.toml:{line}:"), msg
    assert words in msg


def test_unreadable_policy_file_is_one_clear_line(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(PolicyError, match=r"nope.toml:1: cannot read"):
        load_policy(missing)
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy(binary)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (27, "0:27"),
        (65, "1:05"),
        (3910, "1:05:10"),
        (2 * 86400 + 5, "2d"),
        (-90, "-1:30"),
        (0, "0:00"),
    ],
)
def test_countdown_format(seconds, shown):
    assert format_countdown(seconds) == shown


def test_durations():
    assert parse_duration("1h30m") == 5400
    assert parse_duration(45) == 45
    with pytest.raises(ValueError):
        parse_duration("soon")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        # The same clock in two tables: the second one is wrong, not the first.
        (
            '# first_response: the first reply\n[channels.phone]\nfirst_response = "10s"\n'
            '[channels.chat]\nfirst_response = "soon"\n',
            5,
            "first_response",
        ),
        # An override's value that also appears earlier in a comment.
        (
            '# never "pigeon"\n[[override]]\nchannel = "chat"\n[[override]]\nchannel = "pigeon"\n',
            5,
            "#2",
        ),
    ],
)
def test_policy_problems_point_at_the_key_not_the_first_mention(text, line, words):
    with pytest.raises(PolicyError) as err:
        parse_policy(text, "team.toml")
    assert str(err.value).startswith(f"team.toml:{line}:"), str(err.value)
    assert words in str(err.value)


def test_policy_problem_with_no_line_to_name_prints_none():
    """An override given as a table, not [[override]]: there is no element line to point at."""
    with pytest.raises(PolicyError) as err:
        parse_policy("override = [1]\n", "team.toml")
    assert str(err.value) == "team.toml: [[override]] must be a table"
