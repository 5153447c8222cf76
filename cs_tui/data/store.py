"""Store: every read and write the app makes, with permission checks and audit events.

One Store per process. Reads run in deferred transactions, writes in BEGIN IMMEDIATE (SQLite) or
with row locks (PostgreSQL); every write appends its event row in the same transaction, so the
change feed and the audit trail can never disagree with the data.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cs_tui.clock import Clock, SystemClock
from cs_tui.data import models
from cs_tui.data.actions import ActionsMixin
from cs_tui.data.agents import AgentsMixin
from cs_tui.data.db import (
    Engines,
    describe,
    dialect_insert,
    explain,
    make_engines,
    prepare_schema,
)
from cs_tui.data.errors import InvalidInput, NotAllowed, NotFound, StoreError, StoreUnavailable
from cs_tui.data.ingest import IngestMixin
from cs_tui.data.kb_store import KnowledgeStore
from cs_tui.data.kpi_queries import KpiQueriesMixin
from cs_tui.data.queries import QueriesMixin
from cs_tui.data.training_store import TrainingStoreMixin
from cs_tui.sla import SlaPolicy, default_policy

__all__ = ["Store", "StoreError", "NotAllowed", "NotFound", "InvalidInput", "StoreUnavailable"]


def _unavailable(exc: sa.exc.DBAPIError) -> bool:
    """A lock, a dropped connection or a server that is away: worth retrying later."""
    return exc.connection_invalidated or isinstance(
        exc, (sa.exc.OperationalError, sa.exc.InterfaceError)
    )


# PostgreSQL gives up one side of a deadlock or a serialisation conflict: running the whole
# transaction again is the documented answer, and it costs only that transaction.
_RUN_AGAIN = {"40P01", "40001"}
RUN_AGAIN_ATTEMPTS = 5
T = TypeVar("T")


def _worth_running_again(exc: StoreUnavailable) -> bool:
    orig = getattr(exc.__cause__, "orig", None)
    return getattr(orig, "sqlstate", None) in _RUN_AGAIN


class Store(
    QueriesMixin,
    ActionsMixin,
    AgentsMixin,
    IngestMixin,
    KpiQueriesMixin,
    KnowledgeStore,
    TrainingStoreMixin,
):
    def __init__(self, engines: Engines, clock: Clock, policy: SlaPolicy) -> None:
        self._engines = engines
        self.clock = clock
        self.policy = policy
        self.dialect = engines.dialect

    @classmethod
    def open(
        cls,
        target: str,
        *,
        clock: Clock | None = None,
        policy: SlaPolicy | None = None,
        create: bool = True,
    ) -> Store:
        engines = make_engines(target, create_dir=create)
        try:
            prepare_schema(engines)
        except Exception:
            engines.dispose()
            raise
        return cls(engines, clock or SystemClock(), policy or default_policy())

    @property
    def url(self) -> str:
        return self._engines.url

    @property
    def location(self) -> str:
        """The store as a person reads it: a file path, or a server URL without password."""
        return describe(self._engines.url)

    def dispose(self) -> None:
        """Let go of the store's connections. Not `close`: that is the conversation action
        (ActionsMixin.close), which a method of that name here would hide."""
        self._engines.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.dispose()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self._engines.read.connect() as conn, conn.begin():
                yield conn
        except sa.exc.DBAPIError as exc:
            if not _unavailable(exc):
                raise
            raise StoreUnavailable(explain(self.url, exc)) from exc

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with self._engines.write.begin() as conn:
                yield conn
        except sa.exc.DBAPIError as exc:
            if not _unavailable(exc):
                raise
            raise StoreUnavailable(explain(self.url, exc)) from exc

    @property
    def write_stats(self):
        """How this process's writes got SQLite's write lock (see db.WriteStats)."""
        return self._engines.write_stats

    def _retrying(self, work: Callable[..., T], *args) -> T:
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

    def _insert_fn(self):
        """INSERT with ON CONFLICT for this store's backend (see db.dialect_insert)."""
        return dialect_insert(self.dialect)

    def _event(
        self,
        conn: Connection,
        actor_id: int | None,
        kind: str,
        conversation_id: int | None,
        payload: dict | None = None,
        *,
        at=None,
    ) -> None:
        conn.execute(
            sa.insert(models.Event.__table__).values(
                at=at or self.clock.now(),
                actor_id=actor_id,
                kind=kind,
                conversation_id=conversation_id,
                payload=payload or {},
            )
        )

    def change_token(self) -> int | None:
        """Cheap "did anything change?" for pollers: SQLite's data_version, else None.

        data_version is per connection and ignores the connection's own commits, so the poller
        keeps one connection of its own; see cs_tui.data.watch.
        """
        return None
