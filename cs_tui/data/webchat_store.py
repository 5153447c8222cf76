"""The store's side of the web chat: what a visitor's page may read, and its delivery receipts.

A web channel's conversations are opened by `ingest_from_channel` like any channel's (the same
line checks, the same place a message becomes a conversation); this mixin only reads them back
for the page and records what the page confirmed. Internal notes never leave it: a page sees the
customer's, the agents' and system messages of its own conversation, with the agent's display
name (never the handle).

Sequence numbers are message ids. Every message insert in a conversation happens while its
conversation row is locked (post_reply, ingest; on SQLite every write is serialised anyway), so
within one conversation ids commit in increasing order and "everything after the last id I saw"
never skips a message that commits later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cs_tui.data.delivery_rows import delivery_event
from cs_tui.data.outbox import OutboxMixin
from cs_tui.data.tables import AGENT, CHANNEL, CONV, DELIVERY, MSG

PAGE_AUTHORS = ("customer", "agent", "system")
REPLAY_LIMIT = 500
"""Messages sent to a page at once (a longer history arrives over several reads)."""
_RANK = {"failed": -1, "queued": 0, "sent": 1, "delivered": 2, "read": 3}


@dataclass(frozen=True)
class WebChannel:
    """A web channel as the server needs it: its secret signs visitor tokens."""

    id: int
    name: str
    active: bool
    secret: str
    origins: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    channel_type: str = "chat"
    """The SLA channel of its conversations (chat unless `--type` said otherwise): the one whose
    service hours decide whether someone can answer now."""


@dataclass(frozen=True)
class WebMessage:
    """One message as the web chat page shows it to the visitor."""

    seq: int
    author: str
    text: str
    sent_at: datetime
    agent_name: str | None
    external_id: str | None


class WebChatMixin(OutboxMixin):
    def web_channel(self, name: str) -> WebChannel | None:
        """The web channel of this name (disabled ones too: the server says so), or None."""
        with self._read() as conn:
            row = conn.execute(
                sa.select(CHANNEL).where(CHANNEL.c.name == name, CHANNEL.c.kind == "web")
            ).first()
        if row is None:
            return None
        settings = dict(row.settings or {})
        origins = settings.get("origins") or []
        return WebChannel(
            id=row.id,
            name=row.name,
            active=bool(row.active),
            secret=row.secret,
            origins=tuple(str(o) for o in origins if isinstance(o, str)),
            settings=settings,
            channel_type=str(row.channel_type),
        )

    def web_conversation(self, channel_id: int, external_id: str) -> int | None:
        """The conversation this channel opened under `external_id`, or None (not yet, or
        someone else's: a page only ever reads a conversation of its own channel)."""
        with self._read() as conn:
            found: int | None = conn.execute(
                sa.select(CONV.c.id).where(
                    CONV.c.external_id == external_id, CONV.c.source_id == channel_id
                )
            ).scalar()
        return found

    def web_messages(
        self, conversation_id: int, after: int = 0, limit: int = REPLAY_LIMIT
    ) -> list[WebMessage]:
        """The conversation's messages a page shows, oldest first, with ids above `after`."""
        query = (
            sa.select(
                MSG.c.id,
                MSG.c.author_kind,
                MSG.c.body,
                MSG.c.sent_at,
                MSG.c.external_id,
                AGENT.c.display_name,
            )
            .select_from(MSG.outerjoin(AGENT, AGENT.c.id == MSG.c.author_agent_id))
            .where(
                MSG.c.conversation_id == conversation_id,
                MSG.c.id > after,
                MSG.c.author_kind.in_(PAGE_AUTHORS),
            )
            .order_by(MSG.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [
            WebMessage(
                seq=r.id,
                author=r.author_kind,
                text=r.body,
                sent_at=r.sent_at,
                agent_name=r.display_name if r.author_kind == "agent" else None,
                external_id=r.external_id,
            )
            for r in rows
        ]

    def web_receipts(self, conversation_id: int, message_ids: Sequence[int], status: str) -> int:
        """Mark the deliveries of these agent messages `sent` (pushed to a page) or `read`
        (a page showed them); a status never goes back. A delivery given up on (its visitor
        did not come back in time: cs_tui.channels.web_give_up) that a page shows after all
        is no longer failed, and its conversation no longer undelivered. Returns how many
        changed."""
        if status not in ("sent", "read") or not message_ids:
            return 0
        now = self.clock.now()
        with self._write() as conn:
            rows = conn.execute(
                sa.select(DELIVERY.c.id, DELIVERY.c.status)
                .where(
                    DELIVERY.c.conversation_id == conversation_id,
                    DELIVERY.c.message_id.in_(list(message_ids)),
                )
                .with_for_update()
            ).all()
            ids = [r.id for r in rows if _RANK.get(r.status, 9) < _RANK[status]]
            if not ids:
                return 0
            values: dict[str, Any] = {"status": status, "updated_at": now, "next_attempt_at": None}
            if status == "sent":
                values["sent_at"] = now
            conn.execute(sa.update(DELIVERY).where(DELIVERY.c.id.in_(ids)).values(**values))
            if any(r.status == "failed" for r in rows if r.id in ids):
                self._mark_undelivered(conn, conversation_id, now)
            for delivery_id in ids:
                delivery_event(self, conn, None, conversation_id, delivery_id, status, now)
        return len(ids)
