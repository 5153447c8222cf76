"""Gateway channels in the store, on SQLite and PostgreSQL: who may manage them, what is kept of
their tokens, and what an integration may bring in through one.
"""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from cs_tui.data.errors import InvalidInput, NotAllowed, NotFound
from cs_tui.data.views import IngestRecord

WEBHOOK = "https://shop.example/hooks/cs"


def msg(i: int | str, conv: str = "C1", **extra: object) -> dict:
    line: dict[str, object] = {
        "message_id": f"m-{i}",
        "conversation_id": conv,
        "customer": "wx-1",
        "author": "customer",
        "text": f"您好 {i}",
        "sent_at": "2026-11-11T08:59:00Z",
    }
    line.update(extra)
    return line


@pytest.fixture
def boss(store):
    return store.ensure_agent("boss", role="supervisor")


@pytest.fixture
def shop(store, boss):
    return store.add_channel(boss, "api", "shop", webhook_url=WEBHOOK)


# -- managing channels --------------------------------------------------------------------


def test_add_returns_the_token_once_and_keeps_only_its_hash(store, boss):
    made = store.add_channel(boss, "api", "shop", channel_type="ticket", webhook_url=WEBHOOK)
    assert made.token.startswith("cst_") and len(made.token) > 40
    assert len(made.secret) == 64
    assert made.channel.name == "shop" and made.channel.channel_type == "ticket"
    with store._read() as conn:
        rows = [dict(r) for r in conn.execute(sa.text("SELECT * FROM gateway_channel")).mappings()]
    assert len(rows) == 1
    assert made.token not in repr(rows)
    assert rows[0]["token_hash"] == hashlib.sha256(made.token.encode()).hexdigest()
    # What anyone is shown of a channel never holds the token or the secret.
    shown = repr(store.channel(boss, "shop")) + repr(store.list_channels(boss))
    assert made.token not in shown and made.secret not in shown


def test_the_token_finds_its_channel_and_nothing_else_does(store, shop):
    auth = store.channel_by_token(shop.token)
    assert auth is not None and auth.name == "shop" and auth.secret == shop.secret
    assert store.channel_by_token(shop.token + "x") is None
    assert store.channel_by_token("") is None
    assert store.channel_by_token(hashlib.sha256(shop.token.encode()).hexdigest()) is None
    assert store.channel_by_token("x" * 100_000) is None


def test_rotate_replaces_token_and_secret(store, boss, shop):
    again = store.rotate_channel(boss, "shop")
    assert again.token != shop.token and again.secret != shop.secret
    assert store.channel_by_token(shop.token) is None
    auth = store.channel_by_token(again.token)
    assert auth is not None and auth.secret == again.secret


def test_disable_and_enable(store, boss, shop):
    assert store.ingest_from_channel(shop.channel.id, [msg(0)])[0].status == "stored"
    off = store.set_channel_active(boss, "shop", False)
    assert off.active is False
    auth = store.channel_by_token(shop.token)
    assert auth is not None and auth.active is False  # the server answers 403, not 401
    with pytest.raises(NotAllowed) as err:
        store.ingest_from_channel(auth.id, [msg(1)])
    assert err.value.code == "channel_disabled"
    with pytest.raises(NotAllowed):  # an empty batch too
        store.ingest_from_channel(auth.id, ["not an object"])
    assert store.conversation(store.conversation_id("C1")).message_count == 1
    assert store.set_channel_active(boss, "shop", True).active is True
    assert store.ingest_from_channel(auth.id, [msg(1)])[0].status == "stored"
    kinds = [e.kind for e in store.audit(boss)]
    assert {"channel_added", "channel_disabled", "channel_enabled"} <= set(kinds)


@pytest.mark.parametrize(
    "name", ["Shop", "", "-shop", "shop name", "a" * 65, "shop\n", "商店", "shop/1"]
)
def test_bad_names_are_refused(store, boss, name):
    with pytest.raises(InvalidInput) as err:
        store.add_channel(boss, "api", name, webhook_url=WEBHOOK)
    assert err.value.code == "bad_channel_name"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://shop.example/h",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://",
        "http:///path",
        "shop.example/hook",
        "https://shop.example/a b",
        "https://shop.example:port/h",
        "https://shop.example/\x1b[2J",
    ],
)
def test_webhook_urls_must_be_http_with_a_host(store, boss, url):
    with pytest.raises(InvalidInput) as err:
        store.add_channel(boss, "api", "shop", webhook_url=url)
    assert err.value.code == "bad_webhook_url"


def test_unknown_kind_and_type_and_duplicate_names(store, boss, shop):
    with pytest.raises(InvalidInput):
        store.add_channel(boss, "fax", "other", webhook_url=WEBHOOK)
    with pytest.raises(InvalidInput):
        store.add_channel(boss, "api", "other", channel_type="phone", webhook_url=WEBHOOK)
    with pytest.raises(InvalidInput) as err:
        store.add_channel(boss, "api", "shop", webhook_url=WEBHOOK)
    assert err.value.code == "channel_exists"
    with pytest.raises(NotFound):
        store.channel(boss, "nope")


def test_only_supervisors_manage_channels_once_there_is_one(store):
    # A new store: whoever sets it up may add the first channel.
    first = store.add_channel(None, "api", "first", webhook_url=WEBHOOK)
    assert first.channel.name == "first"
    boss = store.ensure_agent("boss", role="supervisor")
    alice = store.ensure_agent("alice")
    for attempt in (
        lambda who: store.add_channel(who, "api", "second", webhook_url=WEBHOOK),
        lambda who: store.rotate_channel(who, "first"),
        lambda who: store.set_channel_active(who, "first", False),
        lambda who: store.list_channels(who),
        lambda who: store.channel(who, "first"),
    ):
        for who in (None, alice):
            with pytest.raises(NotAllowed):
                attempt(who)
    assert store.channel_by_token(first.token) is not None  # nothing was rotated
    assert [c.name for c in store.list_channels(boss)] == ["first"]
    disabled_boss = store.ensure_agent("boss2", role="supervisor")
    store.set_active(boss, "boss2", False)
    with pytest.raises(NotAllowed):
        store.add_channel(disabled_boss, "api", "third", webhook_url=WEBHOOK)


# -- inbound ------------------------------------------------------------------------------


def test_inbound_messages_open_conversations_of_the_channel(store, shop, boss):
    items = store.ingest_from_channel(shop.channel.id, [msg(1), msg(2), msg(3, conv="C2")])
    assert [(i.index, i.status) for i in items] == [(0, "stored"), (1, "stored"), (2, "stored")]
    assert items[0].message_id == "m-1" and items[0].conversation_id == "C1"
    cid = store.conversation_id("C1")
    detail = store.conversation(cid)
    assert detail.row.channel == "chat"  # the channel's type filled in the missing field
    assert [m.body for m in detail.messages] == ["您好 1", "您好 2"]
    with store._read() as conn:
        sources = conn.execute(sa.text("SELECT DISTINCT source_id FROM conversation")).all()
    assert sources == [(shop.channel.id,)]
    # Workstations learn of the new messages from the change feed.
    assert "messages_ingested" in {e.kind for e in store.events_since(0)}


def test_a_ticket_channel_opens_ticket_conversations(store, boss):
    desk = store.add_channel(boss, "api", "desk", channel_type="ticket", webhook_url=WEBHOOK)
    [item] = store.ingest_from_channel(desk.channel.id, [msg(1, conv="T1")])
    assert item.status == "stored"
    assert store.conversation(store.conversation_id("T1")).row.channel == "ticket"
    [other] = store.ingest_from_channel(desk.channel.id, [msg(2, conv="T2", channel="chat")])
    assert other.status == "rejected" and "channel" in (other.reason or "")


def test_repeated_messages_are_duplicates_and_stored_once(store, shop):
    first = store.ingest_from_channel(shop.channel.id, [msg(1), msg(1)])
    assert [i.status for i in first] == ["stored", "duplicate"]
    again = store.ingest_from_channel(shop.channel.id, [msg(1), msg(2)])
    assert [i.status for i in again] == ["duplicate", "stored"]
    detail = store.conversation(store.conversation_id("C1"))
    assert [m.external_id for m in detail.messages] == ["m-1", "m-2"]


def test_an_integration_speaks_for_customers_only(store, shop):
    items = store.ingest_from_channel(
        shop.channel.id,
        [
            msg(1, author="agent", agent="alice"),
            msg(2, author="note", agent="alice"),
            msg(3, author="system"),
            msg(4),
        ],
    )
    assert [i.status for i in items] == ["rejected", "rejected", "rejected", "stored"]
    assert all("customer" in (i.reason or "") for i in items[:3])
    [named] = store.ingest_from_channel(shop.channel.id, [msg(5, agent="mallory")])
    assert named.status == "stored"
    # nobody joins the team on a channel's say-so
    assert store.get_agent("alice") is None and store.get_agent("mallory") is None
    assert store.queue_row(store.conversation_id("C1")).assignee is None


def test_bad_items_are_named_and_the_good_ones_stored(store, shop):
    items = store.ingest_from_channel(
        shop.channel.id,
        [
            "not an object",
            {"message_id": "m-x"},
            msg(1, text=5),
            msg(2, sent_at="yesterday"),
            msg(3),
        ],
    )
    assert [i.status for i in items] == ["rejected"] * 4 + ["stored"]
    assert items[1].message_id == "m-x" and "missing" in (items[1].reason or "")
    assert items[0].message_id is None
    assert all(i.reason for i in items[:4])


def test_another_channels_conversation_is_refused(store, boss, shop):
    other = store.add_channel(boss, "api", "other", webhook_url=WEBHOOK)
    store.ingest_from_channel(shop.channel.id, [msg(1)])
    [item] = store.ingest_from_channel(other.channel.id, [msg(2, conv="C1")])
    assert item.status == "rejected"
    assert item.reason == "'conversation_id' belongs to another channel: not merged"
    # A message id stored in another channel's conversation is refused, not a duplicate.
    [again] = store.ingest_from_channel(other.channel.id, [msg(1, conv="C9")])
    assert again.status == "rejected" and "another conversation" in (again.reason or "")
    assert store.conversation(store.conversation_id("C1")).message_count == 1


def test_an_imported_conversation_is_not_the_channels(store, shop):
    from datetime import UTC, datetime

    store.ingest(
        [
            IngestRecord(
                message_id="imp-1",
                conversation_id="IMP",
                channel="chat",
                customer="wx-1",
                author="customer",
                text="从文件导入",
                sent_at=datetime(2026, 11, 11, 8, 0, tzinfo=UTC),
            )
        ]
    )
    items = store.ingest_from_channel(
        shop.channel.id, [msg(1, conv="IMP"), msg(2, conv="NEW", message_id="imp-1")]
    )
    assert [i.status for i in items] == ["rejected", "rejected"]
    assert store.conversation(store.conversation_id("IMP")).message_count == 1


def test_another_customers_conversation_is_refused_as_on_import(store, shop):
    store.ingest_from_channel(shop.channel.id, [msg(1)])
    [item] = store.ingest_from_channel(shop.channel.id, [msg(2, customer="wx-other")])
    assert item.status == "rejected" and "another customer" in (item.reason or "")


def test_a_batch_of_500_is_one_transaction(store, shop):
    batch = [msg(i, conv=f"C{i % 50}") for i in range(500)]
    before = store.last_event_id()
    items = store.ingest_from_channel(shop.channel.id, batch)
    assert [i.status for i in items] == ["stored"] * 500
    events = store.events_since(before)
    # one messages_ingested event per conversation, written together
    assert len([e for e in events if e.kind == "messages_ingested"]) == 50
    assert len({e.at for e in events}) == 1
