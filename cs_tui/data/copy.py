"""Copy a whole store between backends (a team moving from SQLite to PostgreSQL).

Rows keep their ids so events, drafts and audit trails still point at the right things. The copy
is verified, not assumed: row counts per table and a checksum over every message must match.

The whole copy is one transaction on the target, read from one snapshot of the source: a copy
that fails half way (a row the target will not take, a server that goes away, the process
killed) leaves the target as empty as it found it, so the same command can simply run again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cs_tui.data import find_index
from cs_tui.data.db import explain, reset_sequences
from cs_tui.data.errors import StoreError
from cs_tui.data.store import Store
from cs_tui.data.tables import CONV, META, MSG, TABLE_ORDER

SERIAL_TABLES = (
    "agent",
    "customer",
    "conversation",
    "message",
    "kb_article",
    "phrase_use",
    "event",
    "gateway_channel",
    "delivery",
    "mail_message",
)
CHUNK = 5000


@dataclass
class CopyReport:
    source: str
    target: str
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    source_checksum: str = ""
    target_checksum: str = ""

    @property
    def ok(self) -> bool:
        return self.source_checksum == self.target_checksum and all(
            a == b for a, b in self.counts.values()
        )

    def lines(self) -> list[str]:
        out = [f"copied {self.source} -> {self.target}"]
        for name, (a, b) in self.counts.items():
            mark = "ok" if a == b else "MISMATCH"
            out.append(f"  {name:<18} {a:>10,} -> {b:>10,}  {mark}")
        same = "ok" if self.source_checksum == self.target_checksum else "MISMATCH"
        out.append(
            f"  message checksum   {self.source_checksum[:16]} -> {self.target_checksum[:16]}  {same}"
        )
        return out


def message_checksum(store: Store) -> str:
    """sha256 over every message (id, conversation, author, body, time), in id order."""
    digest = hashlib.sha256()
    last = 0
    while True:
        with store._read() as conn:
            rows = conn.execute(
                sa.select(
                    MSG.c.id,
                    CONV.c.external_id,
                    MSG.c.author_kind,
                    MSG.c.author_agent_id,
                    MSG.c.body,
                    MSG.c.sent_at,
                    MSG.c.external_id.label("mid"),
                )
                .select_from(MSG.join(CONV, CONV.c.id == MSG.c.conversation_id))
                .where(MSG.c.id > last)
                .order_by(MSG.c.id)
                .limit(CHUNK)
            ).all()
        if not rows:
            return digest.hexdigest()
        for r in rows:
            digest.update(
                "\x1f".join(
                    (
                        str(r.id),
                        r.external_id,
                        r.author_kind,
                        str(r.author_agent_id),
                        r.body,
                        r.sent_at.isoformat(),
                        r.mid or "",
                    )
                ).encode("utf-8", "surrogatepass")
            )
            digest.update(b"\x1e")
        last = rows[-1].id


def copy_store(source_target: str, dest_target: str) -> CopyReport:
    src = Store.open(source_target, create=False)
    dst = Store.open(dest_target)
    try:
        report = CopyReport(src.location, dst.location)
        _copy_all(src, dst)
        a, b = src.counts(), dst.counts()
        report.counts = {name: (a[name], b[name]) for name in a}
        report.source_checksum = message_checksum(src)
        report.target_checksum = message_checksum(dst)
        return report
    finally:
        src.dispose()
        dst.dispose()


def _copy_all(src: Store, dst: Store) -> None:
    """Every table in one target transaction; any failure undoes all of it and says where."""
    where = _Where()
    try:
        with src._read() as read, dst._write() as write:
            _refuse_busy_target(write, dst.location)
            _copy_meta(read, write, where)
            for table in TABLE_ORDER:
                if table.name != "schema_meta":
                    _copy_table(read, write, table, where)
            reset_sequences(write, dst.dialect, SERIAL_TABLES)
    except StoreError as exc:
        if where.table is None:
            raise
        raise StoreError(f"{where.failed(dst.location)}: {exc}") from None
    except sa.exc.DBAPIError as exc:
        raise StoreError(f"{where.failed(dst.location)}: {explain(dst.url, exc)}") from None


@dataclass
class _Where:
    """How far a copy got, for the message when it fails."""

    table: str | None = None
    first: object = None
    last: object = None

    def failed(self, target: str) -> str:
        rows = f" (source rows {self.first} to {self.last})" if self.first is not None else ""
        return (
            f"db copy stopped at table {self.table}{rows}; nothing was kept, {target} is "
            "empty again and the copy can be run again"
        )


def _refuse_busy_target(conn: Connection, location: str) -> None:
    for table in TABLE_ORDER:
        if table.name == "schema_meta":
            continue
        if conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one():
            raise StoreError(f"{location} is not empty: copy only into a new store")


def _copy_meta(read: Connection, write: Connection, where: _Where) -> None:
    """Demo anchor, early-warning states: everything but the target's own schema version and
    how far its own search index got (the copied messages are indexed on its first search)."""
    where.table = META.name
    own = ("schema_version", find_index.MARK)
    kept = [dict(r) for r in read.execute(sa.select(META).where(META.c.key.notin_(own))).mappings()]
    # The target's own entries (the SLA policy fingerprint of its opening) give way to the
    # source's, which describe the rows being copied.
    write.execute(sa.delete(META).where(META.c.key.notin_(own)))
    if kept:
        write.execute(sa.insert(META), kept)


def _copy_table(read: Connection, write: Connection, table: sa.Table, where: _Where) -> None:
    pk = list(table.primary_key.columns)
    where.table, where.first, where.last = table.name, None, None
    query = sa.select(table).order_by(*pk).execution_options(yield_per=CHUNK)
    result = read.execute(query)
    for part in result.mappings().partitions():
        rows = [dict(r) for r in part]
        if len(pk) == 1:
            where.first, where.last = rows[0][pk[0].name], rows[-1][pk[0].name]
        write.execute(sa.insert(table), rows)
