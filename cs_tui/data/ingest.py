"""Bulk writes: messages arriving from channels or JSONL files, and the export that mirrors them.

Ingest is idempotent on the message id and set-based: a batch of lines costs a handful of
statements whatever its size (SQLAlchemy Core executemany, never the ORM: 100k ORM rows take
seconds). Conversation aggregates and SLA deadlines are folded in Python for the touched rows.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cs_tui.collector import collector_paused
from cs_tui.data.actions import (
    apply_message,
    customer_arrived,
    new_conversation_row,
    wake_if_due,
)
from cs_tui.data.agents import AgentsMixin
from cs_tui.data.bulk import insert_rows
from cs_tui.data.coltypes import sqlite_text
from cs_tui.data.errors import InvalidInput, NotAllowed, NotFound
from cs_tui.data.slarow import SLA_COLUMNS, sla_columns
from cs_tui.data.tables import AGENT, CHANNEL, CONV, CONV_TAG, CUST, EVENT, MSG
from cs_tui.data.views import AgentInfo, IngestRecord, IngestResult
from cs_tui.sla import CATEGORIES, CHANNELS, PRIORITIES

CHUNK = 500  # ids per IN (...) list
_NEW_CONV_COLUMNS = tuple(c.name for c in CONV.columns if c.name != "id")


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _lookup(
    conn: Connection, dialect: str, table, key_col, value_col, keys: list[str]
) -> dict[str, Any]:
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


class IngestMixin(AgentsMixin):
    def _ids_by(self, conn: Connection, table, key_col, keys: list[str]) -> dict[str, int]:
        return _lookup(conn, self.dialect, table, key_col, table.c.id, keys)

    def ingest_batch(
        self,
        records: list[IngestRecord],
        *,
        actor: AgentInfo | None = None,
        source_id: int | None = None,
    ) -> IngestResult:
        """Store one batch of validated records in one transaction.

        Agents claim and reply while an import runs, so conversation rows are read under a row
        lock and written back from that copy, never from one read before someone else's commit.
        A line naming a conversation stored (or begun earlier in the batch) for another
        customer or channel is refused (`result.refused`), not merged into someone else's
        conversation.

        `source_id` is the gateway channel the records came from: the conversations they open
        are that channel's, one stored for another source (another channel, an import) is
        refused, and a message id stored outside this channel's conversation too.
        """
        if not records:
            return IngestResult()
        return self._retrying(self._ingest_once, records, actor, source_id)

    def _ingest_once(
        self, records: list[IngestRecord], actor: AgentInfo | None, source_id: int | None = None
    ) -> IngestResult:
        result = IngestResult(lines=len(records))
        now = self.clock.now()
        with collector_paused(), self._write() as conn:
            self._one_import_at_a_time(conn)
            if source_id is not None:
                self._source_open(conn, source_id)
            fresh = self._not_stored_yet(conn, records, result, source_id)
            by_conv = _by_conversation(fresh)
            rows = self._lock_conversations(conn, list(by_conv))
            handles = sorted({r.customer for r in fresh})
            customer_ids = self._ids_by(conn, CUST, CUST.c.handle, handles)
            _refuse_strangers(by_conv, rows, customer_ids, result, source_id)
            result.rejected = len(result.refused)
            if not by_conv:
                return result
            customer_ids.update(self._add_customers(conn, by_conv, customer_ids, now))
            agent_ids = self._add_agents(conn, by_conv, now)
            offered = sum(map(len, by_conv.values())) + len(result.refused)
            if self.dialect == "sqlite":
                conv_ids, kinds = self._store_sqlite(
                    conn, fresh, by_conv, rows, customer_ids, agent_ids, now, source_id
                )
            else:
                conv_ids, kinds = self._store_locked(
                    conn, fresh, by_conv, rows, customer_ids, agent_ids, now, result, source_id
                )
            result.rejected = len(result.refused)
            self._write_tags_and_events(conn, by_conv, conv_ids, kinds, actor, now)
            result.touched = set(kinds)
            result.conversations = len(kinds)
            result.imported = sum(sum(k.values()) for k in kinds.values())
            # (what is left was stored by another writer meanwhile)
            result.duplicates += offered - result.imported - len(result.refused)
        return result

    def _one_import_at_a_time(self, conn: Connection) -> None:
        """PostgreSQL: import batches into one store take turns (SQLite writers always do).

        Two imports of the same file at once then never lock rows in opposite orders; claims
        and replies still run beside an import, waiting only for the rows a batch holds."""
        if self.dialect == "postgresql":
            conn.exec_driver_sql(
                "SELECT pg_advisory_xact_lock(hashtext('cs_tui_ingest:' || current_schema()))"
            )

    def _source_open(self, conn: Connection, source_id: int) -> None:
        """The gateway channel is there and active, as this transaction sees it (a channel
        disabled a moment ago stores nothing more)."""
        row = conn.execute(_channel_state(), {"id": source_id}).first()
        if row is None:
            raise NotFound(code="no_channel_id", channel_id=source_id)
        if not row.active:
            raise NotAllowed(code="channel_disabled", name=row.name)

    def _not_stored_yet(
        self,
        conn: Connection,
        records: list[IngestRecord],
        result: IngestResult,
        source_id: int | None = None,
    ) -> list:
        """Records whose message id is neither stored nor repeated earlier in the batch.

        From a channel (`source_id`), a stored id counts as a duplicate only where this
        channel's conversation of that id holds it; stored anywhere else, the line is refused
        without saying where."""
        ids = [r.message_id for r in records]
        existing = _lookup(conn, self.dialect, MSG, MSG.c.external_id, MSG.c.external_id, ids)
        owners = (
            self._message_owners(conn, [k for k in ids if k in existing])
            if source_id is not None and existing
            else {}
        )
        seen: set[str] = set()
        fresh = []
        for r in records:
            key = r.message_id
            if (
                key in existing
                and source_id is not None
                and owners.get(key) != (r.conversation_id, source_id)
            ):
                result.refused.append((r, _STORED_ELSEWHERE))
                continue
            if key in existing or key in seen:
                result.duplicates += 1
                result.duplicate_records.add(id(r))
                continue
            seen.add(key)
            fresh.append(r)
        return fresh

    def _message_owners(
        self, conn: Connection, message_ids: list[str]
    ) -> dict[str, tuple[str, int | None]]:
        """`message external id -> (conversation external id, its source channel)`."""
        out: dict[str, tuple[str, int | None]] = {}
        for part in _chunks(sorted(set(message_ids))):
            query = (
                sa.select(MSG.c.external_id, CONV.c.external_id, CONV.c.source_id)
                .select_from(MSG.join(CONV, CONV.c.id == MSG.c.conversation_id))
                .where(MSG.c.external_id.in_(part))
            )
            for key, conv, source in conn.execute(query):
                out[key] = (conv, source)
        return out

    def _lock_conversations(self, conn: Connection, external_ids: list[str]) -> dict[str, dict]:
        """The stored rows of these conversations, locked until commit (FOR UPDATE on
        PostgreSQL; on SQLite this transaction already is the only writer)."""
        rows: dict[str, dict] = {}
        for part in _chunks(sorted(external_ids)):
            for row in conn.execute(_locked_conversations(), {"ids": part}).mappings():
                rows[row["external_id"]] = dict(row)
        return rows

    def _add_customers(
        self, conn: Connection, by_conv, known: dict[str, int], now
    ) -> dict[str, int]:
        names: dict[str, str] = {}
        for recs in by_conv.values():
            for r in recs:
                if r.customer not in names or r.customer_name:
                    names[r.customer] = r.customer_name or names.get(r.customer) or r.customer
        missing = [
            {"handle": h, "name": names[h][:200], "tier": "standard", "created_at": now}
            for h in sorted(names)
            if h not in known
        ]
        if not missing:
            return {}
        if self.dialect == "sqlite":
            # Plain tuples to the driver: Core's per-row parameter processing cost twice the
            # insert itself (a channel's batch of 500 brings up to 500 new customers).
            stored = sqlite_text(now)
            conn.exec_driver_sql(
                "INSERT INTO customer (handle, name, tier, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [(m["handle"], m["name"], m["tier"], stored) for m in missing],
            )
        else:
            conn.execute(self._insert_fn()(CUST).on_conflict_do_nothing(), missing)
        return self._ids_by(conn, CUST, CUST.c.handle, [m["handle"] for m in missing])

    def _add_agents(self, conn: Connection, by_conv, now) -> dict[str, int]:
        """Agents named on agent lines, registered on first sight."""
        handles = sorted({r.agent for recs in by_conv.values() for r in recs if r.agent})
        agent_ids = self._ids_by(conn, AGENT, AGENT.c.handle, handles)
        new_agents = [
            {"handle": h, "display_name": h, "role": "agent", "active": True, "created_at": now}
            for h in handles
            if h not in agent_ids
        ]
        if new_agents:
            conn.execute(self._insert_fn()(AGENT).on_conflict_do_nothing(), new_agents)
            agent_ids.update(
                self._ids_by(conn, AGENT, AGENT.c.handle, [a["handle"] for a in new_agents])
            )
        return agent_ids

    def _store_sqlite(
        self, conn: Connection, fresh, by_conv, rows, customer_ids, agent_ids, now, source_id=None
    ):
        """SQLite: this transaction is the only writer, so every fresh message will be stored;
        new conversations are folded in Python and inserted whole (the fast path)."""
        new_rows = {
            ext: _new_row(ext, recs, customer_ids[recs[0].customer], now, source_id)
            for ext, recs in by_conv.items()
            if ext not in rows
        }
        kinds = {
            ext: self._fold(rows.get(ext) or new_rows[ext], recs, agent_ids, now)
            for ext, recs in by_conv.items()
        }
        # (insert_rows takes only the named columns, so the rows' "id" stays out)
        insert_rows(conn, self.dialect, CONV, list(new_rows.values()), _NEW_CONV_COLUMNS)
        conv_ids = {e: row["id"] for e, row in rows.items()}
        conv_ids.update(self._ids_by(conn, CONV, CONV.c.external_id, list(new_rows)))
        self._update_folded(conn, [(rows[e], kinds[e]) for e in by_conv if e in rows])
        messages = _message_tuples(_kept(fresh, by_conv), conv_ids, agent_ids, sqlite=True)
        write_messages(conn, self.dialect, messages, stored_at=now)
        return conv_ids, kinds

    def _store_locked(
        self,
        conn: Connection,
        fresh,
        by_conv,
        rows,
        customer_ids,
        agent_ids,
        now,
        result,
        source_id=None,
    ):
        """PostgreSQL: other writers run at the same time. Stored rows were locked before they
        were read; only messages whose insert went through are folded into them and counted.
        New conversations are folded in Python and inserted whole (the fast path); one that
        someone else created meanwhile is locked and checked like any stored one, and one of
        ours whose messages were not all stored (another writer had some of the ids) is
        folded again from those that were."""
        new_rows = {
            ext: _new_row(ext, recs, customer_ids[recs[0].customer], now, source_id)
            for ext, recs in sorted(by_conv.items())
            if ext not in rows
        }
        for ext, row in new_rows.items():
            self._fold(row, by_conv[ext], agent_ids, now)
        created = self._insert_new(conn, new_rows)
        taken = [ext for ext in new_rows if ext not in created]
        if taken:
            others = self._lock_conversations(conn, taken)
            _refuse_strangers(by_conv, others, customer_ids, result, source_id)
            rows.update(others)
        conv_ids = {e: row["id"] for e, row in rows.items()} | created
        kept = _kept(fresh, by_conv)
        messages = _message_tuples(kept, conv_ids, agent_ids, sqlite=False)
        write_messages(conn, self.dialect, messages, stored_at=now)
        inserted = created_here(conn, MSG, MSG.c.external_id, [r.message_id for r in kept])
        kinds = {}
        for ext in list(by_conv):
            offered = by_conv[ext]
            stored = [r for r in offered if r.message_id in inserted]
            if ext in created and len(stored) < len(offered):
                self._refold_new(conn, ext, created[ext], stored, customer_ids, agent_ids, now)
            if not stored:
                del by_conv[ext]
                continue
            by_conv[ext] = stored
            if ext in created:
                kinds[ext] = _count_authors(stored)
            else:
                kinds[ext] = self._fold(rows[ext], stored, agent_ids, now)
        self._update_folded(conn, [(rows[e], kinds[e]) for e in kinds if e not in created])
        return conv_ids, kinds

    def _insert_new(self, conn: Connection, new_rows: dict[str, dict]) -> dict[str, int]:
        """Insert whole rows unless the conversation exists by now; `external id -> id` of
        those this transaction created."""
        if not new_rows:
            return {}
        conn.execute(
            self._insert_fn()(CONV).on_conflict_do_nothing(index_elements=["external_id"]),
            [{k: row[k] for k in _NEW_CONV_COLUMNS} for row in new_rows.values()],
        )
        return created_here(conn, CONV, CONV.c.external_id, list(new_rows))

    def _refold_new(
        self, conn: Connection, ext, conv_id, stored, customer_ids, agent_ids, now
    ) -> None:
        """A conversation this batch created holds fewer messages than were folded into it:
        build its row again from those it holds, or remove it when it holds none."""
        if not stored:
            conn.execute(sa.delete(CONV).where(CONV.c.id == conv_id))
            return
        row = _new_row(ext, stored, customer_ids[stored[0].customer], now)
        self._fold(row, stored, agent_ids, now)
        values = {k: row.get(k) for k in (*_FOLDED, "created_at", "category", "priority")}
        conn.execute(sa.update(CONV).where(CONV.c.id == conv_id).values(values))

    def _fold(self, row: dict, recs: list[IngestRecord], agent_ids, now) -> dict[str, int]:
        """Fold messages into a conversation row; returns how many of each author."""
        wake_if_due(row, now)
        kinds: dict[str, int] = defaultdict(int)
        for r in sorted(recs, key=lambda x: x.sent_at):
            if r.author == "customer" and r.sent_at >= (row.get("last_agent_at") or r.sent_at):
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
        return dict(kinds)

    def _update_folded(self, conn: Connection, folded: list[tuple[dict, dict[str, int]]]) -> None:
        """Write folded rows back. They were read under lock; even so the count is added to
        the stored one rather than written over it, so no message is ever uncounted."""
        if not folded:
            return
        params = []
        for row, kinds in folded:
            values = {k: row.get(k) for k in _FOLDED}
            values["b_id"] = row["id"]
            values["b_added"] = sum(kinds.values())
            params.append(values)
        conn.execute(_folded_update(), params)

    def _write_tags_and_events(
        self, conn: Connection, by_conv, conv_ids, kinds, actor, now
    ) -> None:
        tag_rows = {(conv_ids[ext], t) for ext in kinds for r in by_conv[ext] for t in r.tags}
        if tag_rows:
            conn.execute(
                self._insert_fn()(CONV_TAG).on_conflict_do_nothing(),
                [{"conversation_id": c, "tag": t} for c, t in sorted(tag_rows)],
            )
        events = [
            {
                "at": now,
                "actor_id": actor.id if actor else None,
                "kind": "messages_ingested",
                "conversation_id": conv_ids[ext],
                "payload": counts,
            }
            for ext, counts in kinds.items()
        ]
        insert_rows(conn, self.dialect, EVENT, events, _EVENT_COLUMNS)

    def ingest(
        self,
        records: Iterable[IngestRecord],
        *,
        batch_size: int = 5000,
        actor: AgentInfo | None = None,
        progress: Callable[[int], object] | None = None,
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
            raise InvalidInput(code="unknown_channel", channel=channel)
        if category not in CATEGORIES:
            raise InvalidInput(code="unknown_category", category=category)
        if priority not in PRIORITIES:
            raise InvalidInput(code="unknown_priority", priority=priority)
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
            row = new_conversation_row(
                external_id=external_id,
                customer_id=customer_id,
                channel=channel,
                category=category,
                priority=priority,
                status="open" if assignee else "new",
                assignee_id=assignee.id if assignee else None,
                assigned_at=now if assignee else None,
                created_at=created_at or now,
                updated_at=now,
                training=training,
            )
            row.update(sla_columns(self.policy, row))
            try:
                new_id = conn.execute(
                    sa.insert(CONV).values(**row).returning(CONV.c.id)
                ).scalar_one()
            except sa.exc.IntegrityError:
                raise InvalidInput(code="conversation_exists", external_id=external_id) from None
            self._event(
                conn,
                actor.id if actor else None,
                "conversation_created",
                new_id,
                {"external_id": external_id},
            )
        return new_id

    # -- export ----------------------------------------------------------------------------

    def export_messages(
        self, actor: AgentInfo | None, *, include_training: bool = False
    ) -> Iterator[dict]:
        """Every message of the store, for `cs-tui export`: the whole team's customers, so a
        supervisor's (anyone's while the team has none)."""
        self.require_supervisor(actor, "export the store")
        return self.export_rows(include_training=include_training)

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


_EVENT_COLUMNS = ("at", "actor_id", "kind", "conversation_id", "payload")


# Statements every batch runs, built once: a channel's single messages arrive by the thousand
# a second, and building a statement costs more than running it on SQLite.


@functools.cache
def _locked_conversations() -> sa.Select[Any]:
    return (
        sa.select(CONV)
        .where(CONV.c.external_id.in_(sa.bindparam("ids", expanding=True)))
        .order_by(CONV.c.id)
        .with_for_update()
    )


@functools.cache
def _folded_update() -> sa.Update:
    columns: dict[str, sa.ColumnElement[Any]] = {k: sa.bindparam(k) for k in _FOLDED}
    columns["message_count"] = CONV.c.message_count + sa.bindparam("b_added")
    return sa.update(CONV).where(CONV.c.id == sa.bindparam("b_id")).values(columns)


@functools.cache
def _channel_state() -> sa.Select[Any]:
    return sa.select(CHANNEL.c.name, CHANNEL.c.active).where(CHANNEL.c.id == sa.bindparam("id"))


def _by_conversation(records: list[IngestRecord]) -> dict[str, list[IngestRecord]]:
    """Records grouped by conversation, each group in input order."""
    by_conv: dict[str, list[IngestRecord]] = defaultdict(list)
    for r in records:
        by_conv[r.conversation_id].append(r)
    return by_conv


_STORED_ELSEWHERE = "'message_id' is already stored for another conversation: not stored"
_OTHER_SOURCE = "'conversation_id' belongs to another channel: not merged"


def _refuse_strangers(
    by_conv, rows, customer_ids, result: IngestResult | None, source_id: int | None = None
) -> None:
    """Take out of `by_conv` the lines whose conversation belongs to another customer or
    channel: the stored row's, or for a new conversation its first line's. The reason names
    which, never the stored values (they are another customer's data). Lines from a gateway
    channel (`source_id`) go only into conversations that channel opened."""
    for ext in list(by_conv):
        recs = by_conv[ext]
        row = rows.get(ext)
        if row is not None and source_id is not None and row.get("source_id") != source_id:
            if result is not None:
                result.refused.extend((r, _OTHER_SOURCE) for r in recs)
            del by_conv[ext]
            continue
        if row is not None:
            owner, channel = row["customer_id"], row["channel"]
            where = "is already stored"
        else:
            owner, channel = customer_ids.get(recs[0].customer, recs[0].customer), recs[0].channel
            where = "was started by an earlier line"
        kept = []
        for r in recs:
            if customer_ids.get(r.customer, r.customer) != owner:
                reason = f"'conversation_id' {where} for another customer: not merged"
            elif r.channel != channel:
                reason = f"'conversation_id' {where} on another channel: not merged"
            else:
                kept.append(r)
                continue
            if result is not None:
                result.refused.append((r, reason))
        if kept:
            by_conv[ext] = kept
        else:
            del by_conv[ext]


def _count_authors(records: list[IngestRecord]) -> dict[str, int]:
    kinds: dict[str, int] = defaultdict(int)
    for r in records:
        kinds[r.author] += 1
    return dict(kinds)


def _kept(fresh: list[IngestRecord], by_conv) -> list[IngestRecord]:
    """The records still in `by_conv`, in input order (message ids follow the file)."""
    if sum(map(len, by_conv.values())) == len(fresh):
        return fresh
    kept = {id(r) for recs in by_conv.values() for r in recs}
    return [r for r in fresh if id(r) in kept]


def _new_row(
    ext: str,
    recs: list[IngestRecord],
    customer_id: int,
    now: datetime,
    source_id: int | None = None,
) -> dict:
    """A new conversation: its customer and channel are its first line's; `source_id` the
    gateway channel it came from (None: an import)."""
    first = recs[0]
    return new_conversation_row(
        external_id=ext,
        customer_id=customer_id,
        channel=first.channel,
        category=next((x.category for x in recs if x.category), None) or "order",
        priority=next((x.priority for x in recs if x.priority), None) or "normal",
        status="new",
        active=True,
        created_at=min(x.sent_at for x in recs),
        updated_at=now,
        source_id=source_id,
    )


def _message_tuples(records, conv_ids, agent_ids, *, sqlite: bool) -> Iterator[tuple]:
    for r in records:
        yield (
            conv_ids[r.conversation_id],
            r.author,
            agent_ids.get(r.agent) if r.agent else None,
            r.text,
            r.sent_text if sqlite and r.sent_text else r.sent_at,
            r.message_id,
        )


def write_messages(
    conn: Connection, dialect: str, rows: Iterable[tuple], *, stored_at: datetime
) -> None:
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
    params = [{**dict(zip(keys, r, strict=True)), "stored_at": stored_at} for r in rows]
    if params:
        conn.execute(insert(MSG).on_conflict_do_nothing(), params)


def created_here(conn: Connection, table, key_col, keys: list[str]) -> dict[str, int]:
    """PostgreSQL: `key -> id` of the rows among `keys` that this transaction inserted.

    After INSERT ... ON CONFLICT DO NOTHING, what is ours and what another writer stored
    first. (RETURNING says the same, but SQLAlchemy answers it with multi-row VALUES
    statements that psycopg parses anew each time: the import ran at half speed.)"""
    ours: dict[str, int] = {}
    mine = sa.text("xmin = pg_current_xact_id()::xid")
    for part in _chunks(keys):
        ours.update(
            conn.execute(sa.select(key_col, table.c.id).where(key_col.in_(part), mine)).all()
        )
    return ours


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
    *SLA_COLUMNS,
)
