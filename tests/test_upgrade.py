"""A store written by an older version is upgraded in place without losing rows."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from cs_tui.data.models import SCHEMA_VERSION
from cs_tui.data.store import Store


def make_v1(store_url: str, clock) -> None:
    """A schema-1 store: today's tables minus those added since, with version 1 recorded."""
    store = Store.open(store_url, clock=clock)
    alice = store.ensure_agent("alice")
    cid = store.create_conversation(
        external_id="OLD-1", customer_handle="wx-1", customer_name="王小明"
    )
    store.post_customer_message(cid, "旧版本的消息 [b]x[/b]")
    store.claim(alice, cid)
    store.post_reply(alice, cid, "您好")
    with store._write() as conn:
        conn.exec_driver_sql("DROP TABLE training_session")
        conn.exec_driver_sql("DROP INDEX ix_conv_channel_status_queue")
    _drop_schema_3(store)
    store.dispose()
    _set_version(store_url, 1)


def _drop_schema_3(store: Store) -> None:
    """Take away what schemas 3 and 4 added: the gateway's and the mail tables, and two
    conversation columns."""
    if store.dialect == "postgresql":
        with store._write() as conn:
            conn.exec_driver_sql("DROP TABLE mail_message")
            conn.exec_driver_sql("DROP TABLE mail_cursor")
            conn.exec_driver_sql("DROP TABLE delivery")
            conn.exec_driver_sql("ALTER TABLE conversation DROP COLUMN source_id")
            conn.exec_driver_sql("ALTER TABLE conversation DROP COLUMN undelivered_at")
            conn.exec_driver_sql("DROP TABLE gateway_channel")
        return
    path = store.location
    store.dispose()
    _rebuild_sqlite_conversation(path)


def _rebuild_sqlite_conversation(path: str) -> None:
    """SQLite cannot drop a column named in a foreign key: the table is made again without the
    two columns (rows and indexes kept, foreign keys off), as SQLite's documentation says."""
    new = ("source_id", "undelivered_at")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("BEGIN")
    ddl = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'conversation'"
    ).fetchone()[0]
    indexes = [
        row[0]
        for row in conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'conversation' "
            "AND sql IS NOT NULL"
        )
    ]
    lines = [line for line in ddl.splitlines() if not any(n in line for n in new)]
    lines[-2] = lines[-2].rstrip().rstrip(",")  # the last constraint before ")"
    old_ddl = "\n".join(lines).replace("CREATE TABLE conversation", "CREATE TABLE conv_v2", 1)
    columns = [
        row[1] for row in conn.execute("PRAGMA table_info(conversation)") if row[1] not in new
    ]
    conn.execute("DROP TABLE mail_message")
    conn.execute("DROP TABLE mail_cursor")
    conn.execute("DROP TABLE delivery")
    conn.execute(old_ddl)
    names = ", ".join(columns)
    conn.execute(f"INSERT INTO conv_v2 ({names}) SELECT {names} FROM conversation")
    conn.execute("DROP TABLE conversation")
    conn.execute("ALTER TABLE conv_v2 RENAME TO conversation")
    for sql in indexes:
        conn.execute(sql)
    conn.execute("DROP TABLE gateway_channel")
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.execute("COMMIT")
    conn.close()


def _set_version(store_url: str, version: int) -> None:
    if "://" in store_url:
        engine = sa.create_engine(store_url.replace("postgresql://", "postgresql+psycopg://", 1))
    else:
        engine = sa.create_engine(f"sqlite:///{store_url}")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"UPDATE schema_meta SET value = '{version}' WHERE key = 'schema_version'"
        )
    engine.dispose()


def make_v2(store_url: str, clock) -> None:
    """A schema-2 store: today's tables minus the gateway's, with version 2 recorded."""
    store = Store.open(store_url, clock=clock)
    alice = store.ensure_agent("alice")
    cid = store.create_conversation(
        external_id="V2-1", customer_handle="wx-2", customer_name="李雷"
    )
    store.post_customer_message(cid, "第二版的消息")
    store.claim(alice, cid)
    store.post_reply(alice, cid, "您好,我来帮您查")
    _drop_schema_3(store)
    store.dispose()
    _set_version(store_url, 2)


def test_v2_store_is_upgraded_in_place_and_keeps_its_rows(store_url, clock):
    make_v2(store_url, clock)
    store = Store.open(store_url, clock=clock)
    with store._read() as conn:
        version = conn.exec_driver_sql(
            "SELECT value FROM schema_meta WHERE key='schema_version'"
        ).scalar()
        tables = set(sa.inspect(conn).get_table_names())
        columns = {c["name"] for c in sa.inspect(conn).get_columns("conversation")}
    assert int(version) == SCHEMA_VERSION
    assert {"gateway_channel", "delivery"} <= tables
    assert {"source_id", "undelivered_at"} <= columns
    cid = store.conversation_id("V2-1")
    detail = store.conversation(cid)
    assert [m.body for m in detail.messages] == ["第二版的消息", "您好,我来帮您查"]
    assert detail.row.assignee == "alice"
    assert detail.row.undelivered is False
    # The upgraded store takes the new rows: a channel, and a reply in one of its conversations.
    added = store.add_channel(None, "api", "shop", webhook_url="https://example.test/hook")
    [item] = store.ingest_from_channel(
        added.channel.id,
        [
            {
                "message_id": "m-1",
                "conversation_id": "C-NEW",
                "customer": "wx-3",
                "author": "customer",
                "text": "在吗",
                "sent_at": "2026-11-11T09:00:00Z",
            }
        ],
    )
    assert item.status == "stored"
    new_cid = store.conversation_id("C-NEW")
    store.claim(store.get_agent("alice"), new_cid)
    store.post_reply(store.get_agent("alice"), new_cid, "在的")
    assert [d.status for d in store.deliveries(store.get_agent("alice"))] == ["queued"]
    store.dispose()
    # Opening it again finds nothing left to upgrade.
    Store.open(store_url, clock=clock).dispose()


def test_v1_store_is_upgraded_in_place(store_url, clock):
    make_v1(store_url, clock)
    store = Store.open(store_url, clock=clock)
    with store._read() as conn:
        version = conn.exec_driver_sql(
            "SELECT value FROM schema_meta WHERE key='schema_version'"
        ).scalar()
        tables = set(sa.inspect(conn).get_table_names())
    assert int(version) == SCHEMA_VERSION
    assert "training_session" in tables
    with store._read() as conn:
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("conversation")}
    assert "ix_conv_channel_status_queue" in indexes
    cid = store.conversation_id("OLD-1")
    detail = store.conversation(cid)
    assert [m.body for m in detail.messages] == ["旧版本的消息 [b]x[/b]", "您好"]
    assert detail.row.assignee == "alice"
    assert store.counts()["event"] >= 4


def test_upgrade_keeps_the_sqlite_file_usable_by_other_tools(tmp_path, clock):
    path = tmp_path / "old.db"
    make_v1(str(path), clock)
    Store.open(str(path), clock=clock).dispose()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


_ = pytest
