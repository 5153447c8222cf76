"""The delivery outbox: agents' replies on their way to the channel's webhook.

post_reply writes the delivery row in the transaction that stores the reply (see
ActionsMixin.post_reply and cs_tui.data.delivery_rows), so a reply is never stored without its
delivery, nor a delivery left for a reply that was rolled back. Workers lease due rows: one
write transaction picks them (`FOR UPDATE SKIP LOCKED` on PostgreSQL, BEGIN IMMEDIATE on SQLite)
and marks them leased, so two servers never send the same delivery at the same time. A worker
that dies leaves its lease to run out; the next one sends the delivery again (at least once: the
receiver tells repeats by the X-CS-Delivery header).

Every status change appends an event (kind `delivery`) in its transaction, so workstations
refresh the transcript and the queue as for any other change. A delivery that failed for good
marks its conversation `undelivered_at`, which puts it on top of its owner's queue.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cs_tui.data.actions import ActionsMixin
from cs_tui.data.coltypes import MAX_ROW_ID
from cs_tui.data.delivery_rows import delivery_event
from cs_tui.data.errors import InvalidInput, NotAllowed, NotFound, StoreUnavailable
from cs_tui.data.tables import AGENT, CHANNEL, CONV, CUST, DELIVERY, EVENT, MSG
from cs_tui.data.views import AgentInfo, DeliveryJob, DeliveryView, public_message_id

STATUSES = ("queued", "sent", "delivered", "read", "failed")
RECEIPTS = ("delivered", "read", "failed")
# Receipts may arrive out of order: a late "delivered" does not undo "read".
_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3}
MAX_ERROR = 300
_CS_ID = re.compile(r"^cs-([0-9]{1,18})\Z")


def _error_text(error: str | None) -> str | None:
    """A reason as stored: one line, at most MAX_ERROR characters."""
    if error is None:
        return None
    return " ".join(str(error).split())[:MAX_ERROR]


def _view_select() -> sa.Select[Any]:
    return sa.select(
        DELIVERY.c.id,
        DELIVERY.c.conversation_id,
        CONV.c.external_id.label("conversation_external_id"),
        DELIVERY.c.message_id,
        MSG.c.external_id.label("message_external_id"),
        CHANNEL.c.name.label("channel"),
        DELIVERY.c.status,
        DELIVERY.c.attempts,
        DELIVERY.c.last_error,
        DELIVERY.c.next_attempt_at,
        DELIVERY.c.created_at,
        DELIVERY.c.updated_at,
        MSG.c.author_kind,
    ).select_from(
        DELIVERY.join(CONV, CONV.c.id == DELIVERY.c.conversation_id)
        .join(MSG, MSG.c.id == DELIVERY.c.message_id)
        .join(CHANNEL, CHANNEL.c.id == DELIVERY.c.channel_id)
    )


def delivery_parts() -> sa.Join:
    """A delivery joined to what it carries and where: its channel, its message, the
    conversation and the conversation's customer (what a worker or a mail reply sends)."""
    return (
        DELIVERY.join(CHANNEL, CHANNEL.c.id == DELIVERY.c.channel_id)
        .join(MSG, MSG.c.id == DELIVERY.c.message_id)
        .join(CONV, CONV.c.id == DELIVERY.c.conversation_id)
        .join(CUST, CUST.c.id == CONV.c.customer_id)
    )


def _worker_sends() -> sa.ColumnElement[bool]:
    """Channels whose deliveries the worker sends: a webhook's (POSTed) or an e-mail
    channel's (cs_tui.channels.email_send). A web chat's are pushed by its server instead."""
    return sa.or_(CHANNEL.c.webhook_url.is_not(None), CHANNEL.c.kind == "email")


def _settle(conn: Connection, where: sa.ColumnElement[bool], now: datetime, **values: Any) -> None:
    """Write the deliveries' new state and end their lease: whoever held it is done with them."""
    conn.execute(
        sa.update(DELIVERY)
        .where(where)
        .values(lease_owner=None, lease_until=None, updated_at=now, **values)
    )


def _sent(status_code: int, now: datetime) -> dict[str, Any]:
    """A delivery the receiver took (it answered 2xx)."""
    return {
        "status": "sent",
        "sent_at": now,
        "last_status": status_code,
        "last_error": None,
        "next_attempt_at": None,
    }


def _view(row: Any) -> DeliveryView:
    return DeliveryView(
        delivery_id=row.id,
        conversation_id=row.conversation_id,
        conversation_external_id=row.conversation_external_id,
        message_id=row.message_id,
        public_message_id=public_message_id(row.message_external_id, row.message_id),
        channel=row.channel,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        from_channel=row.author_kind == "system",
    )


class OutboxMixin(ActionsMixin):
    # -- workers ------------------------------------------------------------------------------

    def claim_deliveries(self, owner: str, limit: int, lease_s: float) -> list[DeliveryJob]:
        """Lease up to `limit` due deliveries to `owner` for `lease_s` seconds, oldest due first.

        Due: queued, its time has come, not leased (or the lease ran out: its worker died or
        hangs), its channel active with a webhook or an e-mail channel. Each claim counts an
        attempt."""
        if limit <= 0:
            return []
        now = self.clock.now()
        until = now + timedelta(seconds=lease_s)
        with self._write() as conn:
            pick = (
                sa.select(DELIVERY.c.id)
                .select_from(DELIVERY.join(CHANNEL, CHANNEL.c.id == DELIVERY.c.channel_id))
                .where(
                    DELIVERY.c.status == "queued",
                    DELIVERY.c.next_attempt_at <= now,
                    sa.or_(DELIVERY.c.lease_until.is_(None), DELIVERY.c.lease_until < now),
                    CHANNEL.c.active.is_(True),
                    _worker_sends(),
                )
                .order_by(DELIVERY.c.next_attempt_at, DELIVERY.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=DELIVERY)
            )
            ids = list(conn.execute(pick).scalars())
            if not ids:
                return []
            conn.execute(
                sa.update(DELIVERY)
                .where(DELIVERY.c.id.in_(ids))
                .values(
                    lease_owner=owner[:200],
                    lease_until=until,
                    attempts=DELIVERY.c.attempts + 1,
                    updated_at=now,
                )
            )
            return self._jobs(conn, ids)

    def _jobs(self, conn: Connection, ids: list[int]) -> list[DeliveryJob]:
        author = AGENT.alias("author")
        rows = conn.execute(
            sa.select(
                DELIVERY.c.id,
                DELIVERY.c.attempts,
                DELIVERY.c.created_at,
                DELIVERY.c.retried_at,
                CHANNEL.c.webhook_url,
                CHANNEL.c.secret,
                CHANNEL.c.kind,
                MSG.c.id.label("message_id"),
                MSG.c.external_id.label("message_external_id"),
                MSG.c.author_kind,
                MSG.c.body,
                MSG.c.sent_at,
                author.c.handle.label("agent"),
                CONV.c.external_id.label("conversation_external_id"),
                CUST.c.handle.label("customer"),
            )
            .select_from(delivery_parts().outerjoin(author, author.c.id == MSG.c.author_agent_id))
            .where(DELIVERY.c.id.in_(ids))
            .order_by(DELIVERY.c.next_attempt_at, DELIVERY.c.id)
        ).all()
        return [
            DeliveryJob(
                delivery_id=r.id,
                attempts=r.attempts,
                webhook_url=r.webhook_url or "",
                secret=r.secret,
                channel_kind=r.kind,
                payload={
                    "delivery_id": r.id,
                    "message_id": public_message_id(r.message_external_id, r.message_id),
                    "conversation_id": r.conversation_external_id,
                    "customer": r.customer,
                    "agent": r.agent,
                    "author": r.author_kind,
                    "text": r.body,
                    "sent_at": r.sent_at.isoformat(),
                },
                # the start of this series of attempts: a retry by an agent starts a new one
                created_at=r.retried_at or r.created_at,
            )
            for r in rows
        ]

    def _leased(self, conn: Connection, delivery_id: int, owner: str) -> Any:
        """The delivery, locked, if `owner` still holds its lease; else None (the lease ran out
        and another worker took it, or a receipt or an agent settled it meanwhile)."""
        row = conn.execute(
            sa.select(DELIVERY).where(DELIVERY.c.id == delivery_id).with_for_update()
        ).first()
        if row is None or row.status != "queued" or row.lease_owner != owner[:200]:
            return None
        return row

    def delivery_sent(self, delivery_id: int, owner: str, status_code: int) -> None:
        """The receiver answered 2xx."""
        now = self.clock.now()
        with self._write() as conn:
            row = self._leased(conn, delivery_id, owner)
            if row is None:
                return
            _settle(conn, DELIVERY.c.id == delivery_id, now, **_sent(status_code, now))
            delivery_event(self, conn, None, row.conversation_id, delivery_id, "sent", now)

    def delivery_retry_later(
        self,
        delivery_id: int,
        owner: str,
        at: datetime,
        error: str,
        status_code: int | None,
    ) -> None:
        """This attempt failed in a way worth trying again (timeout, 429, 5xx) at `at`."""
        now = self.clock.now()
        with self._write() as conn:
            row = self._leased(conn, delivery_id, owner)
            if row is None:
                return
            _settle(
                conn,
                DELIVERY.c.id == delivery_id,
                now,
                next_attempt_at=at,
                last_error=_error_text(error),
                last_status=status_code,
            )
            delivery_event(
                self,
                conn,
                None,
                row.conversation_id,
                delivery_id,
                "queued",
                now,
                attempts=row.attempts,
            )

    def delivery_failed(
        self, delivery_id: int, owner: str, error: str, status_code: int | None
    ) -> None:
        """Given up (a 4xx, or the give-up time passed): the conversation tops its owner's
        queue as undelivered."""
        now = self.clock.now()
        with self._write() as conn:
            row = self._leased(conn, delivery_id, owner)
            if row is None:
                return
            self._set_failed(conn, row, _error_text(error), status_code, now)

    def _set_failed(
        self,
        conn: Connection,
        row: Any,
        error: str | None,
        status_code: int | None,
        now: datetime,
    ) -> None:
        _settle(
            conn,
            DELIVERY.c.id == row.id,
            now,
            status="failed",
            last_error=error,
            last_status=status_code,
            next_attempt_at=None,
        )
        self._mark_undelivered(conn, row.conversation_id, now)
        delivery_event(self, conn, None, row.conversation_id, row.id, "failed", now)

    def _mark_undelivered(self, conn: Connection, conversation_id: int, now: datetime) -> None:
        """Set or clear the conversation's undelivered_at from its failed deliveries, and its
        queue position with it. Called after the delivery row was written.

        Only a person's reply counts: a message the channel sent by itself (the e-mail
        acknowledgement, a system message) that failed keeps its failure on its delivery and in
        the worker's log, but does not tell the agent their reply did not arrive."""
        failed = conn.execute(
            sa.select(DELIVERY.c.id)
            .join(MSG, MSG.c.id == DELIVERY.c.message_id)
            .where(
                DELIVERY.c.conversation_id == conversation_id,
                DELIVERY.c.status == "failed",
                MSG.c.author_kind != "system",
            )
            .limit(1)
        ).first()
        before = self._lock(conn, conversation_id)
        row = dict(before)
        if failed is not None and row.get("undelivered_at") is None:
            row["undelivered_at"] = now
        elif failed is None and row.get("undelivered_at") is not None:
            row["undelivered_at"] = None
        else:
            return
        self._save(conn, before, row, now)

    # -- web chat: replies whose visitor never came back ---------------------------------------

    def give_up_web_deliveries(self, after_s: float, reason: str, limit: int = 500) -> int:
        """Fail the web chat deliveries still queued `after_s` seconds after their reply (or the
        agent's retry): their visitor never came back to the page. Each marks its conversation
        undelivered, as any failed delivery does. Returns how many failed (at most `limit`)."""
        now = self.clock.now()
        cutoff = now - timedelta(seconds=after_s)
        waited = sa.or_(
            sa.and_(DELIVERY.c.retried_at.is_(None), DELIVERY.c.created_at <= cutoff),
            DELIVERY.c.retried_at <= cutoff,
        )
        with self._write() as conn:
            rows = conn.execute(
                sa.select(DELIVERY)
                .where(
                    DELIVERY.c.status == "queued",
                    DELIVERY.c.channel_id.in_(
                        sa.select(CHANNEL.c.id).where(CHANNEL.c.kind == "web")
                    ),
                    waited,
                )
                .order_by(DELIVERY.c.id)
                .limit(max(0, limit))
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                self._set_failed(conn, row, _error_text(reason), None, now)
        return len(rows)

    # -- receipts from the integration ------------------------------------------------------

    def delivery_receipt(
        self, channel_id: int, public_message_id: str, status: str, error: str | None
    ) -> DeliveryView:
        """The integration says what became of a message: delivered, read or failed.

        Only this channel's deliveries are found (another channel's message is NotFound, as if
        it did not exist). A receipt settles a delivery still queued (the receiver had it even
        if our worker did not hear back); a late "delivered" never undoes "read"."""
        if status not in RECEIPTS:
            raise InvalidInput(code="receipt_status")
        if not isinstance(public_message_id, str) or not public_message_id:
            raise NotFound(code="no_delivery_for_message", message_id="")
        now = self.clock.now()
        with self._write() as conn:
            row = self._by_public_id(conn, channel_id, public_message_id)
            if row is None:
                raise NotFound(code="no_delivery_for_message", message_id=public_message_id[:200])
            if status == "failed":
                if row.status != "failed":
                    self._set_failed(conn, row, _error_text(error) or "failed", None, now)
            elif row.status == "failed" or _RANK[status] > _RANK.get(row.status, 0):
                _settle(
                    conn,
                    DELIVERY.c.id == row.id,
                    now,
                    status=status,
                    next_attempt_at=None,
                    sent_at=row.sent_at or now,
                )
                if row.status == "failed":
                    self._mark_undelivered(conn, row.conversation_id, now)
                delivery_event(self, conn, None, row.conversation_id, row.id, status, now)
            return _view(conn.execute(_view_select().where(DELIVERY.c.id == row.id)).one())

    def _by_public_id(self, conn: Connection, channel_id: int, public_id: str) -> Any:
        """This channel's delivery of the message the integration names, locked."""
        base = sa.select(DELIVERY).join(MSG, MSG.c.id == DELIVERY.c.message_id)
        where = [DELIVERY.c.channel_id == channel_id]
        row = conn.execute(
            base.where(*where, MSG.c.external_id == public_id).with_for_update(of=DELIVERY)
        ).first()
        match = _CS_ID.match(public_id)
        if row is None and match and int(match.group(1)) <= MAX_ROW_ID:
            row = conn.execute(
                base.where(
                    *where, MSG.c.id == int(match.group(1)), MSG.c.external_id.is_(None)
                ).with_for_update(of=DELIVERY)
            ).first()
        return row

    # -- agents -------------------------------------------------------------------------------

    def retry_delivery(self, actor: AgentInfo, delivery_id: int) -> DeliveryView:
        """Send a failed (or stuck) delivery again, now: by the conversation's owner or a
        supervisor. The attempt counter goes on; the give-up time starts again."""
        now = self.clock.now()
        with self._write() as conn:
            fresh = self._active(conn, actor)
            row = conn.execute(
                sa.select(DELIVERY).where(DELIVERY.c.id == delivery_id).with_for_update()
            ).first()
            if row is None:
                raise NotFound(code="no_delivery", delivery_id=delivery_id)
            assignee = conn.execute(
                sa.select(CONV.c.assignee_id).where(CONV.c.id == row.conversation_id)
            ).scalar()
            if not fresh.is_supervisor and assignee != fresh.id:
                raise NotAllowed(code="delivery_not_yours")
            if row.status not in ("failed", "queued"):
                raise InvalidInput(
                    code="delivery_not_retryable", delivery_id=delivery_id, status=row.status
                )
            values: dict[str, Any] = {
                "status": "queued",
                "next_attempt_at": now,
                "retried_at": now,
                "updated_at": now,
            }
            if row.lease_until is None or row.lease_until <= now:
                values.update(lease_owner=None, lease_until=None)
            # (else a worker is sending it right now: it stays that worker's until its lease
            # ends, so two never send it at once)
            conn.execute(sa.update(DELIVERY).where(DELIVERY.c.id == delivery_id).values(values))
            if row.status == "failed":
                self._mark_undelivered(conn, row.conversation_id, now)
            delivery_event(
                self, conn, fresh.id, row.conversation_id, delivery_id, "queued", now, retry=True
            )
            return _view(conn.execute(_view_select().where(DELIVERY.c.id == delivery_id)).one())

    def deliveries(
        self,
        actor: AgentInfo,
        *,
        status: str | None = None,
        conversation_id: int | None = None,
        limit: int = 200,
    ) -> list[DeliveryView]:
        """Deliveries, newest first: a supervisor's view is the team's, an agent's the
        conversations assigned to them."""
        if status is not None and status not in STATUSES:
            raise InvalidInput(
                code="unknown_delivery_status", status=status, known=", ".join(STATUSES)
            )
        query = _view_select().order_by(DELIVERY.c.id.desc()).limit(max(0, limit))
        if status is not None:
            query = query.where(DELIVERY.c.status == status)
        if conversation_id is not None:
            query = query.where(DELIVERY.c.conversation_id == conversation_id)
        with self._read() as conn:
            fresh = self._active(conn, actor)
            if not fresh.is_supervisor:
                query = query.where(CONV.c.assignee_id == fresh.id)
            return [_view(r) for r in conn.execute(query)]

    def delivery(self, delivery_id: int) -> DeliveryView:
        """One delivery as it stands (tests, the server's answers); no permission check."""
        with self._read() as conn:
            row = conn.execute(_view_select().where(DELIVERY.c.id == delivery_id)).first()
        if row is None:
            raise NotFound(code="no_delivery", delivery_id=delivery_id)
        return _view(row)

    def next_delivery_due(self) -> datetime | None:
        """When the next queued delivery may be claimed (its time, or its lease's end), so a
        worker can sleep until then; None when nothing is queued."""
        due = sa.case(
            (
                sa.and_(
                    DELIVERY.c.lease_until.is_not(None),
                    DELIVERY.c.lease_until > DELIVERY.c.next_attempt_at,
                ),
                DELIVERY.c.lease_until,
            ),
            else_=DELIVERY.c.next_attempt_at,
        )
        query = (
            sa.select(DELIVERY.c.next_attempt_at, DELIVERY.c.lease_until)
            .select_from(DELIVERY.join(CHANNEL, CHANNEL.c.id == DELIVERY.c.channel_id))
            .where(
                DELIVERY.c.status == "queued",
                CHANNEL.c.active.is_(True),
                _worker_sends(),
            )
            .order_by(due)
            .limit(1)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        at: datetime = row.next_attempt_at
        if row.lease_until is not None and row.lease_until > at:
            return row.lease_until
        return at

    def ping(self) -> bool:
        """Whether the store answers one cheap query (/healthz)."""
        try:
            with self._read() as conn:
                conn.exec_driver_sql("SELECT 1")
        except StoreUnavailable:
            return False
        return True

    # -- batched results (the delivery worker's fast path) -------------------------------------

    def deliveries_sent(self, owner: str, sent: list[tuple[int, int]]) -> int:
        """Many `delivery_sent`s in one write transaction: (delivery_id, HTTP status) pairs.

        The worker answers dozens of POSTs at once; one transaction (and one event insert) for
        them all instead of one each is what lets it drain thousands a second. Rows whose lease
        `owner` no longer holds are left alone, as in delivery_sent. Returns how many were
        marked sent."""
        if not sent:
            return 0
        now = self.clock.now()
        codes = dict(sent)
        with self._write() as conn:
            rows = conn.execute(
                sa.select(DELIVERY.c.id, DELIVERY.c.conversation_id)
                .where(
                    DELIVERY.c.id.in_(list(codes)),
                    DELIVERY.c.status == "queued",
                    DELIVERY.c.lease_owner == owner[:200],
                )
                .order_by(DELIVERY.c.id)
                .with_for_update()
            ).all()
            if not rows:
                return 0
            by_code: dict[int, list[int]] = {}
            for row in rows:
                by_code.setdefault(codes[row.id], []).append(row.id)
            for code, ids in by_code.items():
                _settle(conn, DELIVERY.c.id.in_(ids), now, **_sent(code, now))
            conn.execute(
                sa.insert(EVENT),
                [
                    {
                        "at": now,
                        "actor_id": None,
                        "kind": "delivery",
                        "conversation_id": row.conversation_id,
                        "payload": {"delivery_id": row.id, "status": "sent"},
                    }
                    for row in rows
                ],
            )
            return len(rows)
