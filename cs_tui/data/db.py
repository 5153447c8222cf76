"""Engines for SQLite and PostgreSQL, and the schema version check.

SQLite writers begin with BEGIN IMMEDIATE: with a plain deferred BEGIN, a read transaction that
upgrades to a write fails with SQLITE_BUSY_SNAPSHOT, which ignores busy_timeout, and concurrent
claims then fail by the thousand. Readers keep deferred transactions so they never queue behind
writers (WAL lets them read a snapshot).

Waiting for SQLite's write lock is done here, not by busy_timeout alone. SQLite's busy handler
sleeps ever longer (up to 100 ms) between looks at the lock, while a writer that just committed
takes it again at once: under 8 busy writers one of them waited 4.5 s and some hit the 5 s
timeout. Writers here look at the lock every few milliseconds with a random pause (so waiters do
not move in step), for at most WRITE_PATIENCE_S in all; only then does "locked" reach the user.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from cs_tui.data import find_index
from cs_tui.data.errors import StoreError
from cs_tui.data.tables import META, SCHEMA_VERSION

if TYPE_CHECKING:
    from cs_tui.clock import Clock
    from cs_tui.sla import SlaPolicy

WRITE_PATIENCE_S = 10.0  # the longest a write waits for SQLite's write lock in all
WRITE_ATTEMPT_MS = 20  # SQLite's own wait (busy_timeout) per attempt at the write lock
WRITE_PAUSE_S = 0.004  # between attempts: a random pause of up to this long


@dataclass
class WriteStats:
    """How this process's writes got SQLite's write lock (`python -m bench team` prints it)."""

    writes: int = 0
    retries: int = 0  # attempts after the first, each after WRITE_ATTEMPT_MS of waiting
    worst_wait_s: float = 0.0

    def record(self, retries: int, waited: float) -> None:
        self.writes += 1
        self.retries += retries
        if waited > self.worst_wait_s:
            self.worst_wait_s = waited


@dataclass(frozen=True)
class Engines:
    """The store's engines: one for reads and one for writes (on PostgreSQL the same one)."""

    url: str
    read: Engine
    write: Engine
    dialect: str
    write_stats: WriteStats = field(default_factory=WriteStats)

    def dispose(self) -> None:
        self.read.dispose()
        if self.write is not self.read:
            self.write.dispose()


def normalise_url(target: str) -> str:
    """A filesystem path or an SQLAlchemy-style URL; refuse schemes we do not support."""
    if "://" not in target:
        return f"sqlite:///{Path(target).expanduser().resolve()}"
    scheme = target.split("://", 1)[0].lower()
    if scheme in ("sqlite", "sqlite+pysqlite"):
        return target
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        rest = target.split("://", 1)[1]
        return f"postgresql+psycopg://{rest}"
    raise StoreError(
        f"unknown store scheme {scheme!r} in {target!r}: use a file path, sqlite:///PATH "
        "or postgresql://HOST/DB"
    )


def describe(url: str) -> str:
    """The store as shown on screen: a path, or the server without a password."""
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///") :]
    try:
        return sa.make_url(url).render_as_string(hide_password=True).replace("+psycopg", "")
    except Exception:
        return url


def sqlite_path(url: str) -> Path | None:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url[len("sqlite:///") :])
    return None


def _sqlite_engine(url: str, *, stats: WriteStats | None = None) -> Engine:
    """Readers (no `stats`) begin DEFERRED; writers begin IMMEDIATE, patiently."""
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=5000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        if stats is not None:
            cur.execute(f"PRAGMA busy_timeout={WRITE_ATTEMPT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if stats is None:
            conn.exec_driver_sql("BEGIN DEFERRED")
        else:
            _begin_immediate(conn, stats)

    return engine


def _busy(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY or "locked" in str(exc)


def _begin_immediate(conn: Connection, stats: WriteStats) -> None:
    """BEGIN IMMEDIATE, trying again after a random pause while another writer holds the lock.

    The attempts go straight to sqlite3 (a failed one costs microseconds); the last one, once
    WRITE_PATIENCE_S has passed, goes through SQLAlchemy so its failure is reported like any
    other database error (the store turns it into StoreUnavailable)."""
    raw = conn.connection.dbapi_connection
    assert raw is not None, "a connection in its begin event is attached to its DBAPI connection"
    start = time.monotonic()
    deadline = start + WRITE_PATIENCE_S
    retries = 0
    while True:
        try:
            raw.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or time.monotonic() + WRITE_PAUSE_S >= deadline:
                try:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                finally:
                    stats.record(retries + 1, time.monotonic() - start)
                return
        retries += 1
        time.sleep(random.uniform(0, WRITE_PAUSE_S))
    stats.record(retries, time.monotonic() - start)


def make_engines(target: str, *, create_dir: bool = True) -> Engines:
    url = normalise_url(target)
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path is not None:
            if path.is_dir():
                raise StoreError(f"{path} is a directory, not a store file")
            if create_dir:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"cannot create {path.parent}: {exc.strerror}") from None
            if path.exists():
                _check_sqlite_header(path)
        stats = WriteStats()
        read = _sqlite_engine(url)
        write = _sqlite_engine(url, stats=stats)
        return Engines(url, read, write, "sqlite", stats)
    try:
        engine = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    except ModuleNotFoundError:
        raise StoreError("PostgreSQL needs psycopg: pip install 'cs-tui[postgres]'") from None
    return Engines(url, engine, engine, "postgresql")


def dialect_insert(dialect: str) -> Callable[..., Any]:
    """The INSERT construct with ON CONFLICT support for this backend."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def reset_sequences(conn: Connection, dialect: str, tables: Iterable[str]) -> None:
    """After rows were written with explicit ids (seed, copy), PostgreSQL's id sequences must
    continue after the highest id; SQLite needs nothing."""
    if dialect != "postgresql":
        return
    for name in tables:
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
        )


def _check_sqlite_header(path: Path) -> None:
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    if head and head != b"SQLite format 3\x00":
        raise StoreError(f"{path} is not a cs-tui store: it is not an SQLite database")


def prepare_schema(
    engines: Engines, policy: SlaPolicy | None = None, clock: Clock | None = None
) -> int:
    """Create a new store or check and upgrade an existing one; return its schema version.

    With a `policy`, the stored deadlines are then made to follow it: recomputed once when the
    store's were computed with another policy (`recompute.ensure_deadlines`)."""
    version = _prepare_tables(engines)
    if policy is not None:
        from cs_tui.data.recompute import ensure_deadlines

        try:
            ensure_deadlines(engines, policy, clock)
        except sa.exc.DatabaseError as exc:
            raise StoreError(_explain(engines.url, exc)) from None
    return version


def _prepare_tables(engines: Engines) -> int:
    try:
        with engines.write.begin() as conn:
            inspector = sa.inspect(conn)
            tables = set(inspector.get_table_names())
            if not tables:
                _create_tables(conn)
                conn.execute(
                    sa.insert(META).values(key="schema_version", value=str(SCHEMA_VERSION))
                )
                _install_dialect_extras(conn, engines.dialect)
                find_index.install(conn, engines.dialect)
                return SCHEMA_VERSION
            if "schema_meta" not in tables:
                raise StoreError(
                    f"{describe(engines.url)} is not a cs-tui store: it holds other tables "
                    f"({', '.join(sorted(tables)[:5])})"
                )
            row = conn.execute(
                sa.text("SELECT value FROM schema_meta WHERE key = 'schema_version'")
            ).first()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{describe(engines.url)} was written by a newer cs-tui (schema {version}; "
                    f"this version knows up to {SCHEMA_VERSION}): upgrade cs-tui"
                )
            if version < SCHEMA_VERSION:
                from cs_tui.data.upgrades import upgrade

                upgrade(conn, version, engines.dialect)
                conn.execute(
                    sa.text("UPDATE schema_meta SET value = :v WHERE key = 'schema_version'"),
                    {"v": str(SCHEMA_VERSION)},
                )
                _install_dialect_extras(conn, engines.dialect)
            return SCHEMA_VERSION
    except sa.exc.DatabaseError as exc:
        raise StoreError(_explain(engines.url, exc)) from None


def _create_tables(conn: Connection) -> None:
    """A new store's tables, made from the SQLModel models (their one definition). Only here,
    when a store is created, are SQLModel and pydantic imported: reading and writing use the
    same tables as Core (`schema.py`, generated from the models and checked by a test)."""
    from cs_tui.collector import collector_paused

    with collector_paused():
        from cs_tui.data.models import SQLModel

    SQLModel.metadata.create_all(conn)


def _install_dialect_extras(conn: Connection, dialect: str) -> None:
    """PostgreSQL: wake pollers with NOTIFY when events are committed."""
    if dialect != "postgresql":
        return
    conn.exec_driver_sql(
        """
        CREATE OR REPLACE FUNCTION cs_tui_notify_event() RETURNS trigger AS $$
        BEGIN
          -- schema:id, so listeners skip other stores' events on the same database
          PERFORM pg_notify('cs_tui_events', TG_TABLE_SCHEMA || ':' || NEW.id::text);
          RETURN NEW;
        END $$ LANGUAGE plpgsql
        """
    )
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS cs_tui_event_notify ON event")
    conn.exec_driver_sql(
        "CREATE TRIGGER cs_tui_event_notify AFTER INSERT ON event "
        "FOR EACH ROW EXECUTE FUNCTION cs_tui_notify_event()"
    )


def _explain(url: str, exc: Exception) -> str:
    orig = getattr(exc, "orig", exc)
    where = describe(url)
    if isinstance(orig, sqlite3.DatabaseError):
        text = str(orig)
        if "not a database" in text or "malformed" in text:
            return f"{where} is not a usable cs-tui store: {text}"
        if "locked" in text:
            return f"{where} is locked by another process: {text}"
        return f"{where}: {text}"
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return f"{where}: {first}"


def explain(url: str, exc: Exception) -> str:
    return _explain(url, exc)
