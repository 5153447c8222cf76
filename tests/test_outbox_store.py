"""The delivery outbox on SQLite and PostgreSQL: written with the reply, leased by workers, settled
by results and receipts, retried by agents, shown in the transcript and the queue.
"""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta

import pytest

from cs_tui.data.errors import InvalidInput, NotAllowed, NotFound
from cs_tui.data.store import Store
from cs_tui.data.views import IngestRecord, QueueFilter

WEBHOOK = "https://shop.example/hooks/cs"


def customer_line(i: int | str, conv: str) -> dict:
    return {
        "message_id": f"in-{conv}-{i}",
        "conversation_id": conv,
        "customer": f"wx-{conv}",
        "customer_name": "王小明",
        "author": "customer",
        "text": "我的快递到哪了",
        "sent_at": "2026-11-11T08:59:00Z",
    }


@pytest.fixture
def team(store):
    boss = store.ensure_agent("boss", role="supervisor")
    alice = store.ensure_agent("alice")
    bob = store.ensure_agent("bob")
    shop = store.add_channel(boss, "api", "shop", webhook_url=WEBHOOK)
    return boss, alice, bob, shop


def channel_conversation(store, shop, alice, conv: str = "C1") -> int:
    store.ingest_from_channel(shop.channel.id, [customer_line(1, conv)])
    cid = store.conversation_id(conv)
    assert store.claim(alice, cid)
    return cid


# -- written with the reply ---------------------------------------------------------------


def test_a_reply_in_a_channel_conversation_queues_one_delivery(store, team):
    boss, alice, _bob, shop = team
    cid = channel_conversation(store, shop, alice)
    sent = store.post_reply(alice, cid, "您好,我帮您查一下")
    assert sent.delivery_status == "queued"
    [d] = store.deliveries(boss)
    assert (d.status, d.attempts, d.conversation_external_id) == ("queued", 0, "C1")
    assert d.public_message_id == f"cs-{sent.id}" and d.channel == "shop"
    detail = store.conversation(cid)
    statuses = [(m.author_kind, m.delivery_status) for m in detail.messages]
    assert statuses == [("customer", None), ("agent", "queued")]
    # a note never leaves the workstation
    store.post_note(alice, cid, "客户很着急")
    assert len(store.deliveries(boss)) == 1


def test_a_reply_in_an_imported_conversation_has_no_delivery(store, team):
    boss, alice, _bob, _shop = team
    store.ingest(
        [
            IngestRecord(
                message_id="imp-1",
                conversation_id="IMP",
                channel="chat",
                customer="wx-9",
                author="customer",
                text="你好",
                sent_at=datetime(2026, 11, 11, 8, 0, tzinfo=UTC),
            )
        ]
    )
    cid = store.conversation_id("IMP")
    store.claim(alice, cid)
    sent = store.post_reply(alice, cid, "您好")
    assert sent.delivery_status is None
    assert store.deliveries(boss) == []


def test_a_failed_reply_leaves_no_delivery(store, team):
    boss, alice, bob, shop = team
    cid = channel_conversation(store, shop, alice)
    with pytest.raises(NotAllowed):
        store.post_reply(bob, cid, "不是我的会话")
    with pytest.raises(InvalidInput):
        store.post_reply(alice, cid, "长" * 20_001)
    assert store.deliveries(boss) == []
    assert [m.author_kind for m in store.conversation(cid).messages] == ["customer"]


def test_no_delivery_for_a_channel_without_webhook(store, team):
    boss, alice, _bob, _shop = team
    quiet = store.add_channel(boss, "api", "quiet")  # inbound only
    store.ingest_from_channel(quiet.channel.id, [customer_line(1, "Q1")])
    qid = store.conversation_id("Q1")
    store.claim(alice, qid)
    store.post_reply(alice, qid, "收到")
    assert store.deliveries(boss) == []


def test_a_reply_while_its_channel_is_disabled_waits_and_goes_out_when_enabled(store, team):
    """Disabling a channel must not turn replies into messages that look sent and reach no
    one: the delivery is queued, shown as queued, and claimed once the channel is back."""
    boss, alice, _bob, shop = team
    cid = channel_conversation(store, shop, alice)
    store.set_channel_active(boss, "shop", False)
    sent = store.post_reply(alice, cid, "收到")
    [d] = store.deliveries(boss)
    assert d.status == "queued" and sent.delivery_status == "queued"
    assert store.claim_deliveries("w1", 10, 60) == []
    store.set_channel_active(boss, "shop", True)
    [job] = store.claim_deliveries("w1", 10, 60)
    assert job.delivery_id == d.delivery_id and job.payload["text"] == "收到"


def test_a_retried_send_with_the_same_client_id_queues_once(store, team):
    boss, alice, _bob, shop = team
    cid = channel_conversation(store, shop, alice)
    first = store.post_reply(alice, cid, "您好", client_id="ws-1-abc")
    again = store.post_reply(alice, cid, "您好", client_id="ws-1-abc")
    assert first.id == again.id
    [d] = store.deliveries(boss)
    assert d.public_message_id == "ws-1-abc"


# -- workers ------------------------------------------------------------------------------


def test_claim_leases_a_due_delivery_with_everything_to_post(store, team, clock):
    boss, alice, _bob, shop = team
    cid = channel_conversation(store, shop, alice)
    sent = store.post_reply(alice, cid, "您好,已为您加急")
    [job] = store.claim_deliveries("w1", 10, 30)
    assert job.attempts == 1 and job.webhook_url == WEBHOOK and job.secret == shop.secret
    assert job.payload == {
        "delivery_id": job.delivery_id,
        "message_id": f"cs-{sent.id}",
        "conversation_id": "C1",
        "customer": "wx-C1",
        "agent": "alice",
        "author": "agent",
        "text": "您好,已为您加急",
        "sent_at": sent.sent_at.isoformat(),
    }
    # leased: nobody else gets it, not even the same worker
    assert store.claim_deliveries("w2", 10, 30) == []
    assert store.claim_deliveries("w1", 10, 30) == []
    assert store.next_delivery_due() == clock.now() + timedelta(seconds=30)


def test_an_expired_lease_lets_another_worker_resume(store, team, clock):
    """At least once: a worker that died mid-send leaves the delivery to the next one."""
    boss, alice, _bob, shop = team
    cid = channel_conversation(store, shop, alice)
    store.post_reply(alice, cid, "您好")
    [first] = store.claim_deliveries("dead", 10, 30)
    clock.advance(31)
    [second] = store.claim_deliveries("alive", 10, 30)
    assert second.delivery_id == first.delivery_id and second.attempts == 2
    # the dead worker's late word no longer counts
    store.delivery_failed(first.delivery_id, "dead", "HTTP 400", 400)
    assert store.delivery(first.delivery_id).status == "queued"
    store.delivery_sent(second.delivery_id, "alive", 200)
    view = store.delivery(first.delivery_id)
    assert (view.status, view.attempts) == ("sent", 2)
    assert store.claim_deliveries("alive", 10, 30) == []
    assert store.next_delivery_due() is None


def test_retry_later_waits_until_its_time(store, team, clock):
    boss, alice, _bob, shop = team
    cid = channel_conversation(store, shop, alice)
    store.post_reply(alice, cid, "您好")
    [job] = store.claim_deliveries("w1", 10, 30)
    at = clock.now() + timedelta(seconds=5)
    store.delivery_retry_later(job.delivery_id, "w1", at, "HTTP 503 " + "x" * 500, 503)
    view = store.delivery(job.delivery_id)
    assert view.status == "queued" and view.next_attempt_at == at
    assert view.last_error is not None and len(view.last_error) == 300
    assert store.next_delivery_due() == at
    assert store.claim_deliveries("w1", 10, 30) == []
    clock.advance(5)
    [again] = store.claim_deliveries("w2", 10, 30)
    assert again.attempts == 2


def test_claims_take_the_oldest_due_first_and_respect_the_limit(store, team, clock):
    boss, alice, _bob, shop = team
    for n in range(5):
        cid = channel_conversation(store, shop, alice, conv=f"C{n}")
        store.post_reply(alice, cid, f"回复 {n}")
        clock.advance(1)
    jobs = store.claim_deliveries("w1", 3, 30)
    assert [j.payload["conversation_id"] for j in jobs] == ["C0", "C1", "C2"]
    rest = store.claim_deliveries("w2", 10, 30)
    assert [j.payload["conversation_id"] for j in rest] == ["C3", "C4"]


def test_a_disabled_channel_holds_its_deliveries_until_enabled(store, team):
    boss, alice, _bob, shop = team
    cid = channel_conversation(store, shop, alice)
    store.post_reply(alice, cid, "您好")
    store.set_channel_active(boss, "shop", False)
    assert store.claim_deliveries("w1", 10, 30) == []
    assert store.next_delivery_due() is None
    store.set_channel_active(boss, "shop", True)
    assert len(store.claim_deliveries("w1", 10, 30)) == 1


# -- failure, the queue and retries -------------------------------------------------------


def fail_one(store, alice, shop, conv: str = "C1") -> tuple[int, int]:
    cid = channel_conversation(store, shop, alice, conv)
    store.post_reply(alice, cid, "您好")
    [job] = store.claim_deliveries("w1", 10, 30)
    store.delivery_failed(job.delivery_id, "w1", "HTTP 410: gone", 410)
    return cid, job.delivery_id


def test_a_failed_delivery_puts_the_conversation_on_top_of_its_owners_queue(store, team, clock):
    boss, alice, _bob, shop = team
    # alice's other work is overdue already: the undelivered one still goes above it
    for n in range(3):
        channel_conversation(store, shop, alice, conv=f"W{n}")
    clock.advance(3600)
    cid, did = fail_one(store, alice, shop)
    store.resolve(alice, cid)  # even a resolved conversation comes back
    view = store.delivery(did)
    assert (view.status, view.last_error) == ("failed", "HTTP 410: gone")
    mine = store.queue(alice, QueueFilter(scope="mine"))
    assert mine[0].id == cid and mine[0].undelivered is True
    assert all(not r.undelivered for r in mine[1:])
    detail = store.conversation(cid, viewer=alice)
    assert detail.messages[-1].delivery_status == "failed"
    assert detail.messages[-1].delivery_error == "HTTP 410: gone"
    assert ("delivery", {"delivery_id": did, "status": "failed"}) in [
        (e.kind, e.payload) for e in store.events_since(0)
    ]


def test_retry_by_the_owner_queues_it_again_and_clears_the_mark(store, team, clock):
    boss, alice, bob, shop = team
    cid, did = fail_one(store, alice, shop)
    with pytest.raises(NotAllowed) as err:
        store.retry_delivery(bob, did)
    assert err.value.code == "delivery_not_yours"
    clock.advance(60)
    again = store.retry_delivery(alice, did)
    assert again.status == "queued" and again.next_attempt_at == clock.now()
    assert store.queue_row(cid).undelivered is False
    [job] = store.claim_deliveries("w2", 10, 30)
    assert job.delivery_id == did and job.attempts == 2
    assert job.created_at == clock.now()  # the give-up time counts from the retry
    store.delivery_sent(did, "w2", 204)
    with pytest.raises(InvalidInput) as err:
        store.retry_delivery(alice, did)
    assert err.value.code == "delivery_not_retryable"
    with pytest.raises(NotFound):
        store.retry_delivery(alice, 99_999)


def test_a_supervisor_may_retry_any_delivery(store, team):
    boss, alice, _bob, shop = team
    _cid, did = fail_one(store, alice, shop)
    assert store.retry_delivery(boss, did).status == "queued"
    kinds = [(e.actor, e.kind, e.payload.get("retry")) for e in store.audit(boss)]
    assert ("boss", "delivery", True) in kinds


def test_deliveries_lists_an_agents_own_and_a_supervisors_all(store, team):
    boss, alice, bob, shop = team
    fail_one(store, alice, shop, "C1")
    cid2 = channel_conversation(store, shop, bob, "C2")
    store.post_reply(bob, cid2, "好的")
    assert [d.conversation_external_id for d in store.deliveries(alice)] == ["C1"]
    assert [d.conversation_external_id for d in store.deliveries(bob)] == ["C2"]
    assert {d.conversation_external_id for d in store.deliveries(boss)} == {"C1", "C2"}
    assert [d.status for d in store.deliveries(boss, status="failed")] == ["failed"]
    assert len(store.deliveries(boss, conversation_id=cid2)) == 1
    with pytest.raises(InvalidInput):
        store.deliveries(boss, status="lost")


# -- receipts ------------------------------------------------------------------------------


def test_receipts_move_a_delivery_forward_only(store, team):
    boss, alice, _bob, shop = team
    cid = channel_conversation(store, shop, alice)
    sent = store.post_reply(alice, cid, "您好")
    [job] = store.claim_deliveries("w1", 10, 30)
    store.delivery_sent(job.delivery_id, "w1", 200)
    pid = f"cs-{sent.id}"
    assert store.delivery_receipt(shop.channel.id, pid, "delivered", None).status == "delivered"
    assert store.delivery_receipt(shop.channel.id, pid, "read", None).status == "read"
    # a late "delivered" does not undo "read"
    assert store.delivery_receipt(shop.channel.id, pid, "delivered", None).status == "read"
    assert store.conversation(cid).messages[-1].delivery_status == "read"
    with pytest.raises(InvalidInput):
        store.delivery_receipt(shop.channel.id, pid, "lost", None)


def test_a_receipt_settles_a_delivery_still_queued(store, team):
    """The receiver got it but the worker died before recording the 2xx: no second send."""
    boss, alice, _bob, shop = team
    cid = channel_conversation(store, shop, alice)
    store.post_reply(alice, cid, "您好", client_id="ws-7")
    [job] = store.claim_deliveries("w1", 10, 30)
    store.delivery_receipt(shop.channel.id, "ws-7", "delivered", None)
    store.delivery_sent(job.delivery_id, "w1", 200)  # late, changes nothing
    assert store.delivery(job.delivery_id).status == "delivered"
    assert store.next_delivery_due() is None


def test_a_failed_receipt_marks_the_conversation_undelivered(store, team):
    boss, alice, _bob, shop = team
    cid = channel_conversation(store, shop, alice)
    sent = store.post_reply(alice, cid, "您好")
    view = store.delivery_receipt(shop.channel.id, f"cs-{sent.id}", "failed", "user blocked us")
    assert (view.status, view.last_error) == ("failed", "user blocked us")
    assert store.queue_row(cid).undelivered is True
    # the integration may take it back
    store.delivery_receipt(shop.channel.id, f"cs-{sent.id}", "delivered", None)
    assert store.queue_row(cid).undelivered is False


def test_receipts_are_scoped_to_the_channel(store, team):
    boss, alice, _bob, shop = team
    other = store.add_channel(boss, "api", "other", webhook_url=WEBHOOK)
    cid = channel_conversation(store, shop, alice)
    sent = store.post_reply(alice, cid, "您好")
    with pytest.raises(NotFound):
        store.delivery_receipt(other.channel.id, f"cs-{sent.id}", "read", None)
    with pytest.raises(NotFound):
        store.delivery_receipt(shop.channel.id, "cs-999999", "read", None)
    with pytest.raises(NotFound):
        store.delivery_receipt(shop.channel.id, "in-C1-1", "read", None)  # the customer's own
    # An integration's own numbering that looks like ours but is beyond any message id (on
    # PostgreSQL it once overflowed the integer column: a server error instead of "not found").
    with pytest.raises(NotFound):
        store.delivery_receipt(shop.channel.id, "cs-20261207123456", "read", None)
    assert store.delivery(store.deliveries(boss)[0].delivery_id).status == "queued"


def test_deleting_a_conversation_takes_its_deliveries(store, team):
    boss, alice, _bob, shop = team
    _cid, did = fail_one(store, alice, shop)
    store.delete_conversation(boss, _cid)
    assert store.deliveries(boss) == []
    with pytest.raises(NotFound):
        store.delivery(did)


# -- two processes ----------------------------------------------------------------------------


def _claimer(url: str, owner: str, rounds: int, queue) -> None:
    store = Store.open(url)
    got: list[int] = []
    try:
        for _ in range(rounds):
            for job in store.claim_deliveries(owner, 7, 600):
                got.append(job.delivery_id)
    finally:
        store.dispose()
    queue.put(got)


@pytest.mark.slow
def test_two_processes_never_claim_the_same_delivery(store_url):
    store = Store.open(store_url)
    alice = store.ensure_agent("alice")
    shop = store.add_channel(None, "api", "shop", webhook_url=WEBHOOK)
    lines = [customer_line(1, f"P{n}") for n in range(120)]
    store.ingest_from_channel(shop.channel.id, lines)
    for n in range(120):
        cid = store.conversation_id(f"P{n}")
        store.claim(alice, cid)
        store.post_reply(alice, cid, "您好")
    store.dispose()
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    workers = [
        ctx.Process(target=_claimer, args=(store_url, f"w{i}", 15, results)) for i in range(2)
    ]
    for w in workers:
        w.start()
    claimed = [results.get(timeout=60) for _ in workers]
    for w in workers:
        w.join(timeout=30)
        assert w.exitcode == 0
    every = claimed[0] + claimed[1]
    assert len(every) == len(set(every)) == 120
    assert claimed[0] and claimed[1]  # both took part


def _refuse_reply_events(store) -> None:
    """A trigger that fails the reply's transaction at its very end (its event row), after
    the message and its delivery were written: what a crash or a lost connection there does."""
    with store._write() as conn:
        if store.dialect == "postgresql":
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse_reply() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_reply BEFORE INSERT ON event FOR EACH ROW "
                "WHEN (NEW.kind = 'reply') EXECUTE FUNCTION refuse_reply()"
            )
        else:
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_reply BEFORE INSERT ON event WHEN NEW.kind = 'reply' "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )


def test_a_reply_that_fails_at_its_commit_leaves_neither_message_nor_delivery(store, team):
    boss, alice, _bob, shop = team
    cid = channel_conversation(store, shop, alice)
    _refuse_reply_events(store)
    with pytest.raises(Exception, match="refused"):
        store.post_reply(alice, cid, "您好")
    assert store.deliveries(boss) == []
    assert [m.author_kind for m in store.conversation(cid).messages] == ["customer"]
    assert store.claim_deliveries("w1", 10, 30) == []


def test_retrying_a_delivery_in_flight_does_not_send_it_twice_at_once(store, team, clock):
    boss, alice, _bob, shop = team
    cid = channel_conversation(store, shop, alice)
    store.post_reply(alice, cid, "您好")
    [job] = store.claim_deliveries("w1", 10, 30)
    store.retry_delivery(alice, job.delivery_id)  # impatient: the worker is still posting
    assert store.claim_deliveries("w2", 10, 30) == []
    store.delivery_sent(job.delivery_id, "w1", 200)
    assert store.delivery(job.delivery_id).status == "sent"


def test_an_undelivered_reply_is_no_sla_breach_in_the_teams_figures(store, team):
    boss, alice, _bob, shop = team
    cid, _did = fail_one(store, alice, shop)
    assert store.queue(alice)[0].id == cid  # on top of its owner's queue...
    # ...but the dashboard counts its real deadline, which the reply met
    assert store.breach_list() == []
    assert store.live_counts().by_state["breached"] == 0
    assert all(load.breached == 0 for load in store.agent_loads())
