"""Shared fixtures: real SQLite files in tmp_path, and PostgreSQL when CS_TUI_TEST_PG names one.

Each PostgreSQL test gets a schema of its own (search_path), so tests can run in parallel
workers against one server without seeing each other's rows. A test that opens its store
through the `store` fixture gets a schema another test of the same worker used before, emptied
back to what a first `Store.open` leaves (`_PreparedSchemas`): creating the tables costs the
server about a quarter of a second a test. A test that asks only for `store_url` (an upgrade,
a first open racing another process) gets a new, empty schema.
"""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from cs_tui.clock import FakeClock
from cs_tui.data.store import Store
from cs_tui.data.tables import METADATA

PG_URL = os.environ.get("CS_TUI_TEST_PG")

# The cyclic collector's full passes, at most one per hundred middle ones instead of ten. A
# workstation test leaves its whole app (widgets, styles, cached strips: a few hundred thousand
# objects in cycles) for the collector, and a test process holds everything pytest collected:
# with Python's default, a test run spent about a third of its processor time in full passes,
# each over several dead apps (0.3 s apiece). The app on its own never comes near this.
gc.set_threshold(700, 10, 100)
START = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    """Never touch the real user's data or config directories."""
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CS_TUI_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("CS_TUI_CONFIG_DIR", str(base / "config"))
    monkeypatch.delenv("CS_TUI_DB", raising=False)
    monkeypatch.delenv("CS_TUI_AGENT", raising=False)
    monkeypatch.delenv("CS_TUI_CONFIG", raising=False)


@pytest.fixture(autouse=True)
def _environment_kept():
    """`--locked` scrubs the environment of its own process; a test that runs it in-process
    must not take pytest's settings (TEXTUAL_SNAPSHOT_TEMPDIR, ...) away from later tests."""
    saved = dict(os.environ)
    yield
    if dict(os.environ) != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def _new_pg_engine(url: str) -> Any:
    """An engine on the test server, `url` as the tests write it."""
    import sqlalchemy as sa

    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


@contextmanager
def _pg_engine(url: str) -> Iterator[Any]:
    """An engine on the test server (`url` as the tests write it), disposed after use."""
    engine = _new_pg_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def make_pg_url() -> str:
    """A new, empty schema on the test server; dropped when the session ends."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with _pg_engine(PG_URL) as engine, engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    _PG_SCHEMAS.append(schema)
    return pg_schema_url(PG_URL, schema)


_PG_SCHEMAS: list[str] = []


def pytest_sessionfinish(session, exitstatus):
    _PREPARED.close()
    if not PG_URL or not _PG_SCHEMAS:
        return
    # One transaction per schema: dropping them all at once takes a lock per table and index of
    # every schema, more than the server's lock table holds ("out of shared memory"), and then
    # none is dropped and they pile up run after run.
    with _pg_engine(PG_URL) as engine:
        for schema in _PG_SCHEMAS:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def pytest_sessionstart(session):
    """With CS_TUI_TEST_PG set, an unreachable server fails the run: a skipped PostgreSQL suite
    must never pass for a green one."""
    if not PG_URL:
        return
    try:
        with _pg_engine(PG_URL) as engine:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            _trigrams_outside_test_schemas(engine)
    except Exception as exc:  # noqa: BLE001 - any failure to connect ends the run
        pytest.exit(f"CS_TUI_TEST_PG={PG_URL} is set but unreachable: {exc}", returncode=3)


def _trigrams_outside_test_schemas(engine) -> None:
    """An older version installed pg_trgm in the schema of whichever store came first; on the
    test server that is a test's schema, and dropping it at the end of one worker's session
    dropped the find indexes of every test still running. Move it where stores put it now."""
    import sqlalchemy as sa

    from cs_tui.data.find_index import pg_trgm_schema

    with engine.connect() as conn:
        where = pg_trgm_schema(conn)
    if where is not None and where.startswith("t_"):
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("ALTER EXTENSION pg_trgm SET SCHEMA public")
        except sa.exc.DBAPIError:
            pass  # another worker moved it first


class _PreparedSchemas:
    """Schemas with the store's tables, handed from one test to the next within a worker.

    Given back after a test, a schema is emptied to the state `Store.open` left it in (every
    row deleted, sequences restarted, `schema_meta` rows as they were) in one transaction.
    DELETE, children before parents, not TRUNCATE: a test leaves a few rows, and TRUNCATE
    gives every table and index new files (about 40 ms of the server's time for each test,
    against a few for the deletes).
    A schema whose tables, columns, indexes, triggers or functions the test changed is never
    handed out again, nor one still locked by a connection the test left open.
    """

    _CATALOG = """
        SELECT md5(string_agg(item, ',' ORDER BY item)) FROM (
            SELECT c.relname || ':' || c.relkind::text AS item FROM pg_class c
             WHERE c.relnamespace = current_schema()::regnamespace
            UNION ALL
            SELECT c.relname || '.' || a.attname || ':' || a.atttypid::text FROM pg_attribute a
              JOIN pg_class c ON c.oid = a.attrelid
             WHERE c.relnamespace = current_schema()::regnamespace AND a.attnum > 0
               AND NOT a.attisdropped
            UNION ALL
            SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
             WHERE c.relnamespace = current_schema()::regnamespace
            UNION ALL
            SELECT p.proname FROM pg_proc p
             WHERE p.pronamespace = current_schema()::regnamespace
        ) AS catalog
    """

    def __init__(self) -> None:
        self.free: list[str] = []
        self.catalog: str | None = None
        self.meta: list[tuple] = []
        self.tables: list[str] = []
        self.sequences: list[str] = []
        self.engines: dict[str, Any] = {}  # one per schema handed out, kept for its next return

    def take(self) -> str:
        if self.free:
            return self.free.pop()
        url = make_pg_url()
        if self.catalog is None:  # the first one: learn what a freshly opened store holds
            Store.open(url).dispose()
            with _pg_engine(url) as engine, engine.begin() as conn:
                self.catalog = conn.exec_driver_sql(self._CATALOG).scalar()
                self.meta = [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM schema_meta")]
                stored = set(
                    conn.exec_driver_sql(
                        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                    ).scalars()
                )
                known = [t.name for t in reversed(METADATA.sorted_tables) if t.name in stored]
                # Children first; a table the metadata does not know (none today) would go last.
                self.tables = [*known, *sorted(stored - set(known))]
                self.sequences = list(
                    conn.exec_driver_sql(
                        "SELECT quote_ident(sequencename) FROM pg_sequences"
                        " WHERE schemaname = current_schema()"
                    ).scalars()
                )
        return url

    def give_back(self, url: str) -> None:
        import sqlalchemy as sa

        if url not in self.engines:
            self.engines[url] = _new_pg_engine(url)
        try:
            with self.engines[url].begin() as conn:
                conn.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
                if conn.exec_driver_sql(self._CATALOG).scalar() != self.catalog:
                    return
                for table in self.tables:
                    conn.exec_driver_sql(f'DELETE FROM "{table}"')
                for sequence in self.sequences:
                    conn.exec_driver_sql(f"ALTER SEQUENCE {sequence} RESTART")
                placeholders = ", ".join(["%s"] * len(self.meta[0])) if self.meta else ""
                for row in self.meta:
                    conn.exec_driver_sql(f"INSERT INTO schema_meta VALUES ({placeholders})", row)
        except sa.exc.DBAPIError:
            return  # still in use: left for the session's end to drop
        self.free.append(url)

    def close(self) -> None:
        for engine in self.engines.values():
            engine.dispose()
        self.engines.clear()


_PREPARED = _PreparedSchemas()

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)]


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    if not PG_URL:
        pytest.skip("set CS_TUI_TEST_PG=postgresql://... to run the PostgreSQL tests")
    if "store" not in request.fixturenames:
        return make_pg_url()
    url = _PREPARED.take()  # the `store` fixture opens it before the test runs anyway
    request.addfinalizer(lambda: _PREPARED.give_back(url))
    return url


@pytest.fixture
def store(store_url, clock):
    s = Store.open(store_url, clock=clock)
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(tmp_path, clock):
    s = Store.open(str(tmp_path / "store.db"), clock=clock)
    yield s
    s.dispose()
