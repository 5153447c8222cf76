"""Stored deadlines follow the SLA policy: when the policy or a calendar changes, recompute them.

The store keeps each conversation's deadline (`due_at` and the columns `slarow.sla_columns`
derives with it), computed when the conversation last changed. A team that edits its policy
(a target, a calendar's hours, this year's holidays) expects every waiting conversation to be due
by the new rules, not only those touched since. So the store remembers a fingerprint of the
policy its deadlines were computed with (`schema_meta`, key `sla_policy`); a process that opens
the store with a different policy recomputes every running clock once, in one write transaction.

- Which rows: those with a running clock (`sla_clock` set). Whether a clock runs never depends on
  the policy (`sla.running_clock`), only when it is due, so the other rows cannot change.
- One pass in id order, a batch of rows at a time; only rows whose columns change are written:
  on SQLite as batches of updates by primary key, on PostgreSQL a batch at a time through a
  temporary table and an `UPDATE ... FROM`, written while the next batch is read and computed.
- Two processes starting at once: the first to take the write lock (BEGIN IMMEDIATE on SQLite,
  a row lock on the schema version in PostgreSQL) recomputes; the second then reads the new
  fingerprint inside its own transaction and does nothing.
- Two processes configured with *different* policies would recompute at each other's start:
  the fingerprint is the store's, and the team should share one policy file.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cs_tui.clock import Clock, SystemClock
from cs_tui.data.coltypes import UTCDateTime, sqlite_text
from cs_tui.data.policy_fingerprint import FINGERPRINT_KEY, policy_fingerprint
from cs_tui.data.slarow import SLA_COLUMNS, sla_columns
from cs_tui.data.tables import CONV, EVENT, META

if TYPE_CHECKING:
    from concurrent.futures import Future

    from cs_tui.data.db import Engines
    from cs_tui.sla import SlaPolicy

BATCH = 5000

_FACT_COLUMNS = (
    "id",
    "channel",
    "category",
    "priority",
    "status",
    "created_at",
    "assignee_id",
    "assigned_at",
    "first_customer_at",
    "last_customer_at",
    "first_agent_at",
    "last_agent_at",
    "escalated_at",
    "transfer_requested_at",
    "resolved_at",
    "followed_up_at",
    "snooze_until",
    "pauses",
    "undelivered_at",
)
_OUT_COLUMNS = SLA_COLUMNS

_TMP = sa.Table(
    "cs_tui_sla_recompute",
    sa.MetaData(),
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("sla_clock", sa.String(16)),
    sa.Column("sla_started_at", UTCDateTime()),
    sa.Column("due_at", UTCDateTime()),
    sa.Column("sla_target_s", sa.Float()),
    sa.Column("urgency_at", UTCDateTime()),
    sa.Column("active", sa.Boolean()),
    sa.Column("hidden_until", UTCDateTime()),
    prefixes=["TEMPORARY"],
)


def _stored_fingerprint(conn: Connection) -> str | None:
    return conn.execute(
        sa.select(META.c.value).where(META.c.key == FINGERPRINT_KEY)
    ).scalar_one_or_none()


def ensure_deadlines(engines: Engines, policy: SlaPolicy, clock: Clock | None = None) -> int | None:
    """Recompute the running clocks' deadlines if the store's were computed with another policy.

    Returns how many conversations changed, or None when the deadlines already followed this
    policy (the usual start: one read of one row). When some changed, one `sla_recompute` event
    (no conversation; payload: how many) tells running workstations to read their queue again."""
    fingerprint = policy_fingerprint(policy)
    with engines.read.connect() as conn:
        if _stored_fingerprint(conn) == fingerprint:
            return None
    with engines.write.begin() as conn:
        if engines.dialect == "postgresql":
            conn.execute(
                sa.select(META.c.key).where(META.c.key == "schema_version").with_for_update()
            )
        stored = _stored_fingerprint(conn)
        if stored == fingerprint:
            return None  # another process has just done it
        changed = recompute(conn, policy)
        if changed:
            at = (clock or SystemClock()).now()
            conn.execute(
                sa.insert(EVENT).values(
                    at=at, kind="sla_recompute", conversation_id=None, payload={"changed": changed}
                )
            )
        if stored is None:
            conn.execute(sa.insert(META).values(key=FINGERPRINT_KEY, value=fingerprint))
        else:
            conn.execute(
                sa.update(META).where(META.c.key == FINGERPRINT_KEY).values(value=fingerprint)
            )
        return changed


_NAMES = _FACT_COLUMNS + _OUT_COLUMNS


def _batches(conn: Connection) -> Iterator[list[dict[str, Any]]]:
    """The running clocks, a batch at a time, as plain dicts with aware datetimes.

    Read with the DBAPI cursor rather than through the Core table's column types and rows: the
    per-value type dispatch and the Row objects cost more than all the deadlines together (1.5
    million values at 100,000 conversations). SQLite's fixed-width UTC text is parsed here and
    each batch is a primary-key range query (its rows are updated between batches); PostgreSQL
    streams one query through a server-side cursor on a connection of its own (the updates go
    through the transaction's, meanwhile), and psycopg gives aware datetimes and decoded JSON
    already."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    pg = conn.dialect.name == "postgresql"
    # Most conversations never paused: their empty list is not decoded at all.
    empty = "NULLIF(pauses::text, '[]')" if pg else "NULLIF(pauses, '[]')"
    picked = ", ".join(empty if name == "pauses" else name for name in _NAMES)
    select = f"SELECT {picked} FROM conversation WHERE sla_clock IS NOT NULL"
    if pg:
        cursor = raw.cursor(name="cs_tui_sla_recompute")
        cursor.execute(select)
        at = _NAMES.index("pauses")
        while rows := cursor.fetchmany(BATCH):
            out = []
            for raw_row in rows:
                row = list(raw_row)
                if row[at] is not None:
                    row[at] = json.loads(row[at])
                out.append(dict(zip(_NAMES, row, strict=True)))
            yield out
        cursor.close()
        return
    read = _sqlite_reader(raw, f"{select} AND id > ? ORDER BY id LIMIT {BATCH}")
    last_id = 0
    while rows := read(last_id):
        last_id = rows[-1]["id"]
        yield rows


def _sqlite_reader(raw: Any, sql: str) -> Callable[[int], list[dict[str, Any]]]:
    names = _NAMES
    assert raw is not None
    times = [i for i, name in enumerate(names) if isinstance(CONV.c[name].type, UTCDateTime)]
    pauses = names.index("pauses")
    parse = datetime.fromisoformat

    def read_sqlite(last: int) -> list[dict[str, Any]]:
        out = []
        for raw_row in raw.execute(sql, (last,)).fetchall():
            row = list(raw_row)
            for i in times:
                value = row[i]
                if value is not None:  # 5x faster than parse(value).replace(tzinfo=UTC)
                    row[i] = parse(value + "+00:00")
            if row[pauses] is not None:
                row[pauses] = json.loads(row[pauses])
            out.append(dict(zip(names, row, strict=True)))
        return out

    return read_sqlite


def recompute(conn: Connection, policy: SlaPolicy) -> int:
    """Recompute every running clock in the transaction of `conn`; return the rows changed."""
    if conn.dialect.name == "postgresql":
        return _recompute_pg(conn, policy)
    return _recompute_sqlite(conn, policy)


def _changed(policy: SlaPolicy, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The new SLA columns (with the id) of the rows whose columns change."""
    updates = []
    for row in rows:
        new = sla_columns(policy, row)
        if any(new[name] != row[name] for name in _OUT_COLUMNS):
            new["id"] = row["id"]
            updates.append(new)
    return updates


_SQLITE_UPDATE = (
    f"UPDATE conversation SET {', '.join(f'{name} = ?' for name in _OUT_COLUMNS)} WHERE id = ?"
)
_SQLITE_CACHE_KIB = 131_072


def _recompute_sqlite(conn: Connection, policy: SlaPolicy) -> int:
    """Batches of updates by primary key, under BEGIN IMMEDIATE. The six queue indexes hold
    urgency_at, so most of the time goes to them: a 128 MiB page cache for the pass halves it
    (SQLite's default 2 MiB evicts index pages between the scattered rows); an UPDATE ... FROM a
    temporary table measured the same as these, plus the temporary table's inserts."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    cache = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}")
    try:
        changed = 0
        for rows in _batches(conn):
            updates = _changed(policy, rows)
            raw.executemany(
                _SQLITE_UPDATE,
                [
                    (
                        u["sla_clock"],
                        _text(u["sla_started_at"]),
                        _text(u["due_at"]),
                        u["sla_target_s"],
                        _text(u["urgency_at"]),
                        u["active"],
                        _text(u["hidden_until"]),
                        u["id"],
                    )
                    for u in updates
                ],
            )
            changed += len(updates)
    finally:
        raw.execute(f"PRAGMA cache_size = {int(cache)}")
    return changed


def _text(value: datetime | None) -> str | None:
    return None if value is None else sqlite_text(value)


def _recompute_pg(conn: Connection, policy: SlaPolicy) -> int:
    """Read, compute and write side by side: the running clocks are read on a connection of
    their own and computed here, and each batch's changed rows are written by a writer thread on
    the transaction's connection (COPY into a temporary table, then `UPDATE ... FROM` it).

    Measured at 100,000 open conversations (40,000 deadlines changed) on two otherwise idle
    cores: reading costs about 0.9 s of CPU (both sides), the deadlines 1.2 s (Python), the
    update 2.2 s (the server, mostly the five queue indexes every changed row is entered into
    again; rebuilding them instead costs as much). One after the other that was 4.5-5.1 s; side
    by side 3.6-3.8 s, the update now being most of it. The reading connection sees what was
    committed when its cursor opened, as the transaction's own would (READ COMMITTED), never
    this pass's updates; at most two computed batches wait for the writer, so memory stays that
    of a few batches."""
    _TMP.create(conn)  # on failure the transaction's rollback takes it away again
    raw: Any = conn.connection.dbapi_connection  # psycopg's Connection: COPY
    columns = ("id", *_OUT_COLUMNS)
    copy_sql = f"COPY {_TMP.name} ({', '.join(columns)}) FROM STDIN"
    sets = ", ".join(f"{name} = t.{name}" for name in _OUT_COLUMNS)
    update_sql = f"UPDATE conversation SET {sets} FROM {_TMP.name} t WHERE conversation.id = t.id"

    def write(updates: list[dict[str, Any]]) -> None:
        with raw.cursor() as cursor:
            with cursor.copy(copy_sql) as copy:  # COPY: a fifth of a multi-row INSERT
                for update in updates:
                    copy.write_row(tuple(update[name] for name in columns))
            # Counted, the planner joins a batch of a few thousand rows by the primary key
            # instead of reading the whole conversation table for each batch.
            cursor.execute(f"ANALYZE {_TMP.name}")
            cursor.execute(update_sql)
            cursor.execute(f"TRUNCATE {_TMP.name}")

    # Here, not at the top: every store open imports this module, and only this runs a thread.
    from concurrent.futures import ThreadPoolExecutor

    changed = 0
    with (
        conn.engine.connect() as reading,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="sla-recompute") as writer,
    ):
        waiting: deque[Future[None]] = deque()
        for rows in _batches(reading):
            updates = _changed(policy, rows)
            if not updates:
                continue
            while len(waiting) >= 2:
                waiting.popleft().result()  # raises what the writer raised
            waiting.append(writer.submit(write, updates))
            changed += len(updates)
        while waiting:
            waiting.popleft().result()
    _TMP.drop(conn)
    return changed
