"""Schema upgrades, one function per version step, run inside the opening transaction."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cs_tui.data import find_index
from cs_tui.data.tables import (
    CHANNEL,
    CONV,
    DELIVERY,
    HANDOVER,
    MAIL_CURSOR,
    MAIL_MESSAGE,
    PERSONAL_PHRASE,
    SESSION,
)


def _v1_to_v2(conn: Connection, dialect: str) -> None:
    """Schema 2 adds role-play sessions (training_session) and a channel+status queue index."""
    SESSION.create(conn, checkfirst=True)
    for index in CONV.indexes:
        index.create(conn, checkfirst=True)


def _v2_to_v3(conn: Connection, dialect: str) -> None:
    """Schema 3 adds the gateway: channels, the delivery outbox, and two conversation columns
    (the channel that opened it, when a reply of it could not be delivered). Existing rows keep
    their values; the new columns start empty (NULL: typed in or imported)."""
    CHANNEL.create(conn, checkfirst=True)
    DELIVERY.create(conn, checkfirst=True)
    present = {c["name"] for c in sa.inspect(conn).get_columns("conversation")}
    when = "TIMESTAMP WITH TIME ZONE" if dialect == "postgresql" else "VARCHAR(26)"
    if "source_id" not in present:
        conn.exec_driver_sql(
            "ALTER TABLE conversation ADD COLUMN source_id INTEGER REFERENCES gateway_channel (id)"
        )
    if "undelivered_at" not in present:
        conn.exec_driver_sql(f"ALTER TABLE conversation ADD COLUMN undelivered_at {when}")


def _v3_to_v4(conn: Connection, dialect: str) -> None:
    """Schema 4 adds the e-mail channel's tables: the IMAP cursors and the mails' headers and
    whole texts. Each addition checks first, so the step may be extended and re-run."""
    MAIL_CURSOR.create(conn, checkfirst=True)
    MAIL_MESSAGE.create(conn, checkfirst=True)


def _v4_to_v5(conn: Connection, dialect: str) -> None:
    """Schema 5 adds the handover notes of transfers (and who handed what over)."""
    HANDOVER.create(conn, checkfirst=True)


def _v5_to_v6(conn: Connection, dialect: str) -> None:
    """Schema 6 adds the index behind "find anything" (see find_index), filled from the
    messages already stored: about 4 s a million messages on SQLite."""
    find_index.install(conn, dialect)


def _v6_to_v7(conn: Connection, dialect: str) -> None:
    """Schema 7 adds the agents' personal phrases."""
    PERSONAL_PHRASE.create(conn, checkfirst=True)


def _v7_to_v8(conn: Connection, dialect: str) -> None:
    """Schema 8 adds mail_message.note: the e-mail channel's notes in a mail as codes and
    parameters, translated when shown. Mails stored before keep NULL (their English notes are
    still recognised and shown translated)."""
    present = {c["name"] for c in sa.inspect(conn).get_columns("mail_message")}
    if "note" not in present:
        kind = "JSONB" if dialect == "postgresql" else "JSON"
        conn.exec_driver_sql(f"ALTER TABLE mail_message ADD COLUMN note {kind}")


def _v8_to_v9(conn: Connection, dialect: str) -> None:
    """Schema 9 gives PostgreSQL's find indexes short or no pending lists, which every search
    read whole (see find_index); SQLite is unchanged."""
    if dialect == "postgresql":
        find_index.settle_pg(conn)


STEPS: dict[int, Callable[[Connection, str], None]] = {
    1: _v1_to_v2,
    2: _v2_to_v3,
    3: _v3_to_v4,
    4: _v4_to_v5,
    5: _v5_to_v6,
    6: _v6_to_v7,
    7: _v7_to_v8,
    8: _v8_to_v9,
}


def upgrade(conn: Connection, from_version: int, dialect: str) -> None:
    from cs_tui.data.models import SCHEMA_VERSION

    version = from_version
    while version < SCHEMA_VERSION:
        step = STEPS.get(version)
        if step is None:
            raise RuntimeError(f"no upgrade from schema {version}")
        step(conn, dialect)
        version += 1
