"""Faults on the way: a `db copy` that fails half way leaves its target empty so it can simply
run again, and SQLite writers under contention wait their turn instead of telling an agent
"database is locked".
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from cs_tui.cli import main
from cs_tui.data import seed
from cs_tui.data.copy import message_checksum
from cs_tui.data.errors import StoreUnavailable
from cs_tui.data.store import Store

PG_URL = os.environ.get("CS_TUI_TEST_PG")
MARK = "the target refuses this note"
WRITERS = 8
HAMMER_SECONDS = float(os.environ.get("CS_TUI_HAMMER_SECONDS", "8"))
LONG_BATCH_SECONDS = 4.0  # under SQLite's old 5 s busy timeout, as a long import batch may be


@pytest.fixture
def source(tmp_path, clock):
    path = str(tmp_path / "team.db")
    with Store.open(path, clock=clock) as store:
        seed.write_demo(store, count=60)
        lin = store.ensure_agent("lin", role="supervisor")
        cid = store.conversation_id("DEMO-0042")
        store.post_note(lin, cid, MARK)
        store.post_note(lin, cid, "after the refused one")
    return path


def pg_url() -> str:
    from .conftest import make_pg_url  # (not at the top: this file also runs as a script)

    return make_pg_url()


def rows_in(url: str) -> dict[str, int]:
    with Store.open(url) as store:
        return {name: n for name, n in store.counts().items() if name != "schema_meta" and n}


def refuse_marked_notes(url: str) -> None:
    """Make the target refuse one message half way through the copy, as a server would a row
    it cannot take."""
    with Store.open(url) as store, store._write() as conn:
        if store.dialect == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_marked BEFORE INSERT ON message "
                f"WHEN NEW.body = '{MARK}' BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse_marked() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.body = '{MARK}' THEN RAISE EXCEPTION 'refused by a trigger'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_marked BEFORE INSERT ON message "
                "FOR EACH ROW EXECUTE FUNCTION refuse_marked()"
            )


def accept_everything(url: str) -> None:
    with Store.open(url) as store, store._write() as conn:
        conn.exec_driver_sql("DROP TRIGGER refuse_marked" + (" ON message" if "://" in url else ""))


def copy(source: str, target: str) -> int:
    return main(["db", "copy", "--from", source, "--to", target])


def test_a_copy_that_fails_half_way_leaves_the_target_empty_and_runs_again(
    source, store_url, capsys
):
    Store.open(store_url).dispose()  # an empty store, as `db upgrade` makes it
    refuse_marked_notes(store_url)

    assert copy(source, store_url) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "db copy stopped at table message" in err and "refused by a trigger" in err
    assert "empty again" in err and MARK not in err
    # Agents, customers and conversations went in before the refused message: all undone.
    assert rows_in(store_url) == {}

    accept_everything(store_url)
    assert copy(source, store_url) == 0
    assert "MISMATCH" not in capsys.readouterr().err
    with Store.open(source) as src, Store.open(store_url) as dst:
        assert src.counts() == dst.counts()
        assert message_checksum(src) == message_checksum(dst)


needs_pg = pytest.mark.skipif(not PG_URL, reason="set CS_TUI_TEST_PG=postgresql://... to run")


@needs_pg
@pytest.mark.pg
def test_a_source_row_postgresql_cannot_hold_stops_the_copy_cleanly(source, capsys):
    """An older SQLite store may hold a NUL character, which PostgreSQL text cannot."""
    with sqlite3.connect(source) as conn:
        conn.execute("UPDATE message SET body = ? WHERE body = ?", ("a\x00b", MARK))
    target = pg_url()

    assert copy(source, target) == 2

    err = capsys.readouterr().err
    assert "db copy stopped at table message" in err and "NUL" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert rows_in(target) == {}
    with sqlite3.connect(source) as conn:  # the store's owner mends the row ...
        for mid, body in conn.execute("SELECT id, body FROM message").fetchall():
            if "\x00" in body:
                conn.execute(
                    "UPDATE message SET body = ? WHERE id = ?", (body.replace("\x00", ""), mid)
                )
    assert copy(source, target) == 0  # ... and runs the same command again
    with Store.open(source) as src, Store.open(target) as dst:
        assert src.counts() == dst.counts()


@needs_pg
@pytest.mark.pg
@pytest.mark.slow
def test_a_copy_killed_half_way_leaves_the_target_empty_and_runs_again(source):
    base = pg_url()
    app = f"cs_tui_copy_{uuid.uuid4().hex[:8]}"
    target = f"{base}&application_name={app}"
    Store.open(base).dispose()
    admin = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    key = 7_700_000 + os.getpid()
    with admin.connect() as holder:
        # The target's message inserts wait for a lock the test holds: the copy is stuck half
        # way, with agents, customers and conversations written, when it is killed.
        holder.exec_driver_sql(f"SELECT pg_advisory_lock({key})")
        holder.commit()
        with Store.open(base) as store, store._write() as conn:
            conn.exec_driver_sql(
                "CREATE FUNCTION hold_messages() RETURNS trigger AS $$ BEGIN "
                f"PERFORM pg_advisory_xact_lock({key}); RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER hold_messages BEFORE INSERT ON message "
                "FOR EACH ROW EXECUTE FUNCTION hold_messages()"
            )
        proc = subprocess.Popen(
            [sys.executable, "-m", "cs_tui", "db", "copy", "--from", source, "--to", target],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for(lambda: waiting_on(admin, key), "the copy never reached the messages")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        holder.exec_driver_sql(f"SELECT pg_advisory_unlock({key})")
        holder.commit()
    wait_for(lambda: not connected(admin, app), "the killed copy's session stayed")
    admin.dispose()
    assert rows_in(base) == {}
    with Store.open(base) as store, store._write() as conn:
        conn.exec_driver_sql("DROP TRIGGER hold_messages ON message")

    assert main(["db", "copy", "--from", source, "--to", base]) == 0
    with Store.open(source) as src, Store.open(base) as dst:
        assert message_checksum(src) == message_checksum(dst)


def wait_for(predicate, what: str, limit_s: float = 60) -> None:
    """Poll until `predicate()`; the limit only stops a hang."""
    end = time.monotonic() + limit_s
    while not predicate():
        assert time.monotonic() < end, what
        time.sleep(0.05)


def waiting_on(engine, key: int) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                    "AND objid = :k"
                ),
                {"k": key},
            ).scalar_one()
        )


def connected(engine, app: str) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n"),
                {"n": app},
            ).scalar_one()
        )


# -- SQLite: 8 writers, and a long batch in their way -----------------------------------------


@pytest.mark.slow
def test_eight_sqlite_writers_never_see_database_is_locked(tmp_path):
    """8 processes write as fast as they can (replies and drafts) for CS_TUI_HAMMER_SECONDS;
    for the first 4 s another process holds the write lock, as a long import batch may.

    Left to SQLite's busy handler (5 s), waiters that had backed off to looking every 100 ms
    lost the lock again and again to whoever had just committed, and some gave up with
    "database is locked"; every write here must get through."""
    path = tmp_path / "team.db"
    handles = [f"writer{i}" for i in range(WRITERS)]
    with Store.open(str(path)) as store:
        for handle in handles:
            me = store.ensure_agent(handle)
            cid = store.create_conversation(external_id=f"L-{handle}", customer_handle=handle)
            assert store.claim(me, cid)
    procs = [
        subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), str(path), h, str(HAMMER_SECONDS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for h in handles
    ]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    batch = sqlite3.connect(path, isolation_level=None)
    batch.execute("BEGIN IMMEDIATE")
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    time.sleep(LONG_BATCH_SECONDS)
    batch.execute("COMMIT")
    batch.close()
    reports = {}
    for handle, proc in zip(handles, procs, strict=True):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        reports[handle] = json.loads(out.splitlines()[-1])

    assert {h: r["locked"] for h, r in reports.items()} == dict.fromkeys(handles, 0)
    assert all(r["replies"] > 0 for r in reports.values()), reports
    with Store.open(str(path)) as store:
        for handle, report in reports.items():
            # Every message, not the newest 500 a conversation opens with: a writer that gets
            # more than 500 replies through would otherwise look like lost replies.
            detail = store.conversation(
                store.conversation_id(f"L-{handle}"), message_limit=1_000_000
            )
            assert sum(m.author_kind == "agent" for m in detail.messages) == report["replies"]


def _hammer(path: str, handle: str, seconds: float) -> None:
    store = Store.open(path)
    me = store.get_agent(handle)
    cid = store.conversation_id(f"L-{handle}")
    print("ready", flush=True)
    sys.stdin.readline()
    replies = locked = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if replies % 2:
                store.save_draft(me.id, cid, f"草稿 {replies}")
            store.post_reply(me, cid, f"回复 {replies}")
            replies += 1
        except StoreUnavailable:
            locked += 1
    store.dispose()
    print(json.dumps({"replies": replies, "locked": locked}), flush=True)


if __name__ == "__main__":
    _hammer(sys.argv[1], sys.argv[2], float(sys.argv[3]))
