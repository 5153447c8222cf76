"""Noticing other agents' changes cheaply, and surviving a store that goes away.

A running workstation asks "did anything change?" a few times a second (`poll`), or blocks until
something may have (`wait`) and then polls.

- SQLite: `PRAGMA data_version` on a dedicated read-only connection answers in microseconds (it
  ignores that connection's own commits, and this connection never writes). Only when it moves
  does the watcher read the event table.
- PostgreSQL: a trigger `pg_notify`s every committed event ("schema:id", so stores sharing a
  database in different schemas do not wake each other). A daemon thread LISTENs on a
  dedicated psycopg connection (`notifies()` blocks other use of its connection, so it shares it
  with nothing) and wakes `wait`. While the listener is up, an idle poll costs no query at all;
  a safety re-read runs every `SAFETY_S` seconds in case a notification was missed. When the
  listener's connection drops, it reconnects with backoff and the next poll re-reads the event
  table, because notifications sent while it was away are lost.

Event ids come from a sequence, and on PostgreSQL two transactions can commit out of id order:
a poll may see event 101 before event 100 is committed. The watcher remembers such holes and
looks at them again for `GAP_S` seconds, so a slow commit is still delivered (once).

Errors: `poll` raises `StoreUnavailable` (a StoreError, one readable line) while the store cannot
be reached and keeps its position; the first successful poll afterwards returns everything missed.
`status` says whether the last poll worked and why not, for a "reconnecting..." indicator.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from cs_tui.data.db import sqlite_path
from cs_tui.data.errors import StoreError, StoreUnavailable
from cs_tui.data.views import EventView

T = TypeVar("T")

if TYPE_CHECKING:
    from cs_tui.data.store import Store

CHANNEL = "cs_tui_events"  # the channel the trigger in db.py notifies
SAFETY_S = 10.0  # PostgreSQL: re-read the event table at least this often, notified or not
GAP_S = 10.0  # how long an id hole is looked at again before it counts as a rolled-back write
SQLITE_TICK_S = 0.05  # `wait` on SQLite checks data_version this often (~4 us a check)
PAGE = 1000
MAX_PAGES = 20


@dataclass(frozen=True)
class WatchStatus:
    """What the workstation shows about the live connection.

    connected: the last poll reached the store. problem: why not, as one line (None when
    connected). since: monotonic time the trouble started. listening: PostgreSQL notifications
    are flowing (False on SQLite, and while the listener reconnects; polling still works).
    """

    connected: bool
    problem: str | None
    since: float | None
    listening: bool


class ChangeWatcher:
    def __init__(
        self,
        store: Store,
        *,
        after_id: int | None = None,
        listen: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._mono = monotonic
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._wake = threading.Event()  # set when something may have changed
        self._problem: str | None = None
        self._trouble_since: float | None = None
        self._last_full = 0.0
        self._gaps: dict[int, float] = {}  # missing id -> when first noticed
        self.reads = 0  # event-table reads (the polling-cost benchmark counts them)
        self.version_checks = 0  # SQLite data_version checks
        self.last_id = self._guard(store.last_event_id) if after_id is None else after_id
        self._conn: sqlite3.Connection | None = None
        self._version: int | None = None
        self._path = sqlite_path(store.url) if store.dialect == "sqlite" else None
        self._listener: _PgListener | None = None
        if store.dialect == "postgresql" and listen:
            self._listener = _PgListener(store, self._wake, self._stop)
            self._listener.start()
        self._wake.set()  # the first poll always reads

    # -- public -------------------------------------------------------------------------

    @property
    def status(self) -> WatchStatus:
        return WatchStatus(
            connected=self._problem is None,
            problem=self._problem,
            since=self._trouble_since,
            listening=bool(self._listener and self._listener.connected),
        )

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` s until something may have changed; True if woken early.

        Call from a worker thread, then `poll()`. Never raises: a store that is away makes it
        simply wait out the timeout (the poll after it reports the trouble).
        """
        deadline = self._mono() + max(0.0, timeout)
        if self._problem is not None:
            # The store is away: pace the retries instead of spinning on failed polls.
            self._stop.wait(timeout)
            return False
        if self._listener is not None:
            woke = self._wake.wait(timeout)
            return woke and not self._stop.is_set()
        if self._path is None:
            self._stop.wait(timeout)
            return False
        while not self._stop.is_set():
            if self._wake.is_set():
                return True
            with self._lock:
                try:
                    if self._sqlite_changed():
                        self._wake.set()
                        return True
                except sqlite3.Error:
                    self._drop_sqlite()
            left = deadline - self._mono()
            if left <= 0:
                return False
            self._stop.wait(min(SQLITE_TICK_S, left))
        return False

    def poll(self) -> list[EventView]:
        """Events since the last poll, oldest first (empty when nothing changed).

        Raises StoreUnavailable while the store cannot be reached; nothing is skipped: the next
        successful poll returns what happened meanwhile.
        """
        with self._lock:
            try:
                events = self._poll()
            except StoreError as exc:
                if not isinstance(exc, StoreUnavailable):
                    exc = StoreUnavailable(str(exc))
                self._trouble(str(exc))
                self._wake.set()  # re-read on the next poll, whatever the signal says
                raise exc from None
            except Exception as exc:  # a driver error that escaped the store's translation
                message = f"{self.store.location}: {_first_line(exc)}"
                self._trouble(message)
                self._wake.set()
                raise StoreUnavailable(message) from exc
            self._problem = None
            self._trouble_since = None
            return events

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._listener is not None:
            self._listener.join(2.0)
            self._listener = None
        with self._lock:
            self._drop_sqlite()

    def __enter__(self) -> ChangeWatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- polling ------------------------------------------------------------------------

    def _poll(self) -> list[EventView]:
        now = self._mono()
        if not self._something_changed(now):
            return []
        self._wake.clear()  # before reading: a notification during the read wakes us again
        self._last_full = now
        out: list[EventView] = []
        if self._gaps:
            out.extend(self._fill_gaps(now))
        for _page in range(MAX_PAGES):
            self.reads += 1
            batch = self.store.events_since(self.last_id, limit=PAGE)
            for ev in batch:
                for missing in range(self.last_id + 1, ev.id):
                    self._gaps.setdefault(missing, now)
                self.last_id = ev.id
            out.extend(batch)
            if len(batch) < PAGE:
                break
        else:
            self._wake.set()  # more than MAX_PAGES pages: carry on at the next poll
        out.sort(key=lambda e: e.id)
        return out

    def _something_changed(self, now: float) -> bool:
        if self._path is not None:
            # Always take data_version first, even when a read is due anyway: the baseline must
            # predate the read, or a commit landing between the two would go unnoticed.
            try:
                changed = self._sqlite_changed()
            except sqlite3.Error:
                self._drop_sqlite()
                return True  # read the event table: it reports whether the store is there
            return changed or self._wake.is_set() or bool(self._gaps)
        if self._wake.is_set() or self._gaps:
            return True
        if self._listener is not None:
            if not self._listener.connected:
                return True  # no notifications: plain polling until the listener is back
            return now - self._last_full >= SAFETY_S
        return True

    def _fill_gaps(self, now: float) -> list[EventView]:
        low = min(self._gaps)
        self.reads += 1
        found = [e for e in self.store.events_since(low - 1, limit=PAGE) if e.id in self._gaps]
        for ev in found:
            del self._gaps[ev.id]
        for missing, seen in list(self._gaps.items()):
            if now - seen > GAP_S:
                del self._gaps[missing]  # a rolled-back write: the id will never appear
        return found

    # -- SQLite data_version --------------------------------------------------------------

    def _sqlite_changed(self) -> bool:
        if self._conn is None:
            assert self._path is not None
            if not self._path.exists():
                raise sqlite3.OperationalError(f"{self._path} is gone")
            self._conn = sqlite3.connect(
                f"file:{self._path}?mode=ro", uri=True, check_same_thread=False, timeout=5
            )
            self._version = None
        self.version_checks += 1
        version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        changed = self._version is not None and version != self._version
        self._version = version
        return changed

    def _drop_sqlite(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
        self._conn = None
        self._version = None
        self._wake.set()

    def _trouble(self, message: str) -> None:
        self._problem = message
        if self._trouble_since is None:
            self._trouble_since = self._mono()

    def _guard(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except StoreUnavailable:
            raise
        except StoreError as exc:
            raise StoreUnavailable(str(exc)) from None


class _PgListener(threading.Thread):
    """LISTEN on a connection of its own; sets `wake` on every notification and reconnect."""

    PING_S = 5.0  # a silent connection is checked this often (a half-open TCP never errors)

    def __init__(self, store: Store, wake: threading.Event, stop: threading.Event) -> None:
        super().__init__(name="cs-tui-listen", daemon=True)
        engine = store._engines.read
        _args, params = engine.dialect.create_connect_args(engine.url)
        params.pop("context", None)
        self._params = params
        self._signal = wake
        self._halt = stop
        self.connected = False
        self.reconnects = 0
        self.statements = 0  # sent on the listening connection (LISTEN, pings)
        self.last_error: str | None = None

    def run(self) -> None:
        import psycopg

        backoff = 0.2
        while not self._halt.is_set():
            conn = None
            try:
                conn = psycopg.connect(
                    **self._params,
                    autocommit=True,
                    connect_timeout=5,
                    keepalives=1,
                    keepalives_idle=10,
                    keepalives_interval=5,
                    keepalives_count=3,
                )
                conn.execute(f"LISTEN {CHANNEL}")
                self.statements += 2
                # The channel is shared by every store on the database; notes say "schema:id".
                row = conn.execute(
                    "SELECT n.nspname FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.oid = to_regclass('event')"
                ).fetchone()
                mine = f"{row[0]}:" if row else None
                # Anything committed while we were not listening was never notified to us:
                # ask for a re-read before saying we are connected.
                self._signal.set()
                self.connected = True
                self.last_error = None
                backoff = 0.2
                last_ping = time.monotonic()
                while not self._halt.is_set():
                    for note in conn.notifies(timeout=0.5, stop_after=1):
                        if mine is None or ":" not in note.payload or note.payload.startswith(mine):
                            self._signal.set()
                    if time.monotonic() - last_ping >= self.PING_S:
                        conn.execute("SELECT 1")
                        self.statements += 1
                        last_ping = time.monotonic()
            except Exception as exc:  # psycopg.OperationalError and friends: reconnect
                self.last_error = _first_line(exc)
            finally:
                was = self.connected
                self.connected = False
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
                if was:
                    self.reconnects += 1
                    self._signal.set()  # poll now: the watcher falls back to plain polling
            self._halt.wait(backoff)
            backoff = min(backoff * 2, 2.0)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
