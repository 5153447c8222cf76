"""Bulk writes: messages arriving from channels or JSONL files, and the export that mirrors them.

Ingest is idempotent on the message id and set-based: a batch of lines costs a handful of
statements whatever its size (SQLAlchemy Core executemany, never the ORM: 100k ORM rows take
seconds). Conversation aggregates and SLA deadlines are folded in Python for the touched rows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cs_tui.data import collector_paused, models
from cs_tui.data.actions import apply_message, customer_arrived, wake_if_due
from cs_tui.data.bulk import insert_rows
from cs_tui.data.errors import InvalidInput
from cs_tui.data.models import sqlite_text
from cs_tui.data.slarow import sla_columns
from cs_tui.data.views import AgentInfo, IngestRecord, IngestResult
from cs_tui.sla import CATEGORIES, CHANNELS, PRIORITIES

CONV = models.Conversation.__table__
CUST = models.Customer.__table__
CONV_TAG = models.ConversationTag.__table__
MSG = models.Message.__table__
AGENT = models.Agent.__table__
EVENT = models.Event.__table__

CHUNK = 500  # ids per IN (...) list
_EMPTY_ROW = {c.name: None for c in CONV.columns}
_NEW_CONV_COLUMNS = tuple(c.name for c in CONV.columns if c.name != "id")


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _lookup(conn, dialect: str, table, key_col, value_col, keys: list[str]) -> dict[str, Any]:
    """`key -> value` for the keys present in `table`.

    On SQLite the whole key list goes in as one JSON parameter (json_each): an IN list of
    bound parameters costs SQLAlchemy Python work per key, which was a tenth of an import."""
    if not keys:
        return {}
    if dialect == "sqlite":
        sql = (
            f"SELECT {key_col.name}, {value_col.name} FROM {table.name} "
            f"WHERE {key_col.name} IN (SELECT value FROM json_each(?))"
        )
        return dict(conn.exec_driver_sql(sql, (json.dumps(keys, ensure_ascii=False),)).all())
    out: dict[str, Any] = {}
    for part in _chunks(keys):
        out.update(conn.execute(sa.select(key_col, value_col).where(key_col.in_(part))).all())
    return out


class IngestMixin:
    def _ids_by(self, conn, table, key_col, keys: list[str]) -> dict[str, int]:
        return _lookup(conn, self.dialect, table, key_col, table.c.id, keys)

    def ingest_batch(
        self, records: list[IngestRecord], *, actor: AgentInfo | None = None
    ) -> IngestResult:
        """Store one batch of validated records in one transaction."""
        result = IngestResult(lines=len(records))
        if not records:
            return result
        insert = self._insert_fn()
        now = self.clock.now()
        with collector_paused(), self._write() as conn:
            # Messages already stored (or repeated within this batch) are skipped; the rest
            # are grouped by conversation in the same pass.
            existing = _lookup(
                conn,
                self.dialect,
                MSG,
                MSG.c.external_id,
                MSG.c.external_id,
                [r.message_id for r in records],
            )
            seen: set[str] = set()
            fresh: list[IngestRecord] = []
            by_conv: dict[str, list[IngestRecord]] = defaultdict(list)
            for r in records:
                key = r.message_id
                if key in existing or key in seen:
                    result.duplicates += 1
                    continue
                seen.add(key)
                fresh.append(r)
                by_conv[r.conversation_id].append(r)
            if not fresh:
                return result

            # Customers.
            names: dict[str, str] = {}
            for r in fresh:
                if r.customer not in names or r.customer_name:
                    names[r.customer] = r.customer_name or names.get(r.customer) or r.customer
            customer_ids = self._ids_by(conn, CUST, CUST.c.handle, list(names))
            missing = [
                {"handle": h, "name": names[h][:200], "tier": "standard", "created_at": now}
                for h in names
                if h not in customer_ids
            ]
            if missing:
                conn.execute(insert(CUST).on_conflict_do_nothing(), missing)
                customer_ids.update(
                    self._ids_by(conn, CUST, CUST.c.handle, [m["handle"] for m in missing])
                )

            # Agents named on agent lines are registered on first sight.
            handles = sorted({r.agent for r in fresh if r.agent})
            agent_ids = self._ids_by(conn, AGENT, AGENT.c.handle, handles)
            new_agents = [
                {"handle": h, "display_name": h, "role": "agent", "active": True, "created_at": now}
                for h in handles
                if h not in agent_ids
            ]
            if new_agents:
                conn.execute(insert(AGENT).on_conflict_do_nothing(), new_agents)
                agent_ids.update(
                    self._ids_by(conn, AGENT, AGENT.c.handle, [a["handle"] for a in new_agents])
                )

            # Conversations: existing rows are loaded, new ones built here; all are folded in
            # Python and written once (new rows inserted whole, old rows updated).
            rows: dict[str, dict] = {}
            for part in _chunks(list(by_conv)):
                for row in conn.execute(
                    sa.select(CONV).where(CONV.c.external_id.in_(part))
                ).mappings():
                    rows[row["external_id"]] = dict(row)
            existing_ext = set(rows)
            for ext, recs in by_conv.items():
                if ext in rows:
                    continue
                first = min(recs, key=lambda x: x.sent_at)
                category = next((x.category for x in recs if x.category), None)
                rows[ext] = {
                    **_EMPTY_ROW,
                    "external_id": ext,
                    "customer_id": customer_ids[first.customer],
                    "channel": first.channel,
                    "category": category or "order",
                    "priority": next((x.priority for x in recs if x.priority), None) or "normal",
                    "status": "new",
                    "active": True,
                    "created_at": first.sent_at,
                    "pauses": [],
                    "transfers": 0,
                    "message_count": 0,
                    "preview": "",
                    "training": False,
                }
            result.touched = set(by_conv)
            result.conversations = len(by_conv)
            kinds_by_conv: dict[str, dict[str, int]] = {}
            for ext, recs in by_conv.items():
                row = rows[ext]
                wake_if_due(row, now)
                recs.sort(key=lambda x: x.sent_at)
                kinds: dict[str, int] = defaultdict(int)
                for r in recs:
                    if r.author == "customer" and r.sent_at >= (
                        row.get("last_agent_at") or r.sent_at
                    ):
                        customer_arrived(row, r.sent_at)
                    apply_message(row, r.author, r.sent_at, r.text)
                    kinds[r.author] += 1
                    if r.author == "agent" and r.agent and row.get("assignee_id") is None:
                        row["assignee_id"] = agent_ids.get(r.agent)
                        row["assigned_at"] = r.sent_at
                        if row["status"] == "new":
                            row["status"] = "open"
                    if r.csat is not None:
                        row["csat"] = r.csat
                row["updated_at"] = now
                row.update(sla_columns(self.policy, row))
                kinds_by_conv[ext] = dict(kinds)
            # (insert_rows takes only the named columns, so the rows' "id" stays out)
            new_rows = [rows[e] for e in by_conv if e not in existing_ext]
            insert_rows(conn, self.dialect, CONV, new_rows, _NEW_CONV_COLUMNS)
            conv_ids = {e: rows[e]["id"] for e in existing_ext}
            conv_ids.update(
                self._ids_by(conn, CONV, CONV.c.external_id, [r["external_id"] for r in new_rows])
            )
            old_rows = [
                {"b_id": rows[e]["id"], **{k: rows[e].get(k) for k in _FOLDED}}
                for e in by_conv
                if e in existing_ext
            ]
            if old_rows:
                conn.execute(
                    sa.update(CONV)
                    .where(CONV.c.id == sa.bindparam("b_id"))
                    .values({k: sa.bindparam(k) for k in _FOLDED}),
                    old_rows,
                )

            # Messages: the bulk of the bytes, so straight through the driver's executemany.
            sqlite = self.dialect == "sqlite"
            write_messages(
                conn,
                self.dialect,
                (
                    (
                        conv_ids[r.conversation_id],
                        r.author,
                        agent_ids.get(r.agent) if r.agent else None,
                        r.text,
                        r.sent_text if sqlite and r.sent_text else r.sent_at,
                        r.message_id,
                    )
                    for r in fresh
                ),
                stored_at=now,
            )
            result.imported = len(fresh)

            tag_rows = {(conv_ids[r.conversation_id], t) for r in fresh for t in r.tags}
            if tag_rows:
                conn.execute(
                    insert(CONV_TAG).on_conflict_do_nothing(),
                    [{"conversation_id": c, "tag": t} for c, t in tag_rows],
                )
            insert_rows(
                conn,
                self.dialect,
                EVENT,
                [
                    {
                        "at": now,
                        "actor_id": actor.id if actor else None,
                        "kind": "messages_ingested",
                        "conversation_id": conv_ids[ext],
                        "payload": kinds,
                    }
                    for ext, kinds in kinds_by_conv.items()
                ],
                ("at", "actor_id", "kind", "conversation_id", "payload"),
            )
        return result

    def ingest(
        self,
        records: Iterable[IngestRecord],
        *,
        batch_size: int = 5000,
        actor: AgentInfo | None = None,
        progress=None,
    ) -> IngestResult:
        total = IngestResult()
        batch: list[IngestRecord] = []

        def flush():
            part = self.ingest_batch(batch, actor=actor)
            total.add(part)
            if progress:
                progress(part.lines)
            batch.clear()

        for record in records:
            batch.append(record)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
        return total

    def create_conversation(
        self,
        *,
        external_id: str,
        customer_handle: str,
        customer_name: str | None = None,
        channel: str = "chat",
        category: str = "order",
        priority: str = "normal",
        training: bool = False,
        assignee: AgentInfo | None = None,
        actor: AgentInfo | None = None,
        created_at: datetime | None = None,
    ) -> int:
        """A new, empty conversation (role-play sessions, tests, channel adapters)."""
        if channel not in CHANNELS:
            raise InvalidInput(f"unknown channel {channel!r}")
        if category not in CATEGORIES:
            raise InvalidInput(f"unknown category {category!r}")
        if priority not in PRIORITIES:
            raise InvalidInput(f"unknown priority {priority!r}")
        now = self.clock.now()
        insert = self._insert_fn()
        with self._write() as conn:
            conn.execute(
                insert(CUST)
                .values(
                    handle=customer_handle,
                    name=(customer_name or customer_handle)[:200],
                    tier="standard",
                    created_at=now,
                )
                .on_conflict_do_nothing()
            )
            customer_id = conn.execute(
                sa.select(CUST.c.id).where(CUST.c.handle == customer_handle)
            ).scalar_one()
            row = {
                "external_id": external_id,
                "customer_id": customer_id,
                "channel": channel,
                "category": category,
                "priority": priority,
                "status": "open" if assignee else "new",
                "assignee_id": assignee.id if assignee else None,
                "assigned_at": now if assignee else None,
                "created_at": created_at or now,
                "updated_at": now,
                "pauses": [],
                "transfers": 0,
                "message_count": 0,
                "preview": "",
                "training": training,
            }
            row.update(sla_columns(self.policy, row))
            try:
                new_id = conn.execute(
                    sa.insert(CONV).values(**row).returning(CONV.c.id)
                ).scalar_one()
            except sa.exc.IntegrityError:
                raise InvalidInput(f"conversation {external_id!r} already exists") from None
            self._event(
                conn,
                actor.id if actor else None,
                "conversation_created",
                new_id,
                {"external_id": external_id},
            )
        return new_id

    # -- export ----------------------------------------------------------------------------

    def export_rows(self, *, include_training: bool = False, batch: int = 5000) -> Iterator[dict]:
        """Every message in the JSONL shape, conversation by conversation, oldest first."""
        author = AGENT.alias("author")
        assignee = AGENT.alias("assignee")
        last_id = 0
        while True:
            with self._read() as conn:
                conv_q = (
                    sa.select(
                        CONV.c.id,
                        CONV.c.external_id,
                        CONV.c.channel,
                        CONV.c.category,
                        CONV.c.priority,
                        CONV.c.csat,
                        CUST.c.handle,
                        CUST.c.name,
                        assignee.c.handle.label("assignee"),
                    )
                    .select_from(
                        CONV.join(CUST, CUST.c.id == CONV.c.customer_id).outerjoin(
                            assignee, assignee.c.id == CONV.c.assignee_id
                        )
                    )
                    .where(CONV.c.id > last_id)
                    .order_by(CONV.c.id)
                    .limit(batch)
                )
                if not include_training:
                    conv_q = conv_q.where(CONV.c.training.is_(False))
                convs = conn.execute(conv_q).all()
                if not convs:
                    return
                ids = [c.id for c in convs]
                tags: dict[int, list[str]] = defaultdict(list)
                msgs: dict[int, list] = defaultdict(list)
                for part in _chunks(ids):
                    for cid, tag in conn.execute(
                        sa.select(CONV_TAG.c.conversation_id, CONV_TAG.c.tag)
                        .where(CONV_TAG.c.conversation_id.in_(part))
                        .order_by(CONV_TAG.c.tag)
                    ):
                        tags[cid].append(tag)
                    for m in conn.execute(
                        sa.select(
                            MSG.c.id,
                            MSG.c.conversation_id,
                            MSG.c.author_kind,
                            author.c.handle.label("agent"),
                            MSG.c.body,
                            MSG.c.sent_at,
                            MSG.c.external_id,
                        )
                        .select_from(MSG.outerjoin(author, author.c.id == MSG.c.author_agent_id))
                        .where(MSG.c.conversation_id.in_(part))
                        .order_by(MSG.c.conversation_id, MSG.c.sent_at, MSG.c.id)
                    ):
                        msgs[m.conversation_id].append(m)
            for c in convs:
                for index, m in enumerate(msgs.get(c.id, ())):
                    line = {
                        "message_id": m.external_id or f"cs-tui-{m.id}",
                        "conversation_id": c.external_id,
                        "channel": c.channel,
                        "customer": c.handle,
                        "author": m.author_kind,
                        "text": m.body,
                        "sent_at": m.sent_at.isoformat(),
                        "customer_name": c.name,
                        "category": c.category,
                        "priority": c.priority,
                    }
                    if m.agent:
                        line["agent"] = m.agent
                    if tags.get(c.id):
                        line["tags"] = tags[c.id]
                    if c.csat is not None and index == len(msgs[c.id]) - 1:
                        line["csat"] = c.csat
                    yield line
            last_id = convs[-1].id


def write_messages(conn, dialect: str, rows: Iterable[tuple], *, stored_at: datetime) -> None:
    """Insert (conversation_id, author_kind, author_agent_id, body, sent_at, external_id) rows,
    skipping message ids already stored. On SQLite sent_at may be its stored text already.
    `rows` may be a generator: on SQLite each row is converted as it is consumed (one pass
    over hundreds of thousands of messages, not two)."""
    if dialect == "sqlite":
        stored = sqlite_text(stored_at)
        conn.exec_driver_sql(
            "INSERT INTO message (conversation_id, author_kind, author_agent_id, body, sent_at, "
            "stored_at, external_id) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [
                # Checked lines bring their time as stored text already (IngestRecord.sent_text).
                (a, b, c, d, e if e.__class__ is str else sqlite_text(e), stored, f)
                for a, b, c, d, e, f in rows
            ],
        )
        return
    from sqlalchemy.dialects.postgresql import insert

    keys = ("conversation_id", "author_kind", "author_agent_id", "body", "sent_at", "external_id")
    conn.execute(
        insert(MSG).on_conflict_do_nothing(),
        [{**dict(zip(keys, r, strict=True)), "stored_at": stored_at} for r in rows],
    )


_FOLDED = (
    "status",
    "assignee_id",
    "assigned_at",
    "first_customer_at",
    "last_customer_at",
    "first_agent_at",
    "last_agent_at",
    "last_message_at",
    "preview",
    "message_count",
    "first_response_s",
    "followed_up_at",
    "snooze_until",
    "pauses",
    "csat",
    "sla_clock",
    "sla_started_at",
    "due_at",
    "sla_target_s",
    "urgency_at",
    "active",
    "hidden_until",
)
