"""Find anything: a conversation by id, order number, customer name or handle, or any part of its
messages, on SQLite and PostgreSQL, as the agent may see it."""

from __future__ import annotations

import sqlite3

import pytest

from cs_tui.data import find_index
from cs_tui.data.store import Store
from cs_tui.data.views import QueueFilter
from tests.conftest import make_pg_url

ORDER = "5024549505020500"


@pytest.fixture
def team(store):
    store.ensure_agent("boss", "Boss", role="supervisor")
    return {
        "alice": store.ensure_agent("alice", "Alice"),
        "bob": store.ensure_agent("bob", "Bob"),
        "boss": store.get_agent("boss"),
    }


def chat(store, ext, name, handle, *texts):
    cid = store.create_conversation(external_id=ext, customer_handle=handle, customer_name=name)
    for text in texts:
        store.post_customer_message(cid, text)
    return cid


@pytest.fixture
def shop(store, team, clock):
    """Five conversations; the one with the order number has newer ones on top of it."""
    ids = {
        "order": chat(store, "WX-1001", "王小明", "wx-wang", f"我的订单{ORDER}还没发货", "您好"),
        "refund": chat(store, "WX-1002", "李雷", "wx-li", "退款什么时候到账?"),
        "english": chat(store, "EM-77", "Alice Chen", "alice@example.com", "The parcel is LATE"),
    }
    for i in range(3):
        clock.advance(60)
        ids[f"other{i}"] = chat(store, f"WX-2{i}", f"客户{i}", f"wx-{i}", "你好,在吗")
    return ids


def ext(found):
    return [getattr(f, "row", f).external_id for f in found]


@pytest.mark.parametrize(
    ("text", "expected", "matched"),
    [
        (ORDER, "WX-1001", "message"),  # an order number inside a message
        (ORDER[5:12], "WX-1001", "message"),  # any part of it
        ("王小明", "WX-1001", "customer"),
        ("小明", "WX-1001", "customer"),  # part of a Chinese name (two characters)
        ("wx-li", "WX-1002", "customer"),  # a handle, exactly
        ("alice@", "EM-77", "customer"),  # part of a handle
        ("WX-1002", "WX-1002", "id"),
        ("EM-7", "EM-77", "customer"),  # part of a conversation id
        ("什么时候到", "WX-1002", "message"),  # Chinese message text
        ("parcel is late", "EM-77", "message"),  # any case
        ("alice chen", "EM-77", "customer"),  # a name in another case
        ("em-7", "EM-77", "customer"),  # part of an id in another case
    ],
)
def test_find_by_every_kind_of_key(store, team, shop, text, expected, matched):
    found = store.find(team["boss"], text)
    assert ext(found)[:1] == [expected]
    assert found[0].matched == matched


def test_internal_id_and_order_tag_find_exactly(store, team, shop):
    boss = team["boss"]
    assert ext(store.find(boss, str(shop["refund"])))[0] == "WX-1002"
    store.tag_conversation(boss, shop["english"], "order:88001234")
    found = store.find(boss, "88001234")
    assert ext(found) == ["EM-77"] and found[0].matched == "order"


def test_message_hit_carries_the_message_text(store, team, shop):
    [hit] = store.find(team["boss"], ORDER)
    assert hit.text == f"我的订单{ORDER}还没发货"


def test_nothing_found_and_blank_text(store, team, shop):
    assert store.find(team["boss"], "no such thing anywhere") == []
    assert store.find(team["boss"], "   ") == []


def test_a_common_word_finds_the_conversations_of_its_newest_messages(store, team, clock):
    """Each conversation counts once, by its newest message holding the word, and one the
    customer's name found already does not take a message's place."""
    boss = team["boss"]
    named = chat(store, "SUN-0", "Sunset Lee", "wx-sun", "sunset photo")
    for i in range(1, 7):
        chat(store, f"SUN-{i}", f"客户{i}", f"wx-s{i}", f"the SUNSET tour {i}")
    for i in (2, 5, 3):  # newest messages, some conversations twice
        clock.advance(60)
        store.post_customer_message(store.conversation_id(f"SUN-{i}"), "sunset again")
        store.post_customer_message(store.conversation_id(f"SUN-{i}"), "still the sunset")
    store.post_customer_message(named, "sunset from the named one")
    found = store.find(boss, "sunset", limit=4)
    assert ext(found) == ["SUN-0", "SUN-3", "SUN-5", "SUN-2"]
    assert [f.matched for f in found] == ["customer", "message", "message", "message"]
    assert found[1].text == "still the sunset"
    assert ext(store.find(boss, "sunset", limit=6)) == [
        "SUN-0",
        "SUN-3",
        "SUN-5",
        "SUN-2",
        "SUN-6",
        "SUN-4",
    ]


def test_messages_are_read_up_to_four_a_conversation_wanted(store, team):
    """Two conversations wanted: up to 8 messages are read, the first 4, then the rest."""
    boss = team["boss"]
    chat(store, "MOON-1", "甲", "wx-m1", "moonlight once")
    chat(store, "MOON-2", "乙", "wx-m2", *["moonlight again"] * 5)
    assert ext(store.find(boss, "moonlight", limit=2)) == ["MOON-2", "MOON-1"]
    chat(store, "STAR-1", "丙", "wx-s1", "starlight once")
    chat(store, "STAR-2", "丁", "wx-s2", *["starlight again"] * 8)
    assert ext(store.find(boss, "starlight", limit=2)) == ["STAR-2"]


def test_new_messages_are_found_right_after_they_are_stored(store, team, shop):
    store.find(team["boss"], "anything")  # the index is current
    store.post_customer_message(shop["other0"], "发票抬头写错了 INV-99887")
    alice = team["alice"]
    store.claim(alice, shop["other1"])
    store.post_reply(alice, shop["other1"], "已为您补发 SF123456789")
    assert ext(store.find(team["boss"], "INV-99887")) == ["WX-20"]
    assert ext(store.find(team["boss"], "SF123456789")) == ["WX-21"]


def test_an_agent_finds_only_what_they_may_see(store, team, shop):
    alice, bob, boss = team["alice"], team["bob"], team["boss"]
    store.claim(bob, shop["order"])
    assert store.find(alice, ORDER) == []
    assert store.find(alice, "王小明") == []
    assert store.find(alice, "WX-1001") == []
    assert ext(store.find(bob, ORDER)) == ["WX-1001"]
    assert ext(store.find(boss, ORDER)) == ["WX-1001"]
    # The unassigned pool and their own work they do find.
    assert ext(store.find(alice, "什么时候到")) == ["WX-1002"]
    # Nor does the queue filter show it to her.
    assert store.queue(alice, QueueFilter(text=ORDER)) == []
    assert ext(store.queue(bob, QueueFilter(text=ORDER))) == ["WX-1001"]


def test_a_conversation_handed_over_stays_findable_by_the_one_who_handed_it(store, team, shop):
    alice, bob = team["alice"], team["bob"]
    store.claim(alice, shop["order"])
    store.assign(alice, shop["order"], "bob", note="customer wants a call back")
    assert ext(store.find(bob, ORDER)) == ["WX-1001"]
    assert ext(store.find(alice, ORDER)) == ["WX-1001"]
    assert store.find(team["alice"], "WX-1001")[0].row.assignee == "bob"


def test_a_private_note_is_found_only_by_who_sees_it_in_full(store, team, shop):
    alice, bob, boss = team["alice"], team["bob"], team["boss"]
    store.claim(bob, shop["refund"])
    store.post_note(bob, shop["refund"], "客户很急 NOTE-4242")
    assert ext(store.find(bob, "NOTE-4242")) == ["WX-1002"]
    assert ext(store.find(boss, "NOTE-4242")) == ["WX-1002"]
    store.claim(alice, shop["english"])
    store.post_note(alice, shop["english"], "private NOTE-5151")
    assert store.find(bob, "NOTE-5151") == []


def test_training_conversations_are_found_only_in_training(store, team):
    cid = store.create_conversation(
        external_id="RP-1", customer_handle="rp-1", customer_name="陪练", training=True
    )
    store.post_customer_message(cid, "role-play ORDER-31337")
    assert store.find(team["boss"], "ORDER-31337") == []
    assert ext(store.find(team["boss"], "ORDER-31337", training=True)) == ["RP-1"]


def test_queue_filter_text_finds_messages_not_only_the_preview(store, team, shop):
    boss = team["boss"]
    # The order number is in the first message; the preview shows the newest ("您好").
    assert ext(store.queue(boss, QueueFilter(text=ORDER))) == ["WX-1001"]
    assert store.queue_count(boss, QueueFilter(text=ORDER)) == 1
    # The other filters still apply on top of the text.
    assert store.queue(boss, QueueFilter(text=ORDER, channel="email")) == []
    # Short text (shorter than the index's 3 characters) still matches names and previews.
    assert set(ext(store.queue(boss, QueueFilter(text="在吗")))) == {"WX-20", "WX-21", "WX-22"}


def test_conversations_stored_after_a_search_are_found_by_name_handle_and_id(store, team, shop):
    boss = team["boss"]
    store.find(boss, "x")  # the index is current
    chat(store, "LATE-9001", "欧阳娜娜", "wx-ouyang", "hello")
    for text in ("欧阳娜娜", "娜娜", "wx-ouyang", "ouyang", "LATE-90", "LATE-9001"):
        assert ext(store.find(boss, text)) == ["LATE-9001"], text


def test_a_deleted_conversation_is_no_longer_found_and_ids_reused_are(store, team, shop):
    boss = team["boss"]
    store.find(boss, "x")  # index everything so far
    last = shop["other2"]
    store.post_customer_message(last, "TOP-MESSAGE-1")
    store.find(boss, "TOP-MESSAGE-1")
    store.delete_conversation(boss, last)
    assert store.find(boss, "TOP-MESSAGE-1") == []
    assert store.find(boss, "WX-22") == []
    # SQLite hands the deleted top message ids out again: they must be indexed anew.
    cid = chat(store, "WX-NEW", "新客户", "wx-new", "REUSED-ID-TEXT")
    assert ext(store.find(boss, "REUSED-ID-TEXT")) == ["WX-NEW"]
    assert ext(store.find(boss, "新客户")) == ["WX-NEW"]
    assert ext(store.find(boss, "WX-NE")) == ["WX-NEW"]
    assert store.conversation(cid).messages[0].body == "REUSED-ID-TEXT"


def test_wildcards_typed_are_literal(store, team, shop):
    boss = team["boss"]
    chat(store, "PCT-1", "Pct", "pct", "打 100% 折扣")
    assert ext(store.find(boss, "100%")) == ["PCT-1"]
    assert store.find(boss, "1_0") == []


def test_import_leaves_the_index_current(store, team, tmp_path):
    lines = [
        '{"message_id": "i-1", "conversation_id": "IMP-1", "channel": "chat", "customer": "imp", '
        '"author": "customer", "text": "导入的订单 777000111", "sent_at": "2026-11-11T08:00:00Z"}'
    ]
    from cs_tui.data.io import ingest_lines

    ingest_lines(store, lines, [])
    assert store.refresh_find_index() in (0, 1)
    assert ext(store.find(team["boss"], "777000111")) == ["IMP-1"]


def test_an_older_store_gets_the_index_filled_when_upgraded(tmp_path, clock):
    path = tmp_path / "old.db"
    store = Store.open(str(path), clock=clock)
    boss = store.ensure_agent("boss", role="supervisor")
    cid = store.create_conversation(external_id="OLD-1", customer_handle="old", customer_name="旧")
    store.post_customer_message(cid, f"旧订单 {ORDER}")
    store.dispose()
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("DROP TABLE find_text")
    raw.execute("DROP TABLE find_keys")
    raw.execute("DELETE FROM schema_meta WHERE key = 'find_indexed'")
    raw.execute("UPDATE schema_meta SET value = '5' WHERE key = 'schema_version'")
    raw.close()
    store = Store.open(str(path), clock=clock)
    try:
        with store._read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM find_text").scalar() == 1
            assert conn.exec_driver_sql("SELECT count(*) FROM find_keys").scalar() == 1
        assert ext(store.find(boss, ORDER)) == ["OLD-1"]
        assert ext(store.find(boss, "OLD-")) == ["OLD-1"]
    finally:
        store.dispose()


def test_without_the_index_finding_still_works_by_scanning(tmp_path, clock):
    """An SQLite without FTS5's trigram tokenizer gets no index, and the same answers."""
    store = Store.open(str(tmp_path / "plain.db"), clock=clock)
    try:
        boss = store.ensure_agent("boss", role="supervisor")
        with store._write() as conn:
            conn.exec_driver_sql("DROP TABLE find_text")
        cid = store.create_conversation(external_id="P-1", customer_handle="p", customer_name="P")
        store.post_customer_message(cid, f"订单 {ORDER}")
        assert ext(store.find(boss, ORDER)) == ["P-1"]
        store.delete_conversation(boss, cid)
        assert store.find(boss, ORDER) == []
    finally:
        store.dispose()


PG_FIND_INDEXES = {
    # Every search reads a GIN index's whole pending list: none on the short texts' indexes,
    # a short one on the message text's.
    "ix_find_message_body": "gin_pending_list_limit=256",
    "ix_find_customer_name": "fastupdate=off",
    "ix_find_customer_handle": "fastupdate=off",
    "ix_find_conversation_external": "fastupdate=off",
}


def _find_index_options(store) -> dict[str, str]:
    with store._read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT c.relname, array_to_string(c.reloptions, ',') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relname LIKE 'ix_find%%'"
        ).all()
    return {name: options or "" for name, options in rows}


def test_postgresql_find_indexes_keep_short_pending_lists_also_when_upgraded(
    store, store_url, team, shop
):
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL's GIN indexes")
    assert _find_index_options(store) == PG_FIND_INDEXES
    # A schema-8 store: its indexes as they were made then, entries waiting in the pending list.
    with store._write() as conn:
        for name in PG_FIND_INDEXES:
            conn.exec_driver_sql(f"ALTER INDEX {name} RESET (fastupdate, gin_pending_list_limit)")
        conn.exec_driver_sql("UPDATE schema_meta SET value = '8' WHERE key = 'schema_version'")
    chat(store, "WX-PENDING", "等待者", "wx-pending", "排队中的订单 90817263")
    store.dispose()
    upgraded = Store.open(store_url)
    try:
        assert _find_index_options(upgraded) == PG_FIND_INDEXES
        boss = upgraded.get_agent("boss")
        assert ext(upgraded.find(boss, "90817263")) == ["WX-PENDING"]
        assert ext(upgraded.find(boss, "等待者")) == ["WX-PENDING"]
    finally:
        upgraded.dispose()


def test_removing_one_postgresql_store_leaves_the_others_find_indexes(store, team, shop):
    """pg_trgm is one per database and lives in one schema: it must not be a store's own, or
    dropping that store's schema takes every other store's find indexes with it."""
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL's extension")
    other = Store.open(make_pg_url())
    try:
        with other._write() as conn:
            schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
            assert find_index.pg_trgm_schema(conn) == "public"
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    finally:
        other.dispose()
    assert _find_index_options(store) == PG_FIND_INDEXES
    chat(store, "WX-AFTER", "留下者", "wx-after", "订单 55501234")
    assert ext(store.find(store.get_agent("boss"), "55501234")) == ["WX-AFTER"]
