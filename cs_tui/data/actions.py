"""Writes on conversations: replies, notes, claims, transfers, escalations and the rest.

Each action is one transaction: lock the row, check who may do it, apply the change, recompute
the SLA deadline columns, append the event. Claiming is a single conditional update so two agents
can never both own a conversation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cs_tui.data import find_index
from cs_tui.data.delivery_rows import queue_delivery
from cs_tui.data.errors import InvalidInput, NotAllowed, NotFound
from cs_tui.data.queries import QueriesMixin, message_select
from cs_tui.data.slarow import iso, sla_columns
from cs_tui.data.tables import (
    AGENT,
    CONV,
    CONV_TAG,
    CUST_TAG,
    DELIVERY,
    DRAFT,
    EVENT,
    HANDOVER,
    MAIL_MESSAGE,
    MSG,
)
from cs_tui.data.views import AgentInfo, MessageView, QueueRow
from cs_tui.sla import CATEGORIES, PRIORITIES

MAX_REPLY_CHARS = 20_000
MAX_HANDOVER_CHARS = 2_000
MAX_TAG_CHARS = 32
PREVIEW_CHARS = 200


_BLANK_CONVERSATION = {c.name: None for c in CONV.columns if c.name != "id"}


def new_conversation_row(**columns: Any) -> dict[str, Any]:
    """A conversation's row before its first message is folded in: every column but the id
    present (None unless given), nothing counted, no pauses, not role-play. Callers give who,
    where and when; `sla_columns` adds the clock."""
    return {
        **_BLANK_CONVERSATION,
        "pauses": [],
        "transfers": 0,
        "message_count": 0,
        "preview": "",
        "training": False,
        **columns,
    }


def make_preview(body: str) -> str:
    return " ".join(body.split())[:PREVIEW_CHARS]


def clean_tag(tag: str) -> str:
    tag = " ".join((tag or "").split())
    if not tag:
        raise InvalidInput(code="tag_empty")
    if len(tag) > MAX_TAG_CHARS:
        raise InvalidInput(code="tag_too_long", limit=MAX_TAG_CHARS)
    if any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in tag):
        raise InvalidInput(code="tag_control")
    return tag


def open_pause(row: dict, at: datetime) -> None:
    pauses = [list(p) for p in (row.get("pauses") or [])]
    if not pauses or pauses[-1][1] is not None:
        pauses.append([iso(at), None])
    row["pauses"] = pauses[-20:]


def close_pause(row: dict, at: datetime) -> None:
    pauses = [list(p) for p in (row.get("pauses") or [])]
    if pauses and pauses[-1][1] is None:
        start = datetime.fromisoformat(pauses[-1][0])
        pauses[-1][1] = iso(max(at, start))
    row["pauses"] = pauses


def wake_if_due(row: dict, now: datetime) -> None:
    """A snooze that has run out turns back into open work."""
    if row["status"] == "snoozed" and row.get("snooze_until") and row["snooze_until"] <= now:
        close_pause(row, row["snooze_until"])
        row["status"] = "open" if row.get("assignee_id") else "new"
        row["snooze_until"] = None


# The columns holding the first and the last message of each side that writes to the other.
_SPANS = {
    "customer": ("first_customer_at", "last_customer_at"),
    "agent": ("first_agent_at", "last_agent_at"),
}


def apply_message(row: dict, kind: str, sent_at: datetime, body: str) -> None:
    """Fold one message into the conversation's aggregate columns (order-independent).

    Imports call this for every message, so each column is read once."""
    get = row.get
    row["message_count"] = (get("message_count") or 0) + 1
    if kind == "note":
        return
    last = get("last_message_at")
    if last is None or sent_at >= last:
        row["last_message_at"] = sent_at
        row["preview"] = make_preview(body)
    span = _SPANS.get(kind)
    if span is not None:
        first_col, last_col = span
        first = get(first_col)
        if first is None or sent_at < first:
            row[first_col] = sent_at
        latest = get(last_col)
        if latest is None or sent_at > latest:
            row[last_col] = sent_at
    first_agent = get("first_agent_at")
    if first_agent is not None:
        start = get("first_customer_at") or get("created_at")
        if start is not None:
            row["first_response_s"] = max(0.0, (first_agent - start).total_seconds())


def customer_arrived(row: dict, now: datetime) -> str | None:
    """A customer's new message reopens finished work and wakes paused work; returns the event."""
    status = row["status"]
    if status in ("resolved", "closed"):
        row["status"] = "open" if row.get("assignee_id") else "new"
        row["followed_up_at"] = None
        return "reopened"
    if status in ("pending", "snoozed"):
        close_pause(row, now)
        row["status"] = "open" if row.get("assignee_id") else "new"
        row["snooze_until"] = None
        return "woken"
    return None


_STORED = {c.name for c in CONV.columns}


# The statements every reply runs, built once: building one costs more than SQLite running it
# (a reply took 4 ms, most of it in SQLAlchemy's statement construction and cache keys).


@functools.cache
def _locked_row() -> sa.Select[Any]:
    return sa.select(CONV).where(CONV.c.id == sa.bindparam("conversation_id")).with_for_update()


@functools.cache
def _row_update() -> sa.Update:
    return sa.update(CONV).where(CONV.c.id == sa.bindparam("b_id"))


@functools.cache
def _message_insert() -> sa.Insert:
    return sa.insert(MSG).returning(MSG.c.id)


@functools.cache
def _message_by_id() -> sa.Select[Any]:
    return message_select().where(MSG.c.id == sa.bindparam("message_id"))


@functools.cache
def _draft_delete() -> sa.Delete:
    return sa.delete(DRAFT).where(
        DRAFT.c.agent_id == sa.bindparam("agent_id"),
        DRAFT.c.conversation_id == sa.bindparam("conversation_id"),
    )


class ActionsMixin(QueriesMixin):
    # -- the one write path ----------------------------------------------------------

    def _lock(self, conn: Connection, conversation_id: int) -> dict[str, Any]:
        row = conn.execute(_locked_row(), {"conversation_id": conversation_id}).mappings().first()
        if row is None:
            raise NotFound(code="no_conversation", conversation_id=conversation_id)
        return dict(row)

    def _save(self, conn: Connection, before: dict, row: dict, now: datetime) -> None:
        row["updated_at"] = now
        row.update(sla_columns(self.policy, row))
        changes = {
            k: v for k, v in row.items() if k in _STORED and k != "id" and before.get(k) != v
        }
        if changes:
            # (the changed columns are the SET clause; SQLAlchemy caches one form per set)
            conn.execute(_row_update(), {"b_id": row["id"], **changes})

    def _change(
        self,
        actor: AgentInfo | None,
        conversation_id: int,
        kind: str,
        apply: Callable[[Any, dict, datetime], dict | None | Literal[False]],
        *,
        allow: Callable[[AgentInfo | None, dict], None] | None = None,
    ) -> QueueRow:
        now = self.clock.now()
        with self._write() as conn:
            before = self._lock(conn, conversation_id)
            fresh = self._active(conn, actor) if actor is not None else None
            row = dict(before)
            wake_if_due(row, now)
            if allow is not None:
                allow(fresh, row)
            payload = apply(conn, row, now)
            self._save(conn, before, row, now)
            if payload is not False:
                self._event(conn, actor.id if actor else None, kind, conversation_id, payload or {})
        return self.queue_row(conversation_id)

    # -- permissions ----------------------------------------------------------------------

    @staticmethod
    def _must_own(actor: AgentInfo | None, row: dict) -> None:
        """Replies, notes, tags and every change of a conversation: its owner or a supervisor
        (a trainer in role-play). `actor` is the one read in the acting transaction."""
        if actor is None:
            raise NotAllowed(code="needs_agent")
        if not actor.active:
            raise NotAllowed(code="disabled")
        if actor.role == "supervisor":
            return
        if row.get("training") and actor.role == "trainer":
            return
        if row.get("assignee_id") != actor.id:
            if row.get("assignee_id") is None:
                raise NotAllowed(code="not_assigned")
            raise NotAllowed(code="belongs_to_another")

    # -- messages -------------------------------------------------------------------------

    def _insert_message(
        self,
        conn,
        row: dict,
        kind: str,
        author_id: int | None,
        body: str,
        sent_at: datetime,
        external_id: str | None = None,
    ) -> int:
        message = {
            "conversation_id": row["id"],
            "author_kind": kind,
            "author_agent_id": author_id,
            "body": body,
            "sent_at": sent_at,
            "stored_at": self.clock.now(),
            "external_id": external_id,
        }
        new_id: int = conn.execute(_message_insert(), message).scalar_one()
        apply_message(row, kind, sent_at, body)
        return new_id

    def _message_view(self, conn: Connection, message_id: int) -> MessageView:
        row = conn.execute(_message_by_id(), {"message_id": message_id}).one()
        return MessageView(*tuple(row))

    @staticmethod
    def _check_body(body: str) -> str:
        if not body or not body.strip():
            raise InvalidInput(code="empty_message")
        if len(body) > MAX_REPLY_CHARS:
            raise InvalidInput(code="reply_too_long", limit=MAX_REPLY_CHARS)
        return body

    def _already_sent(self, conn: Connection, client_id: str | None) -> MessageView | None:
        """A retried send whose first attempt did commit (the connection died during COMMIT)."""
        if client_id is None:
            return None
        found = conn.execute(sa.select(MSG.c.id).where(MSG.c.external_id == client_id)).scalar()
        return self._message_view(conn, found) if found is not None else None

    def post_reply(
        self, actor: AgentInfo, conversation_id: int, body: str, *, client_id: str | None = None
    ) -> MessageView:
        """Send an agent reply; returns the stored message (shown as sent only after this).

        `client_id` makes a retry safe: the same id never stores a second copy.
        """
        body = self._check_body(body)

        def write(conn: Connection, actor: AgentInfo, row: dict, now: datetime) -> int:
            wake_if_due(row, now)
            self._must_own(actor, row)
            if row["status"] in ("pending", "snoozed"):
                close_pause(row, now)
                row["snooze_until"] = None
                row["status"] = "open"
            if row["status"] == "new":
                row["status"] = "open"
            if row["status"] == "escalated" and actor.role == "supervisor":
                row["status"] = "open"
            if row["status"] == "resolved":
                row["followed_up_at"] = now
            message_id = self._insert_message(conn, row, "agent", actor.id, body, now, client_id)
            # The outbox: the delivery to the customer's channel commits with the reply or not at all.
            queue_delivery(self, conn, row, message_id, now)
            conn.execute(
                _draft_delete(), {"agent_id": actor.id, "conversation_id": conversation_id}
            )
            return message_id

        return self._agent_writes("reply", actor, conversation_id, client_id, write)

    def post_note(
        self, actor: AgentInfo, conversation_id: int, body: str, *, client_id: str | None = None
    ) -> MessageView:
        """A private note: never shown to the customer, nor to agents outside the conversation
        (see `conversation`); written by whoever may reply there. Stops no clock."""
        body = self._check_body(body)

        def write(conn: Connection, actor: AgentInfo, row: dict, now: datetime) -> int:
            self._must_own(actor, row)
            return self._insert_message(conn, row, "note", actor.id, body, now, client_id)

        return self._agent_writes("note", actor, conversation_id, client_id, write)

    def _agent_writes(
        self,
        kind: str,
        actor: AgentInfo,
        conversation_id: int,
        client_id: str | None,
        write: Callable[[Connection, AgentInfo, dict, datetime], int],
    ) -> MessageView:
        """One message an agent writes, in one transaction. A retry whose first attempt did
        commit gets that message back; otherwise `write(conn, actor, row, now)` checks the
        agent against the locked row, changes the row and stores the message (returning its
        id), and the row is saved and the event `kind` logged."""
        now = self.clock.now()
        with self._write() as conn:
            if (done := self._already_sent(conn, client_id)) is not None:
                return done
            before = self._lock(conn, conversation_id)
            actor = self._active(conn, actor)
            row = dict(before)
            message_id = write(conn, actor, row, now)
            self._save(conn, before, row, now)
            self._event(conn, actor.id, kind, conversation_id, {"message_id": message_id})
            return self._message_view(conn, message_id)

    def post_customer_message(
        self,
        conversation_id: int,
        body: str,
        *,
        sent_at: datetime | None = None,
        external_id: str | None = None,
        actor: AgentInfo | None = None,
    ) -> MessageView:
        """A message from the customer (channel adapters, role-play's scripted customer)."""
        if not body:
            raise InvalidInput(code="empty_customer_message")
        now = self.clock.now()
        with self._write() as conn:
            before = self._lock(conn, conversation_id)
            row = dict(before)
            wake_if_due(row, now)
            woke = customer_arrived(row, now)
            message_id = self._insert_message(
                conn, row, "customer", None, body, sent_at or now, external_id
            )
            self._save(conn, before, row, now)
            self._event(
                conn,
                actor.id if actor else None,
                "customer_message",
                conversation_id,
                {"message_id": message_id, **({"status": woke} if woke else {})},
            )
            return self._message_view(conn, message_id)

    def post_system_message(
        self, conversation_id: int, body: str, actor: AgentInfo | None = None
    ) -> MessageView:
        now = self.clock.now()
        with self._write() as conn:
            before = self._lock(conn, conversation_id)
            row = dict(before)
            message_id = self._insert_message(conn, row, "system", None, body, now)
            self._save(conn, before, row, now)
            self._event(
                conn,
                actor.id if actor else None,
                "system_message",
                conversation_id,
                {"message_id": message_id},
            )
            return self._message_view(conn, message_id)

    # -- ownership ------------------------------------------------------------------------

    def claim(self, actor: AgentInfo, conversation_id: int) -> bool:
        """Take an unassigned conversation; False if someone else already has it."""
        now = self.clock.now()
        with self._write() as conn:
            actor = self._active(conn, actor)
            result = conn.execute(
                sa.update(CONV)
                .where(CONV.c.id == conversation_id, CONV.c.assignee_id.is_(None))
                .values(assignee_id=actor.id, assigned_at=now)
            )
            if result.rowcount != 1:
                exists = conn.execute(
                    sa.select(CONV.c.id).where(CONV.c.id == conversation_id)
                ).first()
                if exists is None:
                    raise NotFound(code="no_conversation", conversation_id=conversation_id)
                return False
            self._after_claim(conn, conversation_id, actor, now)
        return True

    def _after_claim(
        self, conn: Connection, conversation_id: int, actor: AgentInfo, now: datetime
    ) -> None:
        before = self._lock(conn, conversation_id)
        row = dict(before)
        if row["status"] == "new":
            row["status"] = "open"
        row["transfer_requested_at"] = None
        self._save(conn, before, row, now)
        self._event(conn, actor.id, "claim", conversation_id, {"assignee": actor.handle})

    def take_next(self, actor: AgentInfo, *, channel: str | None = None) -> QueueRow | None:
        """Claim the most urgent unassigned conversation this agent may serve, or None."""
        for _attempt in range(3):
            now = self.clock.now()
            with self._write() as conn:
                actor = self._active(conn, actor)
                cond = [
                    CONV.c.active.is_(True),
                    CONV.c.assignee_id.is_(None),
                    CONV.c.training.is_(False),
                    CONV.c.status.in_(("new", "open", "snoozed", "pending")),
                    sa.or_(CONV.c.hidden_until.is_(None), CONV.c.hidden_until <= now),
                ]
                if channel:
                    cond.append(CONV.c.channel == channel)
                pick = (
                    sa.select(CONV.c.id)
                    .where(*cond)
                    .order_by(CONV.c.urgency_at, CONV.c.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                chosen = conn.execute(pick).scalar()
                if chosen is None:
                    if self.dialect == "postgresql" and _attempt == 0:
                        continue  # the rest may only be locked by other claimers: look again
                    return None
                result = conn.execute(
                    sa.update(CONV)
                    .where(CONV.c.id == chosen, CONV.c.assignee_id.is_(None))
                    .values(assignee_id=actor.id, assigned_at=now)
                )
                if result.rowcount != 1:
                    continue
                self._after_claim(conn, chosen, actor, now)
            return self.queue_row(chosen)
        return None

    def assign(
        self, actor: AgentInfo, conversation_id: int, to_handle: str, *, note: str = ""
    ) -> QueueRow:
        """Transfer or assign. Supervisors move any work; agents hand on only their own.

        Every move leaves a handover row (with `note`, what the new owner should know first):
        the new owner reads it above the transcript, and the one who handed it over finds the
        conversation again in the "handed over" scope."""
        note = (note or "").strip()
        if len(note) > MAX_HANDOVER_CHARS:
            raise InvalidInput(code="handover_too_long", limit=MAX_HANDOVER_CHARS)
        with self._read() as conn:
            target = conn.execute(sa.select(AGENT).where(AGENT.c.handle == to_handle)).first()
        if target is None:
            raise NotFound(code="no_agent", handle=to_handle)
        if not target.active:
            raise InvalidInput(code="agent_disabled", handle=to_handle)

        by_supervisor = []

        def allow(actor, row):
            if actor is None:
                raise NotAllowed(code="needs_agent")
            if actor.role == "supervisor":
                by_supervisor.append(True)
                return
            if row.get("assignee_id") != actor.id:
                raise NotAllowed(code="supervisor_reassigns")

        def apply(conn, row, now):
            previous = row.get("assignee_id")
            if previous == target.id:
                return False
            row["assignee_id"] = target.id
            row["assigned_at"] = now
            row["transfer_requested_at"] = None
            if previous is not None:
                row["transfers"] = (row.get("transfers") or 0) + 1
            if row["status"] == "new":
                row["status"] = "open"
            if row["status"] == "escalated" and by_supervisor:
                row["status"] = "open"
            prev_handle = None
            if previous is not None:
                prev_handle = conn.execute(
                    sa.select(AGENT.c.handle).where(AGENT.c.id == previous)
                ).scalar()
            conn.execute(
                sa.insert(HANDOVER).values(
                    conversation_id=row["id"],
                    by_agent_id=actor.id,
                    from_agent_id=previous,
                    to_agent_id=target.id,
                    note=note,
                    at=now,
                )
            )
            payload = {"from": prev_handle, "to": target.handle}
            if note:
                payload["note"] = True  # the text stays in the handover row, not the audit
            return payload

        return self._change(actor, conversation_id, "transfer", apply, allow=allow)

    def request_transfer(self, actor: AgentInfo, conversation_id: int, reason: str) -> QueueRow:
        """Flag a problem this agent cannot solve; the transfer clock (5 min) starts."""

        def apply(conn, row, now):
            row["transfer_requested_at"] = now
            return {"reason": reason[:500]}

        return self._change(
            actor, conversation_id, "transfer_requested", apply, allow=self._must_own
        )

    def escalate(self, actor: AgentInfo, conversation_id: int, reason: str) -> QueueRow:
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInput(code="escalation_reason")

        def apply(conn, row, now):
            if row["status"] in ("pending", "snoozed"):
                close_pause(row, now)
                row["snooze_until"] = None
            row["status"] = "escalated"
            row["escalated_at"] = now
            row["escalation_reason"] = reason[:500]
            return {"reason": reason[:500]}

        return self._change(actor, conversation_id, "escalate", apply, allow=self._must_own)

    def snooze(self, actor: AgentInfo, conversation_id: int, until: datetime) -> QueueRow:
        now = self.clock.now()
        if until <= now:
            raise InvalidInput(code="snooze_past")
        if until - now > timedelta(seconds=self.policy.max_snooze):
            # A longer snooze would hide a waiting customer past every deadline.
            raise InvalidInput(code="snooze_too_long")

        def apply(conn, row, now):
            if row["status"] in ("resolved", "closed"):
                raise InvalidInput(code="snooze_resolved")
            open_pause(row, now)
            row["status"] = "snoozed"
            row["snooze_until"] = until
            return {"until": iso(until)}

        return self._change(actor, conversation_id, "snooze", apply, allow=self._must_own)

    def set_pending(self, actor: AgentInfo, conversation_id: int) -> QueueRow:
        """Waiting on the customer: every clock stops until they write again."""

        def apply(conn, row, now):
            if row["status"] in ("resolved", "closed"):
                raise InvalidInput(code="wait_resolved")
            open_pause(row, now)
            row["status"] = "pending"
            return {}

        return self._change(actor, conversation_id, "pending", apply, allow=self._must_own)

    def resolve(
        self, actor: AgentInfo, conversation_id: int, *, csat: int | None = None
    ) -> QueueRow:
        """Resolve; the follow-up clock (1 day) starts.

        `csat` is the customer's score: only a supervisor may record one here (from a survey);
        an agent grading their own work would make the KPI meaningless."""
        if csat is not None and (isinstance(csat, bool) or csat not in range(1, 6)):
            raise InvalidInput(code="csat_range")

        def allow(actor, row):
            self._must_own(actor, row)
            if csat is not None and actor.role != "supervisor":
                raise NotAllowed(code="csat_from_customer")

        def apply(conn, row, now):
            if row["status"] in ("resolved", "closed"):
                raise InvalidInput(code="already_resolved")
            if row["status"] in ("pending", "snoozed"):
                close_pause(row, now)
            row["status"] = "resolved"
            row["resolved_at"] = now
            row["followed_up_at"] = None
            row["snooze_until"] = None
            row["transfer_requested_at"] = None
            if csat is not None:
                row["csat"] = csat
            return {"csat": csat} if csat is not None else {}

        return self._change(actor, conversation_id, "resolve", apply, allow=allow)

    def mark_followed_up(self, actor: AgentInfo, conversation_id: int) -> QueueRow:
        def apply(conn, row, now):
            if row["status"] != "resolved":
                raise InvalidInput(code="follow_up_unresolved")
            row["followed_up_at"] = now
            return {}

        return self._change(actor, conversation_id, "followed_up", apply, allow=self._must_own)

    def set_csat(self, actor: AgentInfo | None, conversation_id: int, csat: int) -> QueueRow:
        """The customer's score. `actor` None is the customer's own channel (or an import);
        otherwise only a supervisor may record it."""
        if isinstance(csat, bool) or csat not in range(1, 6):
            raise InvalidInput(code="csat_range")

        def allow(actor, row):
            if actor is not None and actor.role != "supervisor":
                raise NotAllowed(code="csat_from_customer")

        def apply(conn, row, now):
            row["csat"] = csat
            return {"csat": csat}

        return self._change(actor, conversation_id, "csat", apply, allow=allow)

    def reopen(self, actor: AgentInfo, conversation_id: int) -> QueueRow:
        def allow(actor, row):
            if actor is None:
                raise NotAllowed(code="needs_agent")
            if actor.role != "supervisor" and row.get("assignee_id") not in (None, actor.id):
                raise NotAllowed(code="belongs_to_another")

        def apply(conn, row, now):
            if row["status"] not in ("resolved", "closed"):
                raise InvalidInput(code="reopen_unresolved")
            row["status"] = "open" if row.get("assignee_id") else "new"
            row["followed_up_at"] = None
            return {}

        return self._change(actor, conversation_id, "reopen", apply, allow=allow)

    def close(self, actor: AgentInfo, conversation_id: int) -> QueueRow:
        def apply(conn, row, now):
            row["status"] = "closed"
            return {}

        return self._change(actor, conversation_id, "close", apply, allow=self._must_own)

    def set_category(self, actor: AgentInfo, conversation_id: int, category: str) -> QueueRow:
        return self._choose(actor, conversation_id, "category", category, CATEGORIES)

    def set_priority(self, actor: AgentInfo, conversation_id: int, priority: str) -> QueueRow:
        return self._choose(actor, conversation_id, "priority", priority, PRIORITIES)

    def _choose(
        self, actor: AgentInfo, conversation_id: int, field: str, value: str, known: Sequence[str]
    ) -> QueueRow:
        """Set one of the conversation's fixed-choice fields; the event (named after the field)
        records from and to, and choosing the current value records nothing."""
        if value not in known:
            raise InvalidInput(
                code="unknown_choice", field=field, value=value, known=", ".join(known)
            )

        def apply(conn, row, now):
            if row[field] == value:
                return False
            old, row[field] = row[field], value
            return {"from": old, "to": value}

        return self._change(actor, conversation_id, field, apply, allow=self._must_own)

    # -- tags -----------------------------------------------------------------------------

    def _add_tag(self, conn: Connection, table: sa.Table, owner: int, tag: str) -> bool:
        """Tag the conversation or customer `owner` (the first key column of `table`); False
        when it already had the tag."""
        key = list(table.primary_key.columns)[0]
        # RETURNING tells whether a row went in: rowcount after ON CONFLICT is -1 on psycopg.
        stmt = self._insert_fn()(table).values({key.name: owner, "tag": tag})
        return bool(conn.execute(stmt.on_conflict_do_nothing().returning(key)).all())

    @staticmethod
    def _remove_tag(conn: Connection, table: sa.Table, owner: int, tag: str) -> bool:
        """Untag `owner` (as `_add_tag`); False when it did not have the tag."""
        key = list(table.primary_key.columns)[0]
        return bool(conn.execute(sa.delete(table).where(key == owner, table.c.tag == tag)).rowcount)

    def tag_conversation(self, actor: AgentInfo, conversation_id: int, tag: str) -> QueueRow:
        tag = clean_tag(tag)

        def apply(conn, row, now):
            return {"tag": tag} if self._add_tag(conn, CONV_TAG, row["id"], tag) else False

        return self._change(actor, conversation_id, "tag_added", apply, allow=self._must_own)

    def untag_conversation(self, actor: AgentInfo, conversation_id: int, tag: str) -> QueueRow:
        def apply(conn, row, now):
            return {"tag": tag} if self._remove_tag(conn, CONV_TAG, row["id"], tag) else False

        return self._change(actor, conversation_id, "tag_removed", apply, allow=self._must_own)

    def tag_customer(self, actor: AgentInfo, customer_id: int, tag: str) -> None:
        self._customer_tag(actor, customer_id, clean_tag(tag), self._add_tag, "customer_tag_added")

    def untag_customer(self, actor: AgentInfo, customer_id: int, tag: str) -> None:
        self._customer_tag(actor, customer_id, tag, self._remove_tag, "customer_tag_removed")

    def _customer_tag(
        self,
        actor: AgentInfo,
        customer_id: int,
        tag: str,
        change: Callable[[Connection, sa.Table, int, str], bool],
        kind: str,
    ) -> None:
        """Add or remove one of a customer's tags; the event only when it changed something."""
        with self._write() as conn:
            self._active(conn, actor)
            if change(conn, CUST_TAG, customer_id, tag):
                self._event(conn, actor.id, kind, None, {"customer_id": customer_id, "tag": tag})

    # -- drafts ---------------------------------------------------------------------------

    def save_draft(self, agent_id: int, conversation_id: int, body: str) -> None:
        """Keep what the agent is typing; an empty draft is removed. Private: no event."""
        with self._write() as conn:
            active = conn.execute(sa.select(AGENT.c.active).where(AGENT.c.id == agent_id)).scalar()
            if not active:
                raise NotAllowed(code="disabled")
            if not body:
                conn.execute(
                    sa.delete(DRAFT).where(
                        DRAFT.c.agent_id == agent_id, DRAFT.c.conversation_id == conversation_id
                    )
                )
                return
            insert = self._insert_fn()
            stmt = insert(DRAFT).values(
                agent_id=agent_id,
                conversation_id=conversation_id,
                body=body,
                updated_at=self.clock.now(),
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["agent_id", "conversation_id"],
                    set_={"body": stmt.excluded.body, "updated_at": stmt.excluded.updated_at},
                )
            )

    def delete_conversation(self, actor: AgentInfo, conversation_id: int) -> None:
        """Supervisors only; the audit trail keeps a record of what was deleted."""
        with self._write() as conn:
            if self._active(conn, actor).role != "supervisor":
                raise NotAllowed(code="supervisor_deletes")
            row = self._lock(conn, conversation_id)
            conn.execute(sa.delete(DRAFT).where(DRAFT.c.conversation_id == conversation_id))
            conn.execute(
                sa.delete(MAIL_MESSAGE).where(MAIL_MESSAGE.c.conversation_id == conversation_id)
            )
            conn.execute(sa.delete(DELIVERY).where(DELIVERY.c.conversation_id == conversation_id))
            conn.execute(sa.delete(CONV_TAG).where(CONV_TAG.c.conversation_id == conversation_id))
            conn.execute(sa.delete(HANDOVER).where(HANDOVER.c.conversation_id == conversation_id))
            find_index.forget(conn, self.dialect, conversation_id)
            conn.execute(sa.delete(MSG).where(MSG.c.conversation_id == conversation_id))
            conn.execute(
                sa.update(EVENT)
                .where(EVENT.c.conversation_id == conversation_id)
                .values(conversation_id=None)
            )
            conn.execute(sa.delete(CONV).where(CONV.c.id == conversation_id))
            self._event(
                conn,
                actor.id,
                "conversation_deleted",
                None,
                {
                    "conversation_id": conversation_id,
                    "external_id": row["external_id"],
                    "messages": row["message_count"],
                },
            )
