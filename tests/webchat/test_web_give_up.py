"""A reply to a web visitor who never comes back does not stay `queued` for ever: after the web
give-up time it is `failed` with a reason the agent can act on, and the conversation shows as
undelivered. A reply the page received in time is never given up on; one the visitor sees after
the give-up after all reads `read` again and the conversation is no longer undelivered.

The store's side here (both backends, a FakeClock); `cs-tui serve` doing it on its own in
test_web_give_up_serve.py."""

from __future__ import annotations

from cs_tui.channels.web_give_up import give_up_reason, reason_seconds
from cs_tui.data.views import QueueFilter

DAY_S = 24 * 3600.0


def team(store):
    """The web channel `shop` (added before the team, as on a new store), Sam and Alice."""
    store.add_channel(None, "web", "shop", settings={"origins": ["https://shop.example"]})
    sam = store.add_agent(None, "sam", "Sam", "supervisor")
    return sam, store.add_agent(sam, "alice", "Alice Chen", "agent")


def web_conversation(store, text: str = "Where is my parcel?", visitor: str = "v1") -> int:
    """A web channel's conversation with one visitor message, as the chat server stores it."""
    channel = store.web_channel("shop")
    assert channel is not None
    items = store.ingest_from_channel(
        channel.id,
        [
            {
                "message_id": f"web-shop-{visitor}-m-{text[:8]}",
                "conversation_id": f"web-shop-{visitor}",
                "customer": f"visitor-{visitor}",
                "author": "customer",
                "text": text,
                "sent_at": store.clock.now().isoformat(),
            }
        ],
    )
    assert [i.status for i in items] == ["stored"], items
    found = store.web_conversation(channel.id, f"web-shop-{visitor}")
    assert found is not None
    return found


def test_the_reason_reads_the_give_up_time_and_is_recognised():
    assert give_up_reason(DAY_S) == "visitor did not return within 24 h"
    assert give_up_reason(2 * DAY_S) == "visitor did not return within 2 d"
    assert give_up_reason(90 * 60) == "visitor did not return within 90 min"
    assert give_up_reason(1) == "visitor did not return within 1 s"
    for seconds in (DAY_S, 2 * DAY_S, 5400, 45):
        assert reason_seconds(give_up_reason(seconds)) == seconds
    assert reason_seconds("HTTP 400: visitor did not return within 24 h") is None
    assert reason_seconds(None) is None


def test_a_reply_whose_visitor_never_returns_fails_after_the_give_up_time(store, clock):
    sam, alice = team(store)
    gone = web_conversation(store, visitor="gone")
    back = web_conversation(store, visitor="back")
    for conversation in (gone, back):
        assert store.claim(alice, conversation)
        store.post_reply(alice, conversation, "It left the warehouse today.")
    # The second visitor's page was open: the reply was pushed to it.
    pushed = [m.seq for m in store.web_messages(back) if m.author == "agent"]
    assert store.web_receipts(back, pushed, "sent") == 1
    reason = give_up_reason(DAY_S)

    clock.advance(hours=23, minutes=59)
    assert store.give_up_web_deliveries(DAY_S, reason) == 0
    assert [d.status for d in store.deliveries(alice, conversation_id=gone)] == ["queued"]

    clock.advance(minutes=2)
    assert store.give_up_web_deliveries(DAY_S, reason) == 1
    [failed] = store.deliveries(alice, conversation_id=gone)
    assert (failed.status, failed.last_error) == ("failed", "visitor did not return within 24 h")
    assert [d.status for d in store.deliveries(alice, conversation_id=back)] == ["sent"]
    # Undelivered: on top of alice's queue with the mark, the other one not.
    assert store.queue_row(gone).undelivered and not store.queue_row(back).undelivered
    mine = store.queue(alice, QueueFilter(scope="mine"), limit=10)
    assert mine[0].id == gone
    assert store.give_up_web_deliveries(DAY_S, reason) == 0  # once


def test_a_visitor_who_comes_back_after_the_give_up_still_gets_the_reply(store, clock):
    sam, alice = team(store)
    conversation = web_conversation(store)
    assert store.claim(alice, conversation)
    store.post_reply(alice, conversation, "Your refund was approved.")
    clock.advance(hours=25)
    assert store.give_up_web_deliveries(DAY_S, give_up_reason(DAY_S)) == 1
    assert store.queue_row(conversation).undelivered

    # The page opens two days later: the reply is in what it reads, and once shown it is read.
    shown = [m for m in store.web_messages(conversation) if m.author == "agent"]
    assert [m.text for m in shown] == ["Your refund was approved."]
    assert store.web_receipts(conversation, [m.seq for m in shown], "read") == 1
    assert [d.status for d in store.deliveries(alice, conversation_id=conversation)] == ["read"]
    assert not store.queue_row(conversation).undelivered


def test_an_agents_retry_waits_for_the_visitor_a_whole_give_up_time_again(store, clock):
    sam, alice = team(store)
    conversation = web_conversation(store)
    assert store.claim(alice, conversation)
    store.post_reply(alice, conversation, "Still there?")
    clock.advance(hours=25)
    reason = give_up_reason(DAY_S)
    assert store.give_up_web_deliveries(DAY_S, reason) == 1
    [failed] = store.deliveries(alice, conversation_id=conversation)
    store.retry_delivery(alice, failed.delivery_id)
    assert not store.queue_row(conversation).undelivered
    clock.advance(hours=23)
    assert store.give_up_web_deliveries(DAY_S, reason) == 0
    clock.advance(hours=2)
    assert store.give_up_web_deliveries(DAY_S, reason) == 1


def test_webhook_deliveries_are_not_the_web_give_ups(store, clock):
    """An API channel's queued reply is the webhook worker's to retry or fail, not this."""
    sam, alice = team(store)
    api = store.add_channel(sam, "api", "app", webhook_url="http://127.0.0.1:9/hook")
    items = store.ingest_from_channel(
        api.channel.id,
        [
            {
                "message_id": "m-1",
                "conversation_id": "c-1",
                "customer": "wang.fang",
                "author": "customer",
                "text": "hello?",
                "sent_at": clock.now().isoformat(),
            }
        ],
    )
    assert [i.status for i in items] == ["stored"]
    [row] = store.queue(sam, QueueFilter(scope="all", text="c-1"), limit=5)
    conversation = row.id
    assert store.claim(alice, conversation)
    store.post_reply(alice, conversation, "Hello!")
    clock.advance(days=3)
    assert store.give_up_web_deliveries(DAY_S, give_up_reason(DAY_S)) == 0
    assert [d.status for d in store.deliveries(alice, conversation_id=conversation)] == ["queued"]
