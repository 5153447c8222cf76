"""The workstation's first look at an SQLite store (data/first_look.py) reads what the store
would, and declines every store it cannot read as the store would.

The first window is read before SQLAlchemy is loaded, with the store's own statements compiled
for SQLite: whatever the store's queue shows for an agent or a supervisor (tags, assignees,
snoozed and undelivered work, times), the first look shows the same rows in the same order.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import timedelta
from importlib import resources

import pytest

from cs_tui.clock import utc_text
from cs_tui.data import seed
from cs_tui.data.first_look import first_window, look
from cs_tui.data.store import Store
from cs_tui.data.views import QueueFilter
from cs_tui.sla import default_policy, load_policy


@pytest.fixture
def demo(tmp_path, clock):
    """A demo store with some of its work snoozed and one reply undelivered."""
    path = tmp_path / "demo.db"
    store = Store.open(str(path), clock=clock)
    seed.write_demo(store)
    sam = store.get_agent("sam")
    rows = store.queue(sam, limit=30)
    store.snooze(sam, rows[3].id, clock.now() + timedelta(hours=2))
    store.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE conversation SET undelivered_at = ? WHERE id = ?",
            (utc_text(clock.now()), rows[7].id),
        )
    store = Store.open(str(path), clock=clock)
    yield path, store
    store.dispose()


@pytest.mark.parametrize("handle", ["sam", "alice", "bob", "tess"])
def test_the_first_window_is_the_rows_the_store_reads(demo, clock, handle):
    path, store = demo
    if handle == "tess":  # a trainer sees every queue, as a supervisor does
        store.ensure_agent("tess", "Tess", role="trainer")
    first = look(str(path), handle, default_policy())
    assert first is not None
    agent = store.get_agent(handle)
    assert first.agent == agent
    for limit in (200, 5):
        expected = store.queue(agent, QueueFilter(), limit=limit)
        assert first_window(first, clock.now(), limit).rows == expected
    window = first_window(first, clock.now(), 200)
    assert window.last_event_id == store.last_event_id() > 0
    rows = window.rows
    assert any(r.tags for r in rows) and any(r.undelivered for r in rows)
    if handle == "alice":  # an agent: her own work and the pool, not bob's
        assert {r.assignee for r in rows} <= {"alice", None}


def test_snoozed_work_returns_to_the_first_window_when_it_is_due(demo, clock):
    path, store = demo
    first = look(str(path), "sam", default_policy())
    before = {r.id for r in first_window(first, clock.now(), 200).rows}
    later = clock.now() + timedelta(hours=3)
    after = first_window(first, later, 200).rows
    clock.set(later)
    assert after == store.queue(store.get_agent("sam"), QueueFilter(), limit=200)
    assert {r.id for r in after} - before


def test_a_store_it_cannot_read_as_the_store_would_is_left_to_the_store(demo, tmp_path):
    path, store = demo
    policy = default_policy()
    assert look(str(path), "nobody", policy) is None  # signing in registers or refuses them
    assert look(str(path), "bad handle!", policy) is None
    assert look(str(tmp_path / "missing.db"), "sam", policy) is None  # the store creates it
    assert look(str(tmp_path), "sam", policy) is None  # a directory: the store says so
    assert look("postgresql://127.0.0.1/test", "sam", policy) is None
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    assert look(str(garbage), "sam", policy) is None

    store.set_active(store.get_agent("sam"), "bob", False)
    assert look(str(path), "bob", policy) is None  # refused by the store, in its words

    shipped = (resources.files("cs_tui") / "policy" / "sla.toml").read_text(encoding="utf-8")
    other = tmp_path / "policy.toml"
    other.write_text(shipped.replace('first_response = "30s"', 'first_response = "45s"', 1))
    assert look(str(path), "sam", load_policy(other)) is None  # deadlines recomputed first

    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_meta SET value = '8' WHERE key = 'schema_version'")
    assert look(str(path), "sam", policy) is None  # upgraded first


def test_a_damaged_row_is_left_to_the_store_proper(demo, clock):
    path, store = demo
    first = look(str(path), "sam", default_policy())
    top = first_window(first, clock.now(), 1).rows[0]
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE conversation SET updated_at = 'yesterday' WHERE id = ?", (top.id,))
    assert first_window(first, clock.now(), 10) is None  # not a traceback in the first frame
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE agent SET last_seen_at = 'never' WHERE handle = 'sam'")
    assert look(str(path), "sam", default_policy()) is None  # nor before the app starts


def test_a_window_is_not_read_for_an_agent_disabled_since_the_look(demo, clock):
    path, store = demo
    first = look(str(path), "alice", default_policy())
    store.set_active(store.get_agent("sam"), "alice", False)
    assert first_window(first, clock.now(), 200) is None


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE schema_meta SET value = '10' WHERE key = 'schema_version'",
        "UPDATE schema_meta SET value = 'another' WHERE key = 'sla_policy'",
    ],
    ids=["upgraded", "recomputed"],
)
def test_a_window_is_not_read_from_a_store_changed_under_the_look(demo, clock, change):
    path, _store = demo
    first = look(str(path), "sam", default_policy())
    assert first_window(first, clock.now(), 10) is not None
    with sqlite3.connect(path) as conn:
        conn.execute(change)
    assert first_window(first, clock.now(), 10) is None


def test_the_first_look_and_the_workstation_load_without_sqlalchemy():
    code = (
        "import sys\n"
        "import cs_tui.cli, cs_tui.commands.app_cmd, cs_tui.data.first_look\n"
        "import cs_tui.data.opening, cs_tui.app, cs_tui.screens.workstation\n"
        "print(sorted(m for m in sys.modules if m.startswith('sqlalchemy')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
