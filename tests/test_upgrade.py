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
        conn.exec_driver_sql("UPDATE schema_meta SET value = '1' WHERE key = 'schema_version'")
    store.dispose()


def test_v1_store_is_upgraded_in_place(store_url, clock):
    make_v1(store_url, clock)
    store = Store.open(store_url, clock=clock)
    with store._read() as conn:
        version = conn.exec_driver_sql(
            "SELECT value FROM schema_meta WHERE key='schema_version'"
        ).scalar()
        tables = set(sa.inspect(conn).get_table_names())
    assert int(version) == SCHEMA_VERSION == 2
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
