"""Noticing other agents' changes cheaply.

A running workstation asks "did anything change?" a few times a second. On SQLite,
`PRAGMA data_version` answers in microseconds on a dedicated connection (it ignores that
connection's own commits, and this connection never writes). Only when it moves does the poller
read the event table. PostgreSQL has no such pragma; there the poller reads `events_since`, which
is one indexed range scan (LISTEN/NOTIFY can wake it sooner: see `PgListener`).
"""

from __future__ import annotations

import sqlite3
import threading

from cs_tui.data.db import sqlite_path
from cs_tui.data.views import EventView


class ChangeWatcher:
    def __init__(self, store, *, after_id: int | None = None) -> None:
        self.store = store
        self.last_id = store.last_event_id() if after_id is None else after_id
        self._conn: sqlite3.Connection | None = None
        self._version: int | None = None
        self._lock = threading.Lock()
        path = sqlite_path(store.url) if store.dialect == "sqlite" else None
        if path is not None:
            self._conn = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=5
            )

    def _sqlite_changed(self) -> bool:
        assert self._conn is not None
        version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        changed = version != self._version
        self._version = version
        return changed

    def poll(self) -> list[EventView]:
        """Events since the last poll (empty when nothing changed). May raise StoreError."""
        with self._lock:
            if self._conn is not None and self._version is not None and not self._sqlite_changed():
                return []
            if self._conn is not None and self._version is None:
                self._sqlite_changed()
            events = self.store.events_since(self.last_id)
            if events:
                self.last_id = events[-1].id
            return events

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
