"""The store on real SQLite files (and PostgreSQL when CS_TUI_TEST_PG is set)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cs_tui.data.errors import InvalidInput, NotAllowed
from cs_tui.data.views import QueueFilter


@pytest.fixture
def team(store):
    store.ensure_agent("boss", "Boss", role="supervisor")
    return {
        "alice": store.ensure_agent("alice", "Alice"),
        "bob": store.ensure_agent("bob", "Bob"),
        "boss": store.get_agent("boss"),
    }


def new_chat(
    store, ext, *, text="你好", channel="chat", category="order", customer=None, name=None
):
    cid = store.create_conversation(
        external_id=ext,
        customer_handle=customer or f"cust-{ext}",
        customer_name=name or f"Name {ext}",
        channel=channel,
        category=category,
    )
    store.post_customer_message(cid, text)
    return cid


def ext_ids(rows):
    return [r.external_id for r in rows]


def test_queue_puts_the_most_overdue_first(store, team, clock):
    a = new_chat(store, "A")  # due +30 s
    clock.advance(10)
    b = new_chat(store, "B", channel="phone")  # due +10 s from now
    clock.advance(5)
    c = new_chat(store, "C", channel="ticket")  # due in 24 h
    clock.advance(40)  # A is 15 s late, B is 35 s late
    assert ext_ids(store.queue(team["boss"])) == ["B", "A", "C"]
    rows = {r.external_id: r for r in store.queue(team["boss"])}
    assert (rows["B"].due_at - clock.now()).total_seconds() == -35
    assert store.queue_count(team["boss"]) == 3
    _ = a, b, c


def test_queue_windows_and_filters(store, team, clock):
    for i in range(12):
        new_chat(
            store, f"C{i:02d}", channel="email" if i % 3 == 0 else "chat", text=f"订单 {i} 100%"
        )
        clock.advance(1)
    boss = team["boss"]
    first = store.queue(boss, limit=5)
    second = store.queue(boss, offset=5, limit=5)
    assert len(first) == 5 and len(second) == 5
    assert not set(ext_ids(first)) & set(ext_ids(second))
    assert set(ext_ids(store.queue(boss, QueueFilter(channel="email")))) == {
        "C00",
        "C03",
        "C06",
        "C09",
    }
    assert ext_ids(store.queue(boss, QueueFilter(text="订单 7"))) == ["C07"]
    # LIKE wildcards in the user's text are literal.
    assert len(store.queue(boss, QueueFilter(text="100%"))) == 12
    assert store.queue(boss, QueueFilter(text="_")) == []
    cid = store.conversation_id("C04")
    store.tag_conversation(boss, cid, "物流延迟")
    assert ext_ids(store.queue(boss, QueueFilter(tag="物流延迟"))) == ["C04"]


def test_agents_see_their_work_and_the_pool_supervisors_see_everything(store, team):
    a = new_chat(store, "A")
    b = new_chat(store, "B")
    new_chat(store, "C")
    assert store.claim(team["alice"], a)
    assert store.claim(team["bob"], b)
    assert set(ext_ids(store.queue(team["alice"]))) == {"A", "C"}
    assert ext_ids(store.queue(team["alice"], QueueFilter(scope="mine"))) == ["A"]
    assert ext_ids(store.queue(team["alice"], QueueFilter(scope="unassigned"))) == ["C"]
    assert set(ext_ids(store.queue(team["boss"]))) == {"A", "B", "C"}


def test_claim_is_exclusive_and_reply_needs_ownership(store, team):
    cid = new_chat(store, "A")
    with pytest.raises(NotAllowed, match="claim it first"):
        store.post_reply(team["alice"], cid, "您好")
    assert store.claim(team["alice"], cid) is True
    assert store.claim(team["bob"], cid) is False
    with pytest.raises(NotAllowed):
        store.post_reply(team["bob"], cid, "您好")
    msg = store.post_reply(team["alice"], cid, "您好,请问有什么可以帮您?")
    detail = store.conversation(cid)
    assert detail.row.status == "open" and detail.row.assignee == "alice"
    assert [m.author_kind for m in detail.messages] == ["customer", "agent"]
    assert detail.messages[-1].id == msg.id and detail.messages[-1].author == "alice"
    assert detail.row.sla_clock is None  # nothing owed after the reply
    with pytest.raises(InvalidInput):
        store.post_reply(team["alice"], cid, "   ")


def test_first_response_time_is_recorded(store, team, clock):
    cid = new_chat(store, "A")
    store.claim(team["alice"], cid)
    clock.advance(12)
    store.post_reply(team["alice"], cid, "您好")
    assert store.conversation(cid).first_response_s == 12


def test_next_customer_message_starts_the_60_second_clock(store, team, clock):
    cid = new_chat(store, "A")
    store.claim(team["alice"], cid)
    store.post_reply(team["alice"], cid, "您好")
    clock.advance(100)
    store.post_customer_message(cid, "还在吗?")
    row = store.queue_row(cid)
    assert row.sla_clock == "next_response"
    assert row.due_at == clock.now() + timedelta(seconds=60)


def test_transfer_rules_and_audit(store, team):
    cid = new_chat(store, "A")
    store.claim(team["alice"], cid)
    with pytest.raises(NotAllowed):
        store.assign(team["bob"], cid, "bob")  # cannot take another agent's work
    row = store.assign(team["alice"], cid, "bob")  # may hand on her own
    assert row.assignee == "bob"
    row = store.assign(team["boss"], cid, "alice")  # supervisors move anything
    assert row.assignee == "alice"
    trail = [
        (e.kind, e.actor, e.payload.get("from"), e.payload.get("to"))
        for e in store.audit(team["boss"], conversation_id=cid)
    ]
    assert ("transfer", "alice", "alice", "bob") in trail
    assert ("transfer", "boss", "bob", "alice") in trail
    assert store.conversation(cid).transfers == 2
    # An agent's audit view holds only their own actions.
    assert {e.actor for e in store.audit(team["alice"])} == {"alice"}


def test_escalation_waits_for_a_supervisor(store, team, clock):
    cid = new_chat(store, "A")
    store.claim(team["alice"], cid)
    with pytest.raises(InvalidInput):
        store.escalate(team["alice"], cid, "  ")
    row = store.escalate(team["alice"], cid, "客户要求超出政策的赔偿")
    assert row.status == "escalated" and row.sla_clock == "escalation"
    assert row.due_at == clock.now() + timedelta(minutes=30)
    store.post_reply(team["alice"], cid, "我已将问题反馈至相关团队")
    assert store.queue_row(cid).status == "escalated"
    store.post_reply(team["boss"], cid, "您好,我是主管,我来处理")
    assert store.queue_row(cid).status == "open"


def test_snooze_hides_until_due_and_keeps_the_remaining_time(store, team, clock):
    cid = new_chat(store, "A")  # 30 s first response
    store.claim(team["alice"], cid)
    clock.advance(10)
    store.snooze(team["alice"], cid, clock.now() + timedelta(minutes=5))
    assert "A" not in ext_ids(store.queue(team["alice"]))
    clock.advance(301)
    rows = store.queue(team["alice"])
    assert ext_ids(rows) == ["A"]
    assert (rows[0].due_at - clock.now()).total_seconds() == pytest.approx(19)
    with pytest.raises(InvalidInput):
        store.snooze(team["alice"], cid, clock.now() - timedelta(seconds=1))


def test_pending_stops_the_clock_until_the_customer_writes(store, team, clock):
    cid = new_chat(store, "A")
    store.claim(team["alice"], cid)
    store.post_reply(team["alice"], cid, "请您提供订单号")
    store.post_customer_message(cid, "稍等我找一下")
    store.set_pending(team["alice"], cid)
    row = store.queue_row(cid)
    assert row.status == "pending" and row.due_at is None
    clock.advance(3600)
    store.post_customer_message(cid, "订单号 1234")
    row = store.queue_row(cid)
    assert row.status == "open" and row.sla_clock == "next_response"
    assert row.due_at == clock.now() + timedelta(seconds=60)


def test_resolve_starts_a_follow_up_that_returns_when_due(store, team, clock):
    cid = new_chat(store, "A")
    store.claim(team["alice"], cid)
    store.post_reply(team["alice"], cid, "退款会在24小时内到账")
    with pytest.raises(InvalidInput):
        store.resolve(team["alice"], cid, csat=6)
    row = store.resolve(team["alice"], cid)
    store.set_csat(None, cid, 5)  # the customer's score, from their channel
    assert row.status == "resolved" and row.sla_clock == "follow_up"
    assert row.due_at == clock.now() + timedelta(days=1)
    assert "A" not in ext_ids(store.queue(team["alice"]))
    clock.advance(hours=18, seconds=1)  # the last quarter of the day: the follow-up shows up
    assert ext_ids(store.queue(team["alice"])) == ["A"]
    store.post_reply(team["alice"], cid, "请问您对这次的解决方案满意吗?")
    row = store.queue_row(cid)
    assert row.status == "resolved" and row.sla_clock is None
    assert store.queue(team["alice"]) == []
    assert store.conversation(cid).csat == 5


def test_customer_message_reopens_resolved_work_and_reopen_by_hand(store, team):
    cid = new_chat(store, "A")
    store.claim(team["alice"], cid)
    store.resolve(team["alice"], cid)
    store.post_customer_message(cid, "还是没收到退款")
    assert store.queue_row(cid).status == "open"
    store.resolve(team["alice"], cid)
    with pytest.raises(InvalidInput):
        store.resolve(team["alice"], cid)
    assert store.reopen(team["alice"], cid).status == "open"


def test_tags_category_priority_leave_events(store, team):
    cid = new_chat(store, "A")
    store.claim(team["alice"], cid)
    start = store.last_event_id()
    store.tag_conversation(team["alice"], cid, " 物流延迟 ")
    store.tag_conversation(team["alice"], cid, "物流延迟")  # again: no second event
    store.untag_conversation(team["alice"], cid, "物流延迟")
    store.set_category(team["alice"], cid, "complaint")
    store.set_priority(team["alice"], cid, "urgent")
    kinds = [(e.kind, e.actor) for e in store.events_since(start)]
    assert kinds == [
        ("tag_added", "alice"),
        ("tag_removed", "alice"),
        ("category", "alice"),
        ("priority", "alice"),
    ]
    assert store.queue_row(cid).sla_target_s == 600  # complaints: acknowledge within 10 min
    with pytest.raises(InvalidInput):
        store.set_category(team["alice"], cid, "gossip")
    with pytest.raises(InvalidInput):
        store.tag_conversation(team["alice"], cid, "bad\x1btag")


def test_customer_tags_and_history_on_every_channel(store, team, clock):
    a = new_chat(store, "A", customer="wx-1", channel="chat")
    clock.advance(60)
    new_chat(store, "B", customer="wx-1", channel="email")
    clock.advance(60)
    new_chat(store, "C", customer="wx-2", channel="phone")
    detail = store.conversation(a)
    store.tag_customer(team["alice"], detail.customer.id, "VIP")
    assert store.customer(detail.customer.id).tags == ("VIP",)
    history = store.customer_history(detail.customer.id)
    assert ext_ids(history) == ["B", "A"]
    assert {r.channel for r in history} == {"chat", "email"}


def test_customer_tags_are_audited_once_per_change(store, team):
    customer = store.conversation(new_chat(store, "A")).customer.id
    start = store.last_event_id()
    store.tag_customer(team["alice"], customer, " VIP ")
    store.tag_customer(team["alice"], customer, "VIP")  # again: no second event
    assert store.customer(customer).tags == ("VIP",)
    store.untag_customer(team["alice"], customer, "VIP")
    store.untag_customer(team["alice"], customer, "VIP")  # gone already: nothing to record
    assert store.customer(customer).tags == ()
    events = [(e.kind, e.actor, e.payload) for e in store.events_since(start)]
    assert events == [
        ("customer_tag_added", "alice", {"customer_id": customer, "tag": "VIP"}),
        ("customer_tag_removed", "alice", {"customer_id": customer, "tag": "VIP"}),
    ]


def test_drafts_survive_and_clear_on_send(store, team):
    cid = new_chat(store, "A")
    store.claim(team["alice"], cid)
    store.save_draft(team["alice"].id, cid, "您好,关于您的订单")
    store.save_draft(team["alice"].id, cid, "您好,关于您的订单,我查到")
    assert store.load_draft(team["alice"].id, cid) == "您好,关于您的订单,我查到"
    assert store.load_draft(team["bob"].id, cid) == ""
    store.post_reply(team["alice"], cid, "您好")
    assert store.load_draft(team["alice"].id, cid) == ""


def test_take_next_claims_the_most_urgent_unassigned(store, team, clock):
    new_chat(store, "slow", channel="ticket")
    new_chat(store, "fast", channel="phone")
    taken = store.take_next(team["alice"])
    assert taken.external_id == "fast" and taken.assignee == "alice"
    assert store.take_next(team["bob"]).external_id == "slow"
    assert store.take_next(team["bob"]) is None


def test_notes_do_not_stop_the_clock(store, team):
    cid = new_chat(store, "A")
    store.claim(team["alice"], cid)
    store.post_note(team["alice"], cid, "客户是老客户,注意语气")
    row = store.queue_row(cid)
    assert row.sla_clock == "first_response"
    assert row.preview == "你好"
    assert store.conversation(cid).messages[-1].author_kind == "note"


def test_delete_is_supervisor_only_and_audited(store, team):
    cid = new_chat(store, "A")
    with pytest.raises(NotAllowed):
        store.delete_conversation(team["alice"], cid)
    store.delete_conversation(team["boss"], cid)
    assert store.queue(team["boss"]) == []
    last = store.audit(team["boss"], limit=1)[0]
    assert last.kind == "conversation_deleted" and last.actor == "boss"
    assert last.payload["external_id"] == "A"


def test_untrusted_text_is_stored_exactly(store, team):
    body = "[bold]x[/bold] [@click=app.quit]q[/] \x1b]52;c;aGk=\x07 \u200b 👍 hello [/] world"
    cid = new_chat(store, "A", text=body)
    assert store.conversation(cid).messages[0].body == body


def test_a_retried_send_is_stored_once(store, team):
    cid = new_chat(store, "A")
    store.claim(team["alice"], cid)
    first = store.post_reply(team["alice"], cid, "您好", client_id="send-1")
    again = store.post_reply(team["alice"], cid, "您好", client_id="send-1")
    assert again.id == first.id
    assert [m.body for m in store.conversation(cid).messages] == ["你好", "您好"]
    note = store.post_note(team["alice"], cid, "备注", client_id="send-2")
    assert store.post_note(team["alice"], cid, "备注", client_id="send-2").id == note.id
    assert store.conversation(cid).message_count == 3
