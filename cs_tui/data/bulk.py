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

from cs_tui.data.models import UTCDateTime, sqlite_text


def _converter(column: sa.Column) -> Callable[[Any], Any] | None:
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return lambda v: None if v is None else sqlite_text(v)
    if isinstance(kind, sa.JSON) or "JSON" in type(kind).__name__:
        return lambda v: (
            None if v is None else json.dumps(v, ensure_ascii=False, separators=(",", ":"))
        )
    if isinstance(kind, sa.Boolean):
        return lambda v: None if v is None else int(bool(v))
    return None


def insert_rows(
    conn, dialect: str, table: sa.Table, rows: Sequence[dict], columns: Sequence[str] | None = None
) -> None:
    """Insert `rows` (dicts keyed by column name); missing keys are NULL."""
    if not rows:
        return
    if dialect != "sqlite":
        conn.execute(sa.insert(table), list(rows))
        return
    names = (
        list(columns)
        if columns is not None
        else [c.name for c in table.columns if any(c.name in r for r in rows[:1])]
    )
    convert = [(_converter(table.c[n])) for n in names]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    data = [
        tuple(fn(row.get(n)) if fn else row.get(n) for n, fn in zip(names, convert, strict=True))
        for row in rows
    ]
    conn.exec_driver_sql(sql, data)
