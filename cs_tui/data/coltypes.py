"""Column types and constants shared by the models and the Core schema, with SQLAlchemy Core only.

The queue, the workstation's first window and every command read through Core tables
(`cs_tui.data.schema`); importing the SQLModel models instead costs pydantic and the ORM, about
half a second of every start. So what a column needs at run time lives here, where neither
SQLModel nor the ORM is imported.

Times are stored through UTCDateTime so SQLite and PostgreSQL both hand back aware UTC values.
`FAR_FUTURE` is the queue's urgency key when nothing is owed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from cs_tui.clock import from_utc_text, utc_text

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)

MAX_ROW_ID = 2**31 - 1
"""The largest id a row can have on both backends (PostgreSQL's INTEGER). A number from outside
(a subject tag, a receipt's `cs-N`, a search for digits) above it names none of our rows, and
must not reach a query, where PostgreSQL refuses it with an error instead of finding nothing."""

sqlite_text = utc_text  # the SQLite storage form of an aware datetime


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, whatever the backend does with offsets.

    PostgreSQL stores timestamptz. SQLite stores fixed-width text "YYYY-MM-DD HH:MM:SS.ffffff"
    (UTC), which sorts in time order and parses with the C-speed datetime.fromisoformat; the
    queue reads hundreds of these per refresh.
    """

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(sa.DateTime(timezone=True))
        return dialect.type_descriptor(sa.String(26))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} reached the store")
        if dialect.name == "postgresql":
            return value.astimezone(UTC)
        return sqlite_text(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return from_utc_text(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class PortableJSON(TypeDecorator[Any]):
    """JSON on SQLite, JSONB on PostgreSQL.

    `JSON().with_variant(JSONB(), "postgresql")` says the same, but needs JSONB when this module
    is imported, and that loads the whole PostgreSQL dialect with its four drivers on every
    start, even against an SQLite store. Here the dialect is imported only when a PostgreSQL
    engine first needs the type.
    """

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(sa.JSON())
