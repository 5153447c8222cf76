"""The delivery row a reply writes in its own transaction (the outbox's entry point).

Kept apart from cs_tui.data.outbox (the workers' and agents' side) because the reply path in
cs_tui.data.actions needs it, and the outbox builds on the actions.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cs_tui.data.core import StoreCore
from cs_tui.data.tables import CHANNEL, DELIVERY


def delivery_event(
    store: StoreCore,
    conn: Connection,
    actor_id: int | None,
    conversation_id: int,
    delivery_id: int,
    status: str,
    now: datetime,
    **extra: Any,
) -> None:
    """The change-feed row of a delivery's status (workstations refresh the transcript)."""
    store._event(
        conn,
        actor_id,
        "delivery",
        conversation_id,
        {"delivery_id": delivery_id, "status": status, **extra},
        at=now,
    )


def queue_delivery(
    store: StoreCore, conn: Connection, row: dict[str, Any], message_id: int, now: datetime
) -> int | None:
    """In the reply's transaction: a queued delivery, due now, when the conversation came
    from a channel that has a webhook, or is a web chat (whose server pushes it to the
    visitor's page and marks it sent, then read: cs_tui.server.chat_hub), or an e-mail channel
    (sent by SMTP: cs_tui.channels.email_send). Its id, or None.

    A disabled channel's replies are queued all the same: they wait (claims skip the channel)
    and go out when it is enabled again, instead of showing as sent and reaching no one."""
    source = row.get("source_id")
    if source is None:
        return None
    channel = conn.execute(_channel_select(), {"source": source}).first()
    if channel is None:
        return None
    if not channel.webhook_url and channel.kind not in ("web", "email"):
        return None
    delivery = {
        "channel_id": source,
        "message_id": message_id,
        "conversation_id": row["id"],
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }
    delivery_id: int = conn.execute(_delivery_insert(), delivery).scalar_one()
    delivery_event(store, conn, None, row["id"], delivery_id, "queued", now)
    return delivery_id


# Built once: every reply runs both, and building a statement costs more than running it.


@functools.cache
def _channel_select() -> sa.Select[Any]:
    return sa.select(CHANNEL.c.active, CHANNEL.c.webhook_url, CHANNEL.c.kind).where(
        CHANNEL.c.id == sa.bindparam("source")
    )


@functools.cache
def _delivery_insert() -> sa.Insert:
    return sa.insert(DELIVERY).returning(DELIVERY.c.id)
