"""Bulk inserts through the driver's executemany.

SQLAlchemy Core costs tens of microseconds per row in parameter processing (type decorators,
JSON); for imports and seeding that is most of the time. On SQLite these helpers convert the
values once with the same rules as the column types and hand plain tuples to sqlite3; on
PostgreSQL they fall back to Core, whose psycopg executemany is already batched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from cs_tui.data.coltypes import UTCDateTime, sqlite_text

# One encoder for every value: json.dumps with options builds a new encoder on each call.
_json_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _converter(column: sa.Column, texts: dict) -> Callable[[Any], Any] | None:
    """How a non-NULL value of this column is stored by SQLite, or None when as it is.

    Datetimes go through `texts`, shared by the columns of one insert: a conversation row holds
    the same instant in several columns (created, first and last message, deadline, urgency)."""
    kind = column.type
    if isinstance(kind, UTCDateTime):

        def to_text(value: Any, known: Callable[[Any], str | None] = texts.get) -> str:
            text = known(value)
            if text is None:
                text = texts[value] = sqlite_text(value)
            return text

        return to_text
    if isinstance(kind, sa.JSON) or (
        isinstance(kind, TypeDecorator) and isinstance(kind.impl_instance, sa.JSON)
    ):
        return _json_text
    if isinstance(kind, sa.Boolean):
        return lambda v: int(bool(v))
    return None


def insert_rows(
    conn: Connection,
    dialect: str,
    table: sa.Table,
    rows: Sequence[dict],
    columns: Sequence[str] | None = None,
) -> None:
    """Insert `rows` (dicts keyed by column name); missing keys are NULL."""
    if not rows:
        return
    names = (
        list(columns)
        if columns is not None
        else [c.name for c in table.columns if any(c.name in r for r in rows[:1])]
    )
    if dialect != "sqlite":
        conn.execute(sa.insert(table), [{n: row.get(n) for n in names} for row in rows])
        return
    # Values are fetched in one C-level map per row; only the columns whose type needs a
    # conversion (datetimes, JSON, booleans) go through Python, and only when not NULL.
    texts: dict = {}
    convert = [
        (i, fn) for i, n in enumerate(names) if (fn := _converter(table.c[n], texts)) is not None
    ]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    data = []
    for row in rows:
        values = list(map(row.get, names))
        for i, fn in convert:
            if values[i] is not None:
                values[i] = fn(values[i])
        data.append(tuple(values))
    conn.exec_driver_sql(sql, data)
