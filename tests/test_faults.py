"""Faults under a running workstation's store: locks held for seconds, connections killed, a
PostgreSQL server that goes away and comes back.

What must hold: every failure is a `StoreUnavailable` (one readable line), nothing is half
written, a failed send is not stored (so it is never shown as sent), and the store and the change
watcher recover by themselves once the database is back, with nothing missed.

The shared PostgreSQL server is never restarted: "the server is gone" is played by a TCP proxy
the test stops and starts, and killed connections are only this test's own (found by
application_name).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from cs_tui.data.errors import StoreUnavailable
from cs_tui.data.store import Store
from cs_tui.data.watch import ChangeWatcher

from .conftest import PG_URL, make_pg_url

pytestmark = pytest.mark.slow


def setup_chat(store: Store, ext: str = "F1"):
    alice = store.ensure_agent("alice")
    cid = store.create_conversation(external_id=ext, customer_handle=f"c-{ext}")
    store.post_customer_message(cid, "我的退款还没到")
    assert store.claim(alice, cid)
    return alice, cid


def agent_bodies(store: Store, cid: int) -> list[str]:
    return [m.body for m in store.conversation(cid).messages if m.author_kind == "agent"]


def poll_until(watcher: ChangeWatcher, predicate, limit_s: float = 15.0) -> list:
    """Poll like the workstation does until `predicate(events)`; the limit only stops a hang."""
    seen: list = []
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        watcher.wait(0.5)
        with contextlib.suppress(StoreUnavailable):
            seen += watcher.poll()
        if predicate(seen):
            return seen
    return seen


# -- SQLite: another process holds the write lock ------------------------------------------

HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN IMMEDIATE")
if len(sys.argv) > 2:
    # A write that will never be committed: the holder dies in the middle of it.
    conn.execute("INSERT INTO event (at, kind, payload) VALUES ('2026-01-01 00:00:00', 'torn', '{}')")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
print("released", flush=True)
"""


@pytest.fixture
def lock_holder(tmp_path):
    procs = []

    def hold(path: Path, *, torn: bool = False) -> subprocess.Popen:
        argv = [sys.executable, "-c", HOLDER, str(path)] + (["torn"] if torn else [])
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "locked"
        procs.append(proc)
        return proc

    yield hold
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def release(proc: subprocess.Popen) -> None:
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "released"
    proc.wait(timeout=10)


def test_a_write_waits_for_a_short_lock_and_goes_through(tmp_path, lock_holder):
    path = tmp_path / "team.db"
    with Store.open(str(path)) as store:
        alice, cid = setup_chat(store)
        holder = lock_holder(path)
        threading.Timer(1.0, release, args=(holder,)).start()
        # Readers are not blocked by a writer (WAL) ...
        assert [r.external_id for r in store.queue(alice)] == ["F1"]
        # ... and a writer waits for the lock rather than failing.
        store.post_reply(alice, cid, "您好,我来帮您查一下")
        assert agent_bodies(store, cid) == ["您好,我来帮您查一下"]
        assert holder.wait(timeout=10) == 0


def test_a_lock_held_too_long_fails_the_send_cleanly_and_a_retry_succeeds(tmp_path, lock_holder):
    path = tmp_path / "team.db"
    with Store.open(str(path)) as store:
        alice, cid = setup_chat(store)
        store.save_draft(alice.id, cid, "退款会在24小时内到账")
        watcher = ChangeWatcher(store)
        holder = lock_holder(path)

        with pytest.raises(StoreUnavailable) as failed:
            store.post_reply(alice, cid, "退款会在24小时内到账")
        message = str(failed.value)
        assert "locked" in message and "\n" not in message and str(path) in message
        # Not sent, so not stored; the draft is still there to send again; reads still work.
        assert agent_bodies(store, cid) == []
        assert store.load_draft(alice.id, cid) == "退款会在24小时内到账"
        assert watcher.poll() == []

        release(holder)
        store.post_reply(alice, cid, "退款会在24小时内到账")
        assert agent_bodies(store, cid) == ["退款会在24小时内到账"]
        assert store.load_draft(alice.id, cid) == ""
        assert [e.kind for e in watcher.poll()] == ["reply"]
        watcher.close()
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()


def test_a_writer_killed_mid_transaction_leaves_nothing_behind(tmp_path, lock_holder):
    path = tmp_path / "team.db"
    with Store.open(str(path)) as store:
        alice, cid = setup_chat(store)
        before = store.last_event_id()
        holder = lock_holder(path, torn=True)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        store.post_reply(alice, cid, "您好")
        kinds = [e.kind for e in store.events_since(before)]
        assert kinds == ["reply"]  # the torn write never happened
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()


def test_the_watcher_survives_its_store_file_being_unreadable_for_a_moment(tmp_path):
    path = tmp_path / "team.db"
    with Store.open(str(path)) as store:
        alice, cid = setup_chat(store)
        watcher = ChangeWatcher(store)
        watcher._drop_sqlite()  # as after an error on its connection: it must reopen by itself
        store.post_reply(alice, cid, "您好")
        assert [e.kind for e in watcher.poll()] == ["reply"]
        store.post_reply(alice, cid, "还在吗?")
        assert watcher.wait(5) is True
        assert [e.kind for e in watcher.poll()] == ["reply"]
        watcher.close()


# -- PostgreSQL --------------------------------------------------------------------------

needs_pg = pytest.mark.skipif(not PG_URL, reason="set CS_TUI_TEST_PG=postgresql://... to run")


def with_app_name(url: str, name: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}application_name={name}"


def admin_engine():
    return sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))


def terminate(app_name: str) -> int:
    """Kill every server connection of this test (and only those)."""
    engine = admin_engine()
    with engine.begin() as conn:
        killed = conn.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :n AND pid <> pg_backend_pid()"
            ),
            {"n": app_name},
        ).scalar_one()
    engine.dispose()
    return killed


@needs_pg
@pytest.mark.pg
def test_killed_connections_are_replaced_and_the_watcher_catches_up():
    base = make_pg_url()
    app = f"cs_tui_fault_{uuid.uuid4().hex[:8]}"
    store = Store.open(with_app_name(base, app))
    other = Store.open(base)
    try:
        alice, cid = setup_chat(store)
        watcher = ChangeWatcher(store)
        for _ in range(50):  # the listener connects in the background
            if watcher.status.listening:
                break
            time.sleep(0.1)
        assert watcher.status.listening
        store.queue(alice)

        assert terminate(app) >= 2  # the store's pooled connection and the listener's

        # The next read and write simply work: dead pooled connections are replaced.
        assert [r.external_id for r in store.queue(alice)] == ["F1"]
        store.post_reply(alice, cid, "您好")
        # Another agent's change made while the listener was down still arrives.
        other.post_customer_message(cid, "我的订单号是 1234")
        events = poll_until(watcher, lambda evs: "customer_message" in [e.kind for e in evs])
        assert [e.kind for e in events][-2:] == ["reply", "customer_message"]
        assert watcher.status.connected
        # And the listener is back: a later change wakes `wait`.
        for _ in range(50):
            if watcher.status.listening:
                break
            time.sleep(0.1)
        other.post_customer_message(cid, "在吗?")
        assert watcher.wait(10) is True
        assert [e.kind for e in watcher.poll()] == ["customer_message"]
        watcher.close()
    finally:
        store.dispose()
        other.dispose()


class Proxy:
    """A TCP forwarder to the PostgreSQL server that the test can switch off and on."""

    def __init__(self, target=("127.0.0.1", 5432)) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._server: socket.socket | None = None
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()

    def up(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def down(self) -> None:
        """The server is gone: refuse new connections, cut the open ones."""
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(OSError):
                server.shutdown(socket.SHUT_RDWR)
            server.close()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1.0)
                for src in ready:
                    data = src.recv(65536)
                    if not data:
                        return
                    (b if src is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.close()

    def url(self, base: str) -> str:
        return (
            make_url(base)
            .set(host="127.0.0.1", port=self.port)
            .render_as_string(hide_password=False)
        )


@needs_pg
@pytest.mark.pg
def test_a_server_that_goes_away_fails_cleanly_and_everything_catches_up():
    base = make_pg_url()
    server = make_url(base)
    proxy = Proxy((server.host or "127.0.0.1", server.port or 5432))
    proxy.up()
    store = Store.open(proxy.url(base))
    direct = Store.open(base)  # another agent, who still reaches the server
    try:
        alice, cid = setup_chat(store)
        watcher = ChangeWatcher(store)
        watcher.poll()

        proxy.down()
        with pytest.raises(StoreUnavailable) as read_failed:
            store.queue(alice)
        assert "\n" not in str(read_failed.value) and "127.0.0.1" in str(read_failed.value)
        with pytest.raises(StoreUnavailable):
            store.post_reply(alice, cid, "退款会在24小时内到账")
        with pytest.raises(StoreUnavailable):
            watcher.poll()
        # The listener is a thread of its own: it notices its dropped connection when its
        # next read fails, a moment after the poll did.
        deadline = time.monotonic() + 5
        while watcher.status.listening and time.monotonic() < deadline:
            time.sleep(0.02)
        status = watcher.status
        assert not status.connected and status.problem and not status.listening
        direct.post_customer_message(cid, "人呢?")  # happens while this agent is cut off

        proxy.up()
        # The failed send was not stored; sending again works and is stored once.
        assert agent_bodies(store, cid) == []
        store.post_reply(alice, cid, "退款会在24小时内到账")
        assert agent_bodies(direct, cid) == ["退款会在24小时内到账"]
        events = poll_until(watcher, lambda evs: "reply" in [e.kind for e in evs])
        assert [e.kind for e in events] == ["customer_message", "reply"]
        assert watcher.status.connected and watcher.status.problem is None
        watcher.close()
    finally:
        store.dispose()
        direct.dispose()
        proxy.down()


def test_an_unreachable_server_is_one_line_not_a_traceback(tmp_path):
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    free = port.getsockname()[1]
    port.close()
    env = {
        **os.environ,
        "CS_TUI_DATA_DIR": str(tmp_path / "d"),
        "CS_TUI_CONFIG_DIR": str(tmp_path / "c"),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cs_tui",
            "take",
            "--agent",
            "alice",
            "--db",
            f"postgresql://postgres@127.0.0.1:{free}/test",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"cs-tui: postgresql://postgres@127.0.0.1:{free}"
    )
    assert "Traceback" not in done.stderr
