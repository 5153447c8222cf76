"""Reads: the queue window, a conversation, a customer's history, the change feed.

The queue reads one window ordered by the indexed urgency key and never the whole table, so a
store of 100,000 open conversations answers as fast as one of 100.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cs_tui.data.errors import NotFound
from cs_tui.data.find import FIND_LIMIT, FindMixin, Found
from cs_tui.data.slarow import facts_from_row
from cs_tui.data.tables import (
    AGENT,
    CONV,
    CONV_TAG,
    CUST,
    CUST_TAG,
    DELIVERY,
    DRAFT,
    EVENT,
    HANDOVER,
    MSG,
    TABLE_ORDER,
)
from cs_tui.data.views import (
    TAG_SEP,
    AgentInfo,
    ConversationDetail,
    CustomerInfo,
    EventView,
    HandoverView,
    MessageView,
    QueueFilter,
    QueueRow,
    queue_row_from,
    queue_rows_in_order,
    sees_in_full,
)

ASSIGNEE = AGENT.alias("assignee")
MESSAGE_WINDOW = 500  # newest messages loaded with a conversation; older ones page in


def _queue_select() -> sa.Select[Any]:
    return sa.select(
        CONV.c.id,
        CONV.c.external_id,
        CONV.c.channel,
        CONV.c.category,
        CONV.c.priority,
        CONV.c.status,
        CONV.c.customer_id,
        CUST.c.name.label("customer_name"),
        CUST.c.handle.label("customer_handle"),
        CUST.c.tier.label("customer_tier"),
        CONV.c.preview,
        ASSIGNEE.c.handle.label("assignee"),
        CONV.c.sla_clock,
        CONV.c.due_at,
        CONV.c.sla_target_s,
        CONV.c.updated_at,
        CONV.c.last_message_at,
        CONV.c.undelivered_at,
    ).select_from(
        CONV.join(CUST, CUST.c.id == CONV.c.customer_id).outerjoin(
            ASSIGNEE, ASSIGNEE.c.id == CONV.c.assignee_id
        )
    )


def message_select() -> sa.Select[Any]:
    """Messages with their author's handle and, for replies on their way to a channel, the
    delivery's status and error: in MessageView's field order."""
    author = AGENT.alias("author")
    return sa.select(
        MSG.c.id,
        MSG.c.conversation_id,
        MSG.c.author_kind,
        author.c.handle.label("author"),
        MSG.c.body,
        MSG.c.sent_at,
        MSG.c.external_id,
        DELIVERY.c.status.label("delivery_status"),
        DELIVERY.c.last_error.label("delivery_error"),
    ).select_from(
        MSG.outerjoin(author, author.c.id == MSG.c.author_agent_id).outerjoin(
            DELIVERY, DELIVERY.c.message_id == MSG.c.id
        )
    )


def _event_select() -> sa.Select[Any]:
    """Events with the acting agent's handle, in EventView's field order."""
    actor = AGENT.alias("actor")
    return sa.select(
        EVENT.c.id,
        EVENT.c.at,
        actor.c.handle.label("actor"),
        EVENT.c.kind,
        EVENT.c.conversation_id,
        EVENT.c.payload,
    ).select_from(EVENT.outerjoin(actor, actor.c.id == EVENT.c.actor_id))


def _event_views(rows: Iterable[Any]) -> list[EventView]:
    return [
        EventView(r.id, r.at, r.actor, r.kind, r.conversation_id, dict(r.payload or {}))
        for r in rows
    ]


def _found_values(found: list[int]) -> Any:
    """`WITH found AS (SELECT column1 AS fid FROM (VALUES (7), (42), ...)))`: the ids written
    into the SQL (they are ints from the store, so nothing else can get in), which SQLAlchemy
    compiles as one piece of text instead of one bound parameter each."""
    rows = ", ".join(f"({int(cid)})" for cid in found)
    text = sa.text(f"SELECT column1 AS fid FROM (VALUES {rows})")
    return text.columns(sa.column("fid", sa.Integer)).cte("found")


@functools.cache
def _rows_by_id() -> sa.Select[Any]:
    """Queue rows (with their tags folded in) for a list of ids: built once, reused, so a
    refresh pays for no statement construction."""
    tags = (
        sa.select(sa.func.aggregate_strings(CONV_TAG.c.tag, TAG_SEP))
        .where(CONV_TAG.c.conversation_id == CONV.c.id)
        .scalar_subquery()
    )
    return (
        _queue_select().add_columns(tags).where(CONV.c.id.in_(sa.bindparam("ids", expanding=True)))
    )


def queue_rows_by_id(conn: Connection, ids: list[int]) -> list[QueueRow]:
    """Queue rows for `ids`, in that order. Fetched by primary key: as one statement with
    `id IN (subquery)` the planner may walk the whole table in urgency order instead."""
    if not ids:
        return []
    return queue_rows_in_order(conn.execute(_rows_by_id(), {"ids": ids}), ids)


def queue_conditions(viewer: AgentInfo, flt: QueueFilter, now: datetime) -> list[Any]:
    """The WHERE of a queue read: what `flt` keeps of what `viewer` may see at `now`."""
    cond = []
    if flt.status:
        cond.append(CONV.c.status == flt.status)
    elif flt.scope != "handed":
        cond.append(CONV.c.active.is_(True))
        cond.append(sa.or_(CONV.c.hidden_until.is_(None), CONV.c.hidden_until <= now))
    cond.append(CONV.c.training.is_(flt.training))
    if flt.scope == "mine":
        cond.append(CONV.c.assignee_id == viewer.id)
    elif flt.scope == "unassigned":
        cond.append(CONV.c.assignee_id.is_(None))
    elif flt.scope == "handed":
        # What the viewer handed over and no longer holds, whatever became of it since
        # (snoozed, resolved): a transfer must never make a conversation unfindable.
        # From the handover rows (ix_handover_from), not a check on every conversation:
        # this scope has no open-work condition to narrow the queue index with.
        cond.append(
            CONV.c.id.in_(
                sa.select(HANDOVER.c.conversation_id).where(HANDOVER.c.from_agent_id == viewer.id)
            )
        )
        cond.append(sa.or_(CONV.c.assignee_id.is_(None), CONV.c.assignee_id != viewer.id))
    elif viewer.role == "agent" and not flt.training:
        # Agents see their own work and the unassigned pool; supervisors see every queue.
        cond.append(sa.or_(CONV.c.assignee_id == viewer.id, CONV.c.assignee_id.is_(None)))
    if flt.channel:
        cond.append(CONV.c.channel == flt.channel)
    if flt.tag:
        cond.append(
            sa.exists().where(CONV_TAG.c.conversation_id == CONV.c.id, CONV_TAG.c.tag == flt.tag)
        )
    return cond


def window_ids(conds: list[Any], offset: int, limit: int) -> sa.Select[Any]:
    """A window's ids in urgency order, picked from the covering queue index (the rows are
    fetched by id afterwards: `queue_rows_by_id`)."""
    return (
        sa.select(CONV.c.id)
        .where(*conds)
        .order_by(CONV.c.urgency_at, CONV.c.id)
        .offset(max(0, offset))
        .limit(max(0, limit))
    )


def last_event_statement() -> sa.Select[Any]:
    """The newest event's id (0 for none): where a change feed starts."""
    return sa.select(sa.func.coalesce(sa.func.max(EVENT.c.id), 0))


def first_look_statements(
    viewer: AgentInfo, now: datetime, limit: int
) -> tuple[sa.Select[Any], sa.Select[Any], sa.Select[Any]]:
    """The statements of the first window a workstation shows (the default filter, from the
    top): its ids, its rows by id, and the newest event then (its change feed starts there).
    `first_look.py` runs them, compiled for SQLite, before SQLAlchemy is loaded; its test
    compiles these and compares."""
    ids = window_ids(queue_conditions(viewer, QueueFilter(), now), 0, limit)
    return ids, _rows_by_id(), last_event_statement()


def _notes_visible(viewer: AgentInfo | None, assignee: str | None, training: bool) -> bool:
    if viewer is None or sees_in_full(viewer, assignee):
        return True
    return bool(training) and viewer.role == "trainer"


def _summary(row: QueueRow) -> QueueRow:
    """Another agent's conversation as a non-supervisor may see it in a customer's history."""
    return dataclasses.replace(row, preview="", tags=())


class QueriesMixin(FindMixin):
    """Reads: the queue window, conversations, customers, history and the audit trail."""

    # -- queue ---------------------------------------------------------------------------

    def _found_in_queue(
        self,
        conn: Connection,
        viewer: AgentInfo,
        flt: QueueFilter,
        now: datetime,
        found: list[int],
    ) -> list[int]:
        """Which of a text's matches the rest of the filter keeps, most urgent first. Read by
        primary key, joined from a list of values (the one order SQLite's planner takes for
        it: with `id IN (...)` it walks the whole queue index), and sorted here. PostgreSQL
        is given the ids as one array, SQLite as one piece of SQL text: 300 values as bound
        parameters were compiled one by one for each search, some 15 ms of the client's time."""
        if not found:
            return []
        conds = queue_conditions(viewer, flt, now)
        if self.dialect == "postgresql":
            ids = sa.literal(found, sa.ARRAY(sa.Integer))
            query = sa.select(CONV.c.id, CONV.c.urgency_at).where(CONV.c.id == sa.any_(ids), *conds)
        else:
            listed = _found_values(found)
            query = (
                sa.select(CONV.c.id, CONV.c.urgency_at)
                .select_from(listed.join(CONV, CONV.c.id == listed.c.fid))
                .where(*conds)
            )
        kept = list(conn.execute(query))
        kept.sort(key=lambda r: (r[1], r[0]))
        return [r[0] for r in kept]

    def _text_matches(
        self, conn: Connection, viewer: AgentInfo, flt: QueueFilter
    ) -> list[int] | None:
        """The ids the filter's text finds (see data/find.py), or None without a text."""
        if not (flt.text and flt.text.strip()):
            return None
        return self._found_ids(conn, viewer, flt.text, flt.training)

    @contextmanager
    def _queue_read(
        self, viewer: AgentInfo, flt: QueueFilter
    ) -> Iterator[tuple[Connection, AgentInfo, datetime, list[int] | None]]:
        """A read of the queue through `flt`: the connection, the viewer as stored (refused
        when disabled), the time, and the ids the filter's text finds (None without a text;
        the find index is brought up to date first)."""
        now = self.clock.now()
        if flt.text:
            self.refresh_find_index()
        with self._read() as conn:
            viewer = self._active(conn, viewer)
            yield conn, viewer, now, self._text_matches(conn, viewer, flt)

    def queue(
        self,
        viewer: AgentInfo,
        flt: QueueFilter | None = None,
        *,
        offset: int = 0,
        limit: int = 100,
    ) -> list[QueueRow]:
        """One window of the queue, most urgent first (most overdue on top)."""
        flt = flt or QueueFilter()
        with self._queue_read(viewer, flt) as (conn, viewer, now, found):
            if found == []:
                return []
            if found is not None:
                kept = self._found_in_queue(conn, viewer, flt, now, found)
                window = kept[max(0, offset) : max(0, offset) + max(0, limit)]
            else:
                ids = window_ids(queue_conditions(viewer, flt, now), offset, limit)
                window = list(conn.execute(ids).scalars())
            if not window:
                return []
            return queue_rows_by_id(conn, window)

    def find(
        self, viewer: AgentInfo, text: str, *, limit: int = FIND_LIMIT, training: bool = False
    ) -> list[Found]:
        """Conversations matching `text` as `viewer` may see them, best match first: by id,
        order number, customer name or handle, or any part of a message (see data/find.py)."""
        text = text.strip()
        if not text or limit <= 0:
            return []
        self.refresh_find_index()
        with self._read() as conn:
            viewer = self._active(conn, viewer)
            hits = self._find(conn, viewer, text, limit, training)
            rows = {r.id: r for r in queue_rows_by_id(conn, list(hits))}
        return [Found(rows[cid], *hits[cid]) for cid in hits if cid in rows]

    def queue_count(
        self, viewer: AgentInfo, flt: QueueFilter | None = None, *, cap: int = 100_000
    ) -> int:
        """How many rows the filter holds, counted up to `cap` so a huge store stays cheap."""
        flt = flt or QueueFilter()
        with self._queue_read(viewer, flt) as (conn, viewer, now, found):
            if found is not None:
                return min(cap, len(self._found_in_queue(conn, viewer, flt, now, found)))
            inner = (
                sa.select(CONV.c.id)
                .where(*queue_conditions(viewer, flt, now))
                .limit(cap)
                .subquery()
            )
            return conn.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one()

    def _tags_for(self, conn: Connection, ids: list[int]) -> dict[int, tuple[str, ...]]:
        if not ids:
            return {}
        out: dict[int, list[str]] = defaultdict(list)
        for row in conn.execute(
            sa.select(CONV_TAG.c.conversation_id, CONV_TAG.c.tag)
            .where(CONV_TAG.c.conversation_id.in_(ids))
            .order_by(CONV_TAG.c.conversation_id, CONV_TAG.c.tag)
        ):
            out[row.conversation_id].append(row.tag)
        return {k: tuple(v) for k, v in out.items()}

    def queue_row(self, conversation_id: int) -> QueueRow:
        with self._read() as conn:
            row = conn.execute(_queue_select().where(CONV.c.id == conversation_id)).first()
            if row is None:
                raise NotFound(code="no_conversation", conversation_id=conversation_id)
            tags = self._tags_for(conn, [row.id])
        return queue_row_from(row, tags.get(row.id, ()))

    def queue_rows(self, ids: list[int]) -> list[QueueRow]:
        """Fresh rows for the given ids (the live poller refreshes only what changed)."""
        if not ids:
            return []
        with self._read() as conn:
            rows = conn.execute(_queue_select().where(CONV.c.id.in_(ids))).all()
            tags = self._tags_for(conn, [r.id for r in rows])
        return [queue_row_from(r, tags.get(r.id, ())) for r in rows]

    # -- one conversation ------------------------------------------------------------

    def conversation_id(self, external_id: str) -> int:
        """The internal id for an external id (or a numeric internal id given as text)."""
        with self._read() as conn:
            found = conn.execute(
                sa.select(CONV.c.id).where(CONV.c.external_id == external_id)
            ).scalar()
            if found is None and external_id.isdigit():
                found = conn.execute(
                    sa.select(CONV.c.id).where(CONV.c.id == int(external_id))
                ).scalar()
        if found is None:
            raise NotFound(code="no_conversation_named", external_id=external_id)
        return found

    def conversation(
        self,
        conversation_id: int,
        *,
        viewer: AgentInfo | None = None,
        message_limit: int = MESSAGE_WINDOW,
    ) -> ConversationDetail:
        """One conversation with its newest messages.

        With a `viewer` (a person looking), another agent's conversation comes without its
        private notes unless the viewer is a supervisor (see views.sees_in_full); without one
        (role-play scoring, exports, tests) everything is returned.
        """
        with self._read() as conn:
            if viewer is not None:
                viewer = self._active(conn, viewer)
            full = (
                conn.execute(sa.select(CONV).where(CONV.c.id == conversation_id)).mappings().first()
            )
            if full is None:
                raise NotFound(code="no_conversation", conversation_id=conversation_id)
            qrow = conn.execute(_queue_select().where(CONV.c.id == conversation_id)).one()
            tags = self._tags_for(conn, [conversation_id]).get(conversation_id, ())
            customer = self._customer(conn, full["customer_id"])
            newest = (
                message_select()
                .where(MSG.c.conversation_id == conversation_id)
                .order_by(MSG.c.sent_at.desc(), MSG.c.id.desc())
                .limit(message_limit)
            )
            if not _notes_visible(viewer, qrow.assignee, full["training"]):
                newest = newest.where(MSG.c.author_kind != "note")
            messages = [MessageView(*tuple(r)) for r in reversed(conn.execute(newest).all())]
            handover = self._latest_handover(conn, conversation_id, full["assignee_id"])
            if handover is not None and not (
                _notes_visible(viewer, qrow.assignee, full["training"])
                or (viewer is not None and viewer.handle in (handover.by, handover.from_agent))
            ):
                handover = None
        return ConversationDetail(
            row=queue_row_from(qrow, tags),
            customer=customer,
            messages=tuple(messages),
            created_at=full["created_at"],
            assigned_at=full["assigned_at"],
            escalated_at=full["escalated_at"],
            escalation_reason=full["escalation_reason"],
            resolved_at=full["resolved_at"],
            snooze_until=full["snooze_until"],
            first_response_s=full["first_response_s"],
            csat=full["csat"],
            transfers=full["transfers"],
            message_count=full["message_count"],
            training=full["training"],
            facts=facts_from_row(full),
            handover=handover,
        )

    def _latest_handover(
        self, conn: Connection, conversation_id: int, assignee_id: int | None
    ) -> HandoverView | None:
        """The conversation's last handover while the agent it went to still holds it: once
        they hand it on (or it goes back to the pool) its note is no longer news."""
        by, src, dst = AGENT.alias("by"), AGENT.alias("src"), AGENT.alias("dst")
        row = conn.execute(
            sa.select(
                HANDOVER.c.at,
                by.c.handle,
                src.c.handle,
                dst.c.handle,
                HANDOVER.c.note,
                HANDOVER.c.to_agent_id,
            )
            .select_from(
                HANDOVER.join(by, by.c.id == HANDOVER.c.by_agent_id)
                .join(dst, dst.c.id == HANDOVER.c.to_agent_id)
                .outerjoin(src, src.c.id == HANDOVER.c.from_agent_id)
            )
            .where(HANDOVER.c.conversation_id == conversation_id)
            .order_by(HANDOVER.c.id.desc())
            .limit(1)
        ).first()
        if row is None or row[5] != assignee_id:
            return None
        return HandoverView(row[0], row[1], row[2], row[3], row[4])

    # -- customers --------------------------------------------------------------------

    def _customer(self, conn: Connection, customer_id: int) -> CustomerInfo:
        row = conn.execute(sa.select(CUST).where(CUST.c.id == customer_id)).first()
        if row is None:
            raise NotFound(code="no_customer", customer_id=customer_id)
        tags = tuple(
            conn.execute(
                sa.select(CUST_TAG.c.tag)
                .where(CUST_TAG.c.customer_id == customer_id)
                .order_by(CUST_TAG.c.tag)
            ).scalars()
        )
        return CustomerInfo(row.id, row.handle, row.name, row.tier, row.created_at, tags)

    def customer(self, customer_id: int) -> CustomerInfo:
        with self._read() as conn:
            return self._customer(conn, customer_id)

    def customer_by_handle(self, handle: str) -> CustomerInfo:
        with self._read() as conn:
            cid = conn.execute(sa.select(CUST.c.id).where(CUST.c.handle == handle)).scalar()
            if cid is None:
                raise NotFound(code="no_customer_named", handle=handle)
            return self._customer(conn, cid)

    def customer_history(
        self, customer_id: int, *, viewer: AgentInfo | None = None, limit: int = 50
    ) -> list[QueueRow]:
        """Every conversation of this customer on every channel, newest first.

        With a `viewer` who is not a supervisor, other agents' conversations come as a summary
        only (channel, date, category, status): no preview of their messages, no tags.
        """
        query = (
            _queue_select()
            .where(CONV.c.customer_id == customer_id, CONV.c.training.is_(False))
            .order_by(
                sa.func.coalesce(CONV.c.last_message_at, CONV.c.created_at).desc(), CONV.c.id.desc()
            )
            .limit(limit)
        )
        with self._read() as conn:
            if viewer is not None:
                viewer = self._active(conn, viewer)
            rows = conn.execute(query).all()
            tags = self._tags_for(conn, [r.id for r in rows])
        history = [queue_row_from(r, tags.get(r.id, ())) for r in rows]
        if viewer is None:
            return history
        return [h if sees_in_full(viewer, h.assignee) else _summary(h) for h in history]

    # -- drafts -------------------------------------------------------------------------

    def load_draft(self, agent_id: int, conversation_id: int) -> str:
        with self._read() as conn:
            body = conn.execute(
                sa.select(DRAFT.c.body).where(
                    DRAFT.c.agent_id == agent_id, DRAFT.c.conversation_id == conversation_id
                )
            ).scalar()
        return body or ""

    # -- change feed and audit ------------------------------------------------------

    def last_event_id(self) -> int:
        with self._read() as conn:
            return conn.execute(last_event_statement()).scalar_one()

    def events_since(self, after_id: int, *, limit: int = 1000) -> list[EventView]:
        query = _event_select().where(EVENT.c.id > after_id).order_by(EVENT.c.id).limit(limit)
        with self._read() as conn:
            return _event_views(conn.execute(query))

    def audit(
        self, viewer: AgentInfo, *, conversation_id: int | None = None, limit: int = 200
    ) -> list[EventView]:
        """The audit trail, newest first. Active supervisors see all of it; others, disabled
        agents included, their own actions."""
        query = _event_select().order_by(EVENT.c.id.desc()).limit(limit)
        if conversation_id is not None:
            query = query.where(EVENT.c.conversation_id == conversation_id)
        with self._read() as conn:
            viewer = self._fresh(conn, viewer)
            if not (viewer.active and viewer.is_supervisor):
                query = query.where(EVENT.c.actor_id == viewer.id)
            return _event_views(conn.execute(query))

    def counts(self) -> dict[str, int]:
        """Rows per table: `cs-tui db info` and the copy check."""
        with self._read() as conn:
            return {
                t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in TABLE_ORDER
            }
