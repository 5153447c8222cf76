"""StoreCore: what every part of the Store builds on (connections, clock, policy, events).

The Store is assembled from mixins, one per kind of work (queries, actions, agents, imports...).
Each mixin subclasses StoreCore, so `self._write()`, `self.clock`, `self.policy` and `self._event()`
are typed inside every mixin and a typo there fails the type check instead of a user's action.
A mixin that calls a method of another mixin says so with `self: Store` on that method.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cs_tui.clock import Clock
from cs_tui.data.db import Engines, WriteStats, dialect_insert, explain
from cs_tui.data.errors import StoreUnavailable
from cs_tui.data.tables import EVENT
from cs_tui.sla import SlaPolicy

# PostgreSQL gives up one side of a deadlock or a serialisation conflict: running the whole
# transaction again is the documented answer, and it costs only that transaction.
_RUN_AGAIN = {"40P01", "40001"}
RUN_AGAIN_ATTEMPTS = 5
T = TypeVar("T")


def _unavailable(exc: sa.exc.DBAPIError) -> bool:
    """A lock, a dropped connection or a server that is away: worth retrying later."""
    return exc.connection_invalidated or isinstance(
        exc, (sa.exc.OperationalError, sa.exc.InterfaceError)
    )


def _worth_running_again(exc: StoreUnavailable) -> bool:
    orig = getattr(exc.__cause__, "orig", None)
    return getattr(orig, "sqlstate", None) in _RUN_AGAIN


class StoreCore:
    def __init__(self, engines: Engines, clock: Clock, policy: SlaPolicy) -> None:
        self._engines = engines
        self.clock = clock
        self.policy = policy
        self.dialect: str = engines.dialect

    @property
    def url(self) -> str:
        return self._engines.url

    @contextmanager
    def _unavailable_is_store_error(self) -> Iterator[None]:
        """A database that cannot be reached (down, locked, missing) becomes StoreUnavailable
        with an explanation; every other database error stays what it is."""
        try:
            yield
        except sa.exc.DBAPIError as exc:
            if not _unavailable(exc):
                raise
            raise StoreUnavailable(explain(self.url, exc)) from exc

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with (
            self._unavailable_is_store_error(),
            self._engines.read.connect() as conn,
            conn.begin(),
        ):
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._unavailable_is_store_error(), self._engines.write.begin() as conn:
            yield conn

    @property
    def write_stats(self) -> WriteStats:
        """How this process's writes got SQLite's write lock (see db.WriteStats)."""
        return self._engines.write_stats

    def _retrying(self, work: Callable[..., T], *args: Any) -> T:
        """Run `work` (one whole write transaction) again after a deadlock or serialisation
        failure, after a random pause; the last failure reaches the caller."""
        for attempt in range(RUN_AGAIN_ATTEMPTS):
            try:
                return work(*args)
            except StoreUnavailable as exc:
                if attempt == RUN_AGAIN_ATTEMPTS - 1 or not _worth_running_again(exc):
                    raise
            time.sleep(random.uniform(0, 0.05 * (attempt + 1)))
        raise AssertionError("unreachable")

    def _insert_fn(self) -> Callable[..., Any]:
        """INSERT with ON CONFLICT for this store's backend (see db.dialect_insert)."""
        return dialect_insert(self.dialect)

    def _event(
        self,
        conn: Connection,
        actor_id: int | None,
        kind: str,
        conversation_id: int | None,
        payload: dict[str, Any] | None = None,
        *,
        at: datetime | None = None,
    ) -> None:
        row = {
            "at": at or self.clock.now(),
            "actor_id": actor_id,
            "kind": kind,
            "conversation_id": conversation_id,
            "payload": payload or {},
        }
        conn.execute(_event_insert(), row)

    def change_token(self) -> int | None:
        """Cheap "did anything change?" for pollers: SQLite's data_version, else None.

        data_version is per connection and ignores the connection's own commits, so the poller
        keeps one connection of its own; see cs_tui.data.watch.
        """
        return None


@functools.cache
def _event_insert() -> sa.Insert:
    """Built once: building the statement per event cost more than running it on SQLite."""
    return sa.insert(EVENT)
