"""The store's public surface: what a caller reaches by name is the thing it means."""

from __future__ import annotations

from cs_tui.data.store import Store


def test_close_is_the_conversation_action_and_dispose_lets_go(store_url, clock):
    store = Store.open(store_url, clock=clock)
    alice = store.ensure_agent("alice", "Alice")
    cid = store.create_conversation(
        external_id="A", customer_handle="cust-a", customer_name="A", channel="chat"
    )
    store.post_customer_message(cid, "你好")
    store.claim(alice, cid)
    start = store.last_event_id()

    assert store.close(alice, cid).status == "closed"

    assert store.queue_row(cid).status == "closed"
    assert [(e.kind, e.actor) for e in store.events_since(start)] == [("close", "alice")]
    store.dispose()
    with Store.open(store_url, clock=clock) as again:
        assert again.queue_row(cid).status == "closed"
