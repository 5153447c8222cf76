"""When the demo may move its times forward, and by how much.

The demo stands still while real time passes: on launch its stored times are shifted so that it
opens as it was left. That rewrite must never happen under a window that is still showing the
demo (its rows would jump to later times, the last reply it sent would date from after "now",
and it would see its own work rewritten), so a launch shifts only when it is alone:

- every process showing a demo on an SQLite file holds a shared `flock` on `<file>.demo-lock`
  for as long as it runs; a launch that cannot take it exclusively is not alone;
- and no workstation's heartbeat is recent (a window opened on the file without `demo`, or on a
  PostgreSQL store where there is no file to lock, still shows as online).

The shift is by the time since the demo was last used (its newest event, message, draft or
change), not since it was last launched, so work done after a launch lands on "now", never
after it.
"""

from __future__ import annotations

import contextlib
import fcntl
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING

import sqlalchemy as sa

from cs_tui.data.agents import ONLINE_WINDOW_S
from cs_tui.data.db import sqlite_path
from cs_tui.data.tables import AGENT, CONV, DELIVERY, DRAFT, EVENT, MSG

if TYPE_CHECKING:
    from cs_tui.data.store import Store


class DemoLease:
    """Held by a process for as long as it shows the demo. `alone` says whether it was the only
    one when it started; `share()` lets later launches in once the shift (if any) is done."""

    def __init__(self, store: Store) -> None:
        self.alone = True
        self._fh: IO[str] | None = None
        path = sqlite_path(store.url)
        if path is None:
            return
        self._fh = open(f"{path}.demo-lock", "a")  # noqa: SIM115 - held for the process's life
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.alone = False
            # Waits only while another launch is shifting (it holds the lock exclusively).
            fcntl.flock(self._fh, fcntl.LOCK_SH)

    def share(self) -> None:
        if self._fh is not None and self.alone:
            fcntl.flock(self._fh, fcntl.LOCK_SH)

    def release(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> DemoLease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def someone_online(store: Store) -> bool:
    """A workstation's heartbeat within the online window: a window is showing this store."""
    since = store.clock.now() - timedelta(seconds=ONLINE_WINDOW_S)
    with store._read() as conn:
        seen = conn.execute(
            sa.select(AGENT.c.id).where(AGENT.c.last_seen_at >= since).limit(1)
        ).first()
    return seen is not None


def last_used(store: Store, anchor: datetime) -> datetime:
    """The demo's "when it was left": its anchor (set at each shift) or the newest thing done
    in it since, whichever is later."""
    columns = (
        EVENT.c.at,
        MSG.c.stored_at,
        MSG.c.sent_at,
        CONV.c.updated_at,
        DRAFT.c.updated_at,
        DELIVERY.c.updated_at,
    )
    latest = anchor
    with store._read() as conn:
        for column in columns:
            value = conn.execute(sa.select(sa.func.max(column))).scalar()
            if value is not None and value > latest:
                latest = value
    return latest
