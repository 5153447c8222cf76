"""Copy a whole store between backends (a team moving from SQLite to PostgreSQL).

Rows keep their ids so events, drafts and audit trails still point at the right things. The copy
is verified, not assumed: row counts per table and a checksum over every message must match.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import sqlalchemy as sa

from cs_tui.data import models
from cs_tui.data.db import StoreError, reset_sequences

TABLE_ORDER = (
    models.SchemaMeta.__table__,
    models.Agent.__table__,
    models.Customer.__table__,
    models.CustomerTag.__table__,
    models.Conversation.__table__,
    models.ConversationTag.__table__,
    models.Message.__table__,
    models.Draft.__table__,
    models.Article.__table__,
    models.PhraseUse.__table__,
    models.TrainingSession.__table__,
    models.Event.__table__,
)
SERIAL_TABLES = (
    "agent",
    "customer",
    "conversation",
    "message",
    "kb_article",
    "phrase_use",
    "event",
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


def message_checksum(store) -> str:
    """sha256 over every message (id, conversation, author, body, time), in id order."""
    digest = hashlib.sha256()
    msg = models.Message.__table__
    conv = models.Conversation.__table__
    last = 0
    while True:
        with store._read() as conn:
            rows = conn.execute(
                sa.select(
                    msg.c.id,
                    conv.c.external_id,
                    msg.c.author_kind,
                    msg.c.author_agent_id,
                    msg.c.body,
                    msg.c.sent_at,
                    msg.c.external_id.label("mid"),
                )
                .select_from(msg.join(conv, conv.c.id == msg.c.conversation_id))
                .where(msg.c.id > last)
                .order_by(msg.c.id)
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
    from cs_tui.data.store import Store

    src = Store.open(source_target, create=False)
    dst = Store.open(dest_target)
    try:
        dst_counts = dst.counts()
        if any(n for name, n in dst_counts.items() if name != "schema_meta"):
            raise StoreError(f"{dst.location} is not empty: copy only into a new store")
        report = CopyReport(src.location, dst.location)
        meta = models.SchemaMeta.__table__
        with src._read() as conn:
            kept = [
                dict(r)
                for r in conn.execute(
                    sa.select(meta).where(meta.c.key != "schema_version")
                ).mappings()
            ]
        if kept:  # demo anchor, early-warning states: everything but the target's own version
            with dst._write() as conn:
                conn.execute(sa.insert(meta), kept)
        for table in TABLE_ORDER:
            if table.name == "schema_meta":
                continue
            pk = list(table.primary_key.columns)
            offset = 0
            while True:
                with src._read() as conn:
                    rows = (
                        conn.execute(sa.select(table).order_by(*pk).limit(CHUNK).offset(offset))
                        .mappings()
                        .all()
                    )
                if not rows:
                    break
                with dst._write() as conn:
                    conn.execute(sa.insert(table), [dict(r) for r in rows])
                offset += len(rows)
        with dst._write() as conn:
            reset_sequences(conn, dst.dialect, SERIAL_TABLES)
        a, b = src.counts(), dst.counts()
        report.counts = {name: (a[name], b[name]) for name in a}
        report.source_checksum = message_checksum(src)
        report.target_checksum = message_checksum(dst)
        return report
    finally:
        src.close()
        dst.close()
