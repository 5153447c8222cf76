"""KPI aggregations on hand-built stores (SQLite, and PostgreSQL when CS_TUI_TEST_PG is set).

Every expected value is worked out by hand in the comments from the timeline the test builds.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from cs_tui.data.views import IngestRecord, QueueFilter
from cs_tui.metrics import kpis_from_counts
from tests.conftest import START


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


@pytest.fixture
def team(store):
    store.ensure_agent("boss", "Boss", role="supervisor")
    return {
        "alice": store.ensure_agent("alice", "Alice"),
        "bob": store.ensure_agent("bob", "Bob"),
        "boss": store.get_agent("boss"),
    }


def new(store, ext, *, channel="chat", category="order", training=False, created_at=None):
    cid = store.create_conversation(
        external_id=ext,
        customer_handle=f"cust-{ext}",
        channel=channel,
        category=category,
        training=training,
        created_at=created_at,
    )
    store.post_customer_message(cid, f"hello from {ext}", sent_at=created_at)
    return cid


def resolve_rated(store, agent, cid, csat):
    """The agent resolves; the customer's score arrives from their channel (no actor)."""
    store.resolve(agent, cid)
    store.set_csat(None, cid, csat)


def goto(clock, seconds: float) -> None:
    clock.set(at(seconds))


@pytest.fixture
def shift(store, team, clock):
    """One shift, all times in seconds after START (09:00 UTC):

    conv  channel  category   FRT   resolved (csat)                    notes
    A     chat     order      10    t=600 (5)                          two later replies: NRT 20, 30
    B     chat     order      40    t=700 (3)                          late; boss moves it alice->bob
    C     phone    order      5     t=900, reopened t=1000, t=1200 (4) two resolve events
    D     chat     complaint  300   t=1500 (2)                         complaint target is 10 min
    E     chat     order      -     -                                  never answered: due t=30
    F     ticket   order      100   -                                  tickets have no FRT clock
    H     chat     order      20    t=200, reopened t=250, open        reply at t=260: NRT 10
    G     chat     order      -     -                                  arrives t=1600, due t=1630
    T     chat     order      1     t=5 (1)                            role-play: never counted
    """
    alice, bob, boss = team["alice"], team["bob"], team["boss"]
    ids = {}
    goto(clock, 0)
    for ext, channel, category in (
        ("A", "chat", "order"),
        ("B", "chat", "order"),
        ("C", "phone", "order"),
        ("D", "chat", "complaint"),
        ("E", "chat", "order"),
        ("F", "ticket", "order"),
        ("H", "chat", "order"),
    ):
        ids[ext] = new(store, ext, channel=channel, category=category)
    ids["T"] = new(store, "T", training=True)
    for ext, who in (("A", alice), ("B", alice), ("C", bob), ("D", bob), ("F", alice)):
        assert store.claim(who, ids[ext])
    assert store.claim(alice, ids["H"])
    assert store.claim(alice, ids["T"])

    goto(clock, 1)
    store.post_reply(alice, ids["T"], "training reply")
    goto(clock, 5)
    store.post_reply(bob, ids["C"], "您好")
    resolve_rated(store, alice, ids["T"], 1)
    goto(clock, 10)
    store.post_reply(alice, ids["A"], "您好")
    goto(clock, 20)
    store.post_reply(alice, ids["H"], "您好")
    goto(clock, 40)
    store.post_reply(alice, ids["B"], "您好")
    goto(clock, 100)
    store.post_reply(alice, ids["F"], "您好")
    goto(clock, 200)
    store.resolve(alice, ids["H"])
    goto(clock, 250)
    store.post_customer_message(ids["H"], "还是不行")  # reopens H
    goto(clock, 260)
    store.post_reply(alice, ids["H"], "马上处理")
    goto(clock, 300)
    store.post_reply(bob, ids["D"], "非常抱歉")
    goto(clock, 320)
    store.post_customer_message(ids["A"], "还有一个问题")
    goto(clock, 325)
    store.post_customer_message(ids["A"], "在吗")
    goto(clock, 345)
    store.post_reply(alice, ids["A"], "在的")  # NRT 345 - 325 = 20
    goto(clock, 350)
    store.post_note(alice, ids["A"], "internal note")
    goto(clock, 360)
    store.post_customer_message(ids["A"], "好的")
    goto(clock, 390)
    store.post_reply(alice, ids["A"], "还有别的吗")  # NRT 30
    goto(clock, 400)
    store.assign(boss, ids["B"], "bob")
    goto(clock, 600)
    resolve_rated(store, alice, ids["A"], 5)
    goto(clock, 700)
    resolve_rated(store, bob, ids["B"], 3)
    goto(clock, 900)
    store.resolve(bob, ids["C"])
    goto(clock, 1000)
    store.post_customer_message(ids["C"], "又坏了")
    goto(clock, 1010)
    store.post_reply(bob, ids["C"], "我来看看")
    goto(clock, 1200)
    resolve_rated(store, bob, ids["C"], 4)
    goto(clock, 1500)
    resolve_rated(store, bob, ids["D"], 2)
    goto(clock, 1600)
    ids["G"] = new(store, "G")
    assert store.claim(bob, ids["G"])
    goto(clock, 1610)
    return ids


def test_kpis_of_a_hand_built_shift(store, shift, clock):
    now = clock.now()
    c = store.kpi_counts(now - timedelta(days=1), now)
    # A B C D E F H G; the role-play conversation T is not counted.
    assert c.conversations == 8
    # FRT on chat/phone/social, replied: C 5, A 10, H 20, B 40, D 300 (F is a ticket).
    assert c.frt_count == 5
    assert c.frt_p50_s == pytest.approx(20)  # rank ceil(0.5 * 5) = 3
    assert c.frt_p90_s == pytest.approx(300)  # rank ceil(0.9 * 5) = 5
    # Met: C (5 <= 10 phone), A, H (<= 30), D (300 <= 600 complaint); B is late.
    assert c.frt_met == 4
    # E is unanswered and past its 30 s deadline; G (due t=1630) is not due yet.
    assert c.frt_missed_unanswered == 1
    # NRT: A 20 and 30, H 10 (250 -> 260); first replies and C's phone reply are not counted.
    assert c.nrt_count == 3
    assert c.nrt_sum_s == pytest.approx(60, abs=1e-3)
    # Resolved now: A 600, B 700, C 1200, D 1500; H was resolved once but is open again.
    assert c.resolved == 4 and c.resolved_ever == 5
    assert c.resolution_p50_s == pytest.approx(700, abs=1e-3)  # rank 2 of 4
    assert c.resolution_p90_s == pytest.approx(1500, abs=1e-3)  # rank 4 of 4
    # FCR: A and D; B was transferred, C resolved twice, H reopened.
    assert c.fcr == 2
    assert c.transferred == 1
    assert (c.csat_count, c.csat_sum, c.csat_satisfied) == (4, 14, 2)
    assert c.complaints == 1
    # Assigned: A F H (alice), B C D G (bob).
    assert (c.assigned, c.agents) == (7, 2)

    k = kpis_from_counts(c, compliant=(3, 4), days=1)
    assert k.first_response_sla_pct == pytest.approx(66.67)  # 4 met of 5 replied + 1 overdue
    assert k.nrt_avg_s == pytest.approx(20)
    assert k.fcr_pct == 40.0  # 2 of 5 ever resolved
    assert k.transfer_pct == 12.5  # 1 of 8
    assert k.csat_avg == 3.5 and k.csat_pct == 50.0
    assert k.complaint_pct == 12.5
    assert k.compliant_pct == 75.0
    assert k.volume_per_agent_day == 3.5  # 7 assigned / 2 agents / 1 day


def test_kpis_for_one_agent(store, shift, team, clock):
    now = clock.now()
    c = store.kpi_counts(now - timedelta(days=1), now, agent_id=team["bob"].id)
    # bob holds B C D G.
    assert c.conversations == 4
    assert c.frt_count == 3  # C 5, B 40, D 300
    assert c.frt_p50_s == pytest.approx(40)
    assert c.fcr == 1  # D
    rows = {r.handle: r for r in store.kpi_by_agent(now - timedelta(days=1), now)}
    assert [r.handle for r in store.kpi_by_agent(now - timedelta(days=1), now)] == [
        "bob",
        "alice",
    ]
    assert (rows["bob"].conversations, rows["bob"].resolved, rows["bob"].transferred) == (4, 3, 1)
    assert rows["bob"].frt_avg_s == pytest.approx(115)  # (5 + 40 + 300) / 3
    assert rows["bob"].csat_avg == 3.0  # (3 + 4 + 2) / 3
    assert rows["alice"].frt_avg_s == pytest.approx(15)  # A 10, H 20; F is a ticket
    assert rows["alice"].csat_avg == 5.0


def test_window_edges_are_half_open(store, team, clock):
    end = START
    start = end - timedelta(days=1)
    goto(clock, 0)
    new(store, "at-start", created_at=start)  # included: start <= created_at
    new(store, "just-before", created_at=start - timedelta(seconds=1))  # outside the day
    new(store, "just-inside", created_at=end - timedelta(microseconds=1))
    new(store, "at-end", created_at=end)  # excluded: created_at < end
    assert store.kpi_counts(start, end).conversations == 2
    week = store.kpi_counts(end - timedelta(days=7), end)
    assert week.conversations == 3
    assert store.kpi_counts(end, end + timedelta(days=1)).conversations == 1


def test_an_empty_window_has_no_figures(store, clock):
    now = clock.now()
    c = store.kpi_counts(now - timedelta(days=1), now)
    assert c.conversations == 0 and c.frt_p50_s is None and c.resolution_p50_s is None
    k = kpis_from_counts(c)
    assert k.fcr_pct is None and k.csat_avg is None and k.volume_per_agent_day is None


def test_live_counts_breaches_and_agent_load(store, shift, team, clock):
    live = store.live_counts()
    assert {k: v for k, v in live.by_status.items() if v} == {"new": 1, "open": 3, "resolved": 4}
    # E is 1580 s late; G has 20 s of its 30 left; F and H owe nothing right now; the four
    # resolved conversations wait hidden for their follow-up window.
    assert live.by_state == {"breached": 1, "warning": 0, "ok": 1, "paused": 0, "none": 2}
    assert live.hidden == 4
    assert [r.external_id for r in store.breach_list()] == ["E"]
    goto(clock, 1625)  # G: 5 s left, inside the last quarter of 30 s
    assert store.live_counts().by_state["warning"] == 1
    goto(clock, 1631)
    assert [r.external_id for r in store.breach_list()] == ["E", "G"]
    loads = {a.handle: a for a in store.agent_loads()}
    assert (loads["alice"].load, loads["alice"].breached) == (2, 0)  # F, H
    assert loads["alice"].oldest_id is None  # neither owes the customer anything
    assert (loads["bob"].load, loads["bob"].breached) == (1, 1)
    assert loads["bob"].oldest_external_id == "G"
    assert loads["bob"].oldest_since == at(1600)
    assert [a.handle for a in store.agent_loads()][0] == "bob"  # breaches sort first


def test_hourly_trend_buckets_by_arrival(store, team, clock):
    end = START + timedelta(hours=3)
    new(store, "h0a", created_at=START + timedelta(minutes=1))
    new(store, "h0b", created_at=START + timedelta(minutes=59, seconds=59))
    new(store, "h2", created_at=START + timedelta(hours=2))  # exactly on a bucket's edge
    clock.set(end)
    trend = store.hourly_trend(end, hours=3)
    assert trend.volume == [2, 0, 1]
    assert trend.breaches == [2, 0, 1]  # none answered, all past 30 s


def test_follow_up_enters_the_queue_when_due(store, team, clock):
    alice = team["alice"]
    cid = new(store, "FU")
    store.claim(alice, cid)
    store.post_reply(alice, cid, "您好")
    store.resolve(alice, cid)
    store.set_csat(None, cid, 5)
    detail = store.conversation(cid)
    assert detail.csat == 5
    assert any(e.kind == "resolve" for e in store.audit(alice))
    # Follow-up due one day after resolving; it joins the queue when its last quarter begins.
    assert cid not in [r.id for r in store.queue(alice)]
    clock.advance(hours=18, seconds=-1)
    assert cid not in [r.id for r in store.queue(alice)]
    clock.advance(seconds=1)
    row = next(r for r in store.queue(alice) if r.id == cid)
    assert row.sla_clock == "follow_up"
    assert row.due_at == START + timedelta(days=1)
    store.mark_followed_up(alice, cid)
    assert cid not in [r.id for r in store.queue(alice, QueueFilter())]


def test_csat_from_jsonl_counts(store, clock):
    def rec(mid, author, text, seconds, csat=None):
        return IngestRecord(
            message_id=mid,
            conversation_id="J1",
            channel="chat",
            customer="jc",
            author=author,
            text=text,
            sent_at=at(seconds),
            agent="alice" if author == "agent" else None,
            csat=csat,
        )

    store.ingest([rec("m1", "customer", "hi", 0), rec("m2", "agent", "hello", 12, csat=4)])
    goto(clock, 100)
    c = store.kpi_counts(at(-10), at(100))
    assert (c.csat_count, c.csat_sum, c.csat_satisfied) == (1, 4, 1)
    assert c.frt_p50_s == pytest.approx(12)


def test_early_warning_is_recorded_once_per_change(store, team):
    boss = team["boss"]
    assert store.early_warnings() == []
    # Never fired: a clear records nothing.
    assert not store.record_early_warning(boss, "complaint_pct", False, 0.5, 5.0)
    assert store.record_early_warning(boss, "complaint_pct", True, 7.5, 5.0)
    assert not store.record_early_warning(boss, "complaint_pct", True, 8.0, 5.0)
    [w] = store.early_warnings()
    assert (w.metric, w.state, w.value, w.threshold) == ("complaint_pct", "raised", 7.5, 5.0)
    assert store.record_early_warning(boss, "complaint_pct", False, 2.0, 5.0)
    assert not store.record_early_warning(None, "complaint_pct", False, 1.0, 5.0)
    assert store.early_warnings()[0].state == "cleared"
    events = [e for e in store.audit(boss) if e.kind == "early_warning"]
    assert [e.payload["state"] for e in events] == ["cleared", "raised"]  # newest first


def test_warning_counts_over_the_window(store, shift, clock):
    now = clock.now()
    w = store.warning_counts(now - timedelta(hours=1), now)
    # 8 conversations; D is a complaint; breached: B (late first reply), E (unanswered).
    assert (w.conversations, w.complaints, w.breached) == (8, 1, 2)


def test_message_sample_is_bounded_and_newest_first(store, shift, clock, team):
    now = clock.now()
    bodies = store.message_sample(now - timedelta(days=1), now, author_kind="agent", limit=3)
    assert bodies == ["我来看看", "还有别的吗", "在的"]
    bob = store.message_sample(
        now - timedelta(days=1), now, author_kind="agent", agent_id=team["bob"].id
    )
    assert sorted(bob) == sorted(["您好", "非常抱歉", "我来看看"])
    customers = store.message_sample(now - timedelta(days=1), now, author_kind="customer")
    assert "hello from T" not in customers and "hello from A" in customers
