"""The index behind "find anything": message text found by any substring of 3 characters or more.

SQLite: an FTS5 table with the trigram tokenizer (`find_text`) over the message table's own
text (external content, so the text is not stored twice), `detail=none` (a `LIKE '%...%'` needs
no positions; building it is several times cheaper). Trigrams need no word boundaries, so Chinese
text and order numbers are found by any part of them.

It is kept in step from the message table itself rather than by each write path: every message
with an id above the mark (`schema_meta.find_indexed`) is added on the next search (`catch_up`),
or right after an import. A trigger per row cost about 100 µs a message in measurement, which
would halve the import rate; one `INSERT ... SELECT` over the new ids costs some 8 µs a message.
Whatever writes messages (ingest, replies, channels, seeding, a copy between backends) is thus
covered without knowing of the index. The one other change, deleting a conversation, calls
`forget` in its transaction: an external-content index must be told the text it removes.

The short texts of a conversation, its external id and its customer's name and handle, have a
second trigram table (`find_keys`, its own small copy, row id = conversation id): scanning them
cost some 15 ms a search at 100,000 conversations. They never change once written (a customer's
name is set when the customer is first stored), so the same catch-up by conversation id keeps
it current; texts under 3 characters (a two-character Chinese name) still scan, as the trigram
tables find nothing shorter than a trigram.

PostgreSQL: pg_trgm GIN indexes on the message text, the customer's name and handle and the
conversation's external id, kept by the server on every write; nothing to catch up. A GIN index
normally queues new entries in a pending list until a vacuum, and every search reads that whole
list: up to 4 MB an index, which after a bulk load made a search some 60 ms slower at 100,000
conversations. The three short-text indexes (one row a conversation or customer) therefore take
their entries at once (`fastupdate = off`); the message text, where that would make storing a
message ten times dearer, keeps a short list (`gin_pending_list_limit`, 256 kB).

Where neither is available (SQLite built without FTS5 or older than 3.34, a PostgreSQL role that
may not create the extension) the search still works, by scanning: `available` says which.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cs_tui.data.tables import META

MARK = "find_indexed"
"""schema_meta key: the highest message id and conversation id in the SQLite index, as
"MESSAGE CONVERSATION" (never copied between stores: the target indexes its own rows)."""

FTS = "find_text"
KEYS = "find_keys"
CATCH_UP_CHUNK = 50_000
"""Rows indexed per statement while catching up."""

_PG_INDEXES = (
    ("ix_find_message_body", "message", "body", "gin_pending_list_limit = 256"),
    ("ix_find_customer_name", "customer", "name", "fastupdate = off"),
    ("ix_find_customer_handle", "customer", "handle", "fastupdate = off"),
    ("ix_find_conversation_external", "conversation", "external_id", "fastupdate = off"),
)
"""Name, table, column and storage parameters (see the module's text: the pending list)."""
_KEYS_OF = (
    "SELECT c.id, c.external_id || char(10) || u.name || char(10) || u.handle "
    "FROM conversation c JOIN customer u ON u.id = c.customer_id "
)


def install(conn: Connection, dialect: str) -> None:
    """Create the index where it is missing and fill it from the rows already stored (a new
    store, or an existing one being upgraded). Safe to run again."""
    if dialect == "postgresql":
        _install_pg(conn)
        # Every store has the key, so a copy between backends has as many schema_meta rows
        # on each side; on PostgreSQL it stays 0 (the server keeps its indexes itself).
        _set_mark(conn, (0, 0), keep=True)
        return
    if not _create(conn):
        _set_mark(conn, (0, 0), keep=True)
        return
    conn.exec_driver_sql(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")
    conn.exec_driver_sql(f"DELETE FROM {KEYS}")
    conn.exec_driver_sql(f"INSERT INTO {KEYS}(rowid, body) {_KEYS_OF}")
    _set_mark(conn, _tops(conn))


def _create(conn: Connection) -> bool:
    """Create the FTS5 tables; False when this SQLite has no FTS5 or no trigram tokenizer."""
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(body, content='message', "
                "content_rowid='id', tokenize='trigram', detail=none)"
            )
            conn.exec_driver_sql(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {KEYS} USING "
                "fts5(body, tokenize='trigram', detail=none)"
            )
    except sa.exc.OperationalError:
        return False
    return True


def _install_pg(conn: Connection) -> None:
    schema = pg_trgm_schema(conn) or _create_pg_trgm(conn)
    if schema is None:
        return  # no privilege: searches scan instead
    for name, table, column, params in _PG_INDEXES:
        conn.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
            f'USING gin ({column} "{schema}".gin_trgm_ops) WITH ({params})'
        )
    settle_pg(conn)
    # Statistics for the new indexes at once (autovacuum would get there later): without them
    # the planner reads every message backwards for a rare text instead of asking the index.
    conn.exec_driver_sql("ANALYZE message, conversation, customer")


def settle_pg(conn: Connection) -> None:
    """Give indexes created before schema 9 their storage parameters, and move what their
    pending lists hold into the index proper (an index made with them has an empty list)."""
    for name, _table, _column, params in _PG_INDEXES:
        if not _pg_index_exists(conn, name):
            continue
        conn.exec_driver_sql(f"ALTER INDEX {name} SET ({params})")
        conn.exec_driver_sql(f"SELECT gin_clean_pending_list('{name}'::regclass)")


def _pg_index_exists(conn: Connection, name: str) -> bool:
    return (
        conn.exec_driver_sql(
            "SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = %s",
            (name,),
        ).first()
        is not None
    )


def _create_pg_trgm(conn: Connection) -> str | None:
    """Install pg_trgm, in `public` where it may go: an extension is one per database and lives
    in one schema, and dropping that schema (CASCADE) drops every index built on it in every
    other schema. Installed in the first store's own schema, removing that store would silently
    take all other stores' find indexes with it. Where `public` is not writable, the store's own
    schema is the only place left."""
    for statement in (
        "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public",
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    ):
        try:
            with conn.begin_nested():
                conn.exec_driver_sql(statement)
        except sa.exc.DBAPIError:
            continue
        return pg_trgm_schema(conn)
    return None


def pg_trgm_schema(conn: Connection) -> str | None:
    """Where pg_trgm lives (it is one per database, whichever schema created it first)."""
    return conn.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"
    ).scalar()


def _has(conn: Connection, table: str) -> bool:
    return (
        conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).first()
        is not None
    )


def available(conn: Connection, dialect: str) -> bool:
    """Whether searches can use an index on this store."""
    if dialect == "postgresql":
        return _pg_index_exists(conn, _PG_INDEXES[0][0])
    return _has(conn, FTS) and _has(conn, KEYS)


def _mark(conn: Connection) -> tuple[int, int]:
    value = conn.execute(sa.select(META.c.value).where(META.c.key == MARK)).scalar() or ""
    parts = [int(p) for p in value.split() if p.isdigit()]
    return (parts + [0, 0])[0], (parts[1:] + [0])[0]


def _set_mark(conn: Connection, value: tuple[int, int], *, keep: bool = False) -> None:
    """Set the mark; with `keep`, only where the store has none yet."""
    text = f"{value[0]} {value[1]}"
    exists = conn.execute(sa.select(META.c.value).where(META.c.key == MARK)).first()
    if exists is None:
        conn.execute(sa.insert(META).values(key=MARK, value=text))
    elif not keep:
        conn.execute(sa.update(META).where(META.c.key == MARK).values(value=text))


def _tops(conn: Connection, *, without: int | None = None) -> tuple[int, int]:
    """The highest message and conversation ids (leaving out one conversation's rows)."""
    if without is None:
        msg = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM message").scalar_one()
        conv = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM conversation").scalar_one()
    else:
        msg = conn.exec_driver_sql(
            "SELECT coalesce(max(id), 0) FROM message WHERE conversation_id != ?", (without,)
        ).scalar_one()
        conv = conn.exec_driver_sql(
            "SELECT coalesce(max(id), 0) FROM conversation WHERE id != ?", (without,)
        ).scalar_one()
    return int(msg), int(conv)


def behind(conn: Connection, dialect: str) -> bool:
    """Whether rows were stored since the SQLite index last caught up (three indexed reads)."""
    if dialect != "sqlite" or not available(conn, dialect):
        return False
    marks, tops = _mark(conn), _tops(conn)
    return tops[0] > marks[0] or tops[1] > marks[1]


def catch_up(conn: Connection, dialect: str) -> int:
    """Index the messages and conversations stored since the mark, in the caller's write
    transaction; return how many messages. Reads the mark inside the transaction, so two
    processes never index a row twice."""
    if dialect != "sqlite" or not available(conn, dialect):
        return 0
    (msg_mark, conv_mark), (msg_top, conv_top) = _mark(conn), _tops(conn)
    done = 0
    while msg_mark < msg_top:
        upto = min(msg_top, msg_mark + CATCH_UP_CHUNK)
        done += conn.exec_driver_sql(
            f"INSERT INTO {FTS}(rowid, body) SELECT id, body FROM message WHERE id > ? AND id <= ?",
            (msg_mark, upto),
        ).rowcount
        msg_mark = upto
    if conv_mark < conv_top:
        conn.exec_driver_sql(
            f"INSERT INTO {KEYS}(rowid, body) {_KEYS_OF} WHERE c.id > ? AND c.id <= ?",
            (conv_mark, conv_top),
        )
    _set_mark(conn, (msg_top, conv_top))
    return done


def forget(conn: Connection, dialect: str, conversation_id: int) -> None:
    """Take a conversation and its messages out of the index; call before deleting them, in
    the same transaction. The marks come down to the highest ids left, since SQLite hands a
    deleted top id out again."""
    if dialect != "sqlite" or not available(conn, dialect):
        return
    msg_mark, conv_mark = _mark(conn)
    conn.exec_driver_sql(
        f"INSERT INTO {FTS}({FTS}, rowid, body) SELECT 'delete', id, body FROM message "
        "WHERE conversation_id = ? AND id <= ?",
        (conversation_id, msg_mark),
    )
    conn.exec_driver_sql(f"DELETE FROM {KEYS} WHERE rowid = ?", (conversation_id,))
    msg_left, conv_left = _tops(conn, without=conversation_id)
    _set_mark(conn, (min(msg_mark, msg_left), min(conv_mark, conv_left)))
