"""deliveries_sent: the worker's results for many POSTs written in one transaction.

It must settle exactly what delivery_sent would, one by one: only rows this worker still
leases, each with its own status code and its own change-feed event.
"""

from __future__ import annotations

from cs_tui.data.store import Store


def replies(store: Store, n: int) -> list[int]:
    boss = store.ensure_agent("boss", role="supervisor")
    alice = store.ensure_agent("alice")
    shop = store.add_channel(boss, "api", "shop", webhook_url="https://shop.example/hook")
    lines = [
        {
            "message_id": f"in-{i}",
            "conversation_id": f"C{i}",
            "customer": f"wx-{i}",
            "author": "customer",
            "text": "我的快递到哪了",
            "sent_at": "2026-11-11T08:59:00Z",
        }
        for i in range(n)
    ]
    store.ingest_from_channel(shop.channel.id, lines)
    for i in range(n):
        cid = store.conversation_id(f"C{i}")
        store.claim(alice, cid)
        store.post_reply(alice, cid, f"您好 {i}")
    return sorted(d.delivery_id for d in store.deliveries(boss))


def test_many_results_in_one_call_settle_only_the_callers_leases(store: Store) -> None:
    ids = replies(store, 4)
    mine = store.claim_deliveries("w1", 3, 60)
    theirs = store.claim_deliveries("w2", 3, 60)
    assert len(mine) == 3 and len(theirs) == 1
    before = store.last_event_id()
    mine_ids = [j.delivery_id for j in mine]
    results = [(mine_ids[0], 200), (mine_ids[1], 204), (mine_ids[2], 201)]
    results.append((theirs[0].delivery_id, 200))  # not ours: left alone
    assert store.deliveries_sent("w1", results) == 3
    views = {i: store.delivery(i) for i in ids}
    assert sorted(i for i, v in views.items() if v.status == "sent") == sorted(mine_ids)
    assert views[theirs[0].delivery_id].status == "queued"
    events = [e for e in store.events_since(before) if e.kind == "delivery"]
    assert sorted(e.payload["delivery_id"] for e in events) == sorted(mine_ids)
    assert {e.payload["status"] for e in events} == {"sent"}
    # A second report of the same results changes nothing (the leases are gone).
    assert store.deliveries_sent("w1", results) == 0
    assert store.deliveries_sent("w1", []) == 0
    assert store.next_delivery_due() is not None  # w2's row is still on its way
