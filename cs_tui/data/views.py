"""Plain, immutable objects the store hands out. No session, no lazy loading, safe in any thread."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cs_tui.jsonl_lines import (  # noqa: F401  (re-exported: the store's callers use them)
    HANDLE_RE,
    IngestRecord,
)

ROLES = ("agent", "supervisor", "trainer")


@dataclass(frozen=True)
class AgentInfo:
    """An agent as every screen and command knows them: handle, name, role."""

    id: int
    handle: str
    display_name: str
    role: str
    active: bool
    last_seen_at: datetime | None = None

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


def sees_in_full(viewer: AgentInfo, assignee: str | None) -> bool:
    """Whether `viewer` sees a conversation owned by `assignee` in full (its private notes, its
    messages in the customer's history) or only as a summary: channel, date, category, status.
    Supervisors see everything; an agent sees their own work and the unassigned pool."""
    return viewer.is_supervisor or assignee is None or assignee == viewer.handle


@dataclass(frozen=True)
class CustomerInfo:
    """A customer with their tier and tags, for the side panel and the history."""

    id: int
    handle: str
    name: str
    tier: str
    created_at: datetime
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueueFilter:
    """What the queue pane shows. scope: all | mine | unassigned | handed.

    "all" is everything the viewer may see: for an agent their own work and the unassigned pool,
    for a supervisor every queue. "handed" is what the viewer handed over to someone else and
    no longer holds, open or done, so a transfer never makes a conversation vanish for good.
    """

    scope: str = "all"
    channel: str | None = None
    status: str | None = None
    tag: str | None = None
    text: str | None = None
    training: bool = False


@dataclass(frozen=True)
class QueueRow:
    """One conversation as the queue shows it, with its running SLA clock."""

    id: int
    external_id: str
    channel: str
    category: str
    priority: str
    status: str
    customer_id: int
    customer_name: str
    customer_handle: str
    customer_tier: str
    preview: str
    assignee: str | None
    sla_clock: str | None
    due_at: datetime | None
    sla_target_s: float | None
    updated_at: datetime
    last_message_at: datetime | None
    tags: tuple[str, ...] = ()
    # A reply could not be delivered to the customer's channel: the row tops its owner's queue.
    undelivered: bool = False


TAG_SEP = "\x1f"
"""Between a conversation's tags where a queue read folds them into one column."""


def split_tags(joined: str | None) -> tuple[str, ...]:
    """A conversation's tags from the one column a queue read folds them into."""
    return tuple(sorted(joined.split(TAG_SEP))) if joined else ()


def queue_rows_in_order(found: Iterable[Sequence[Any]], ids: list[int]) -> list[QueueRow]:
    """Rows read by id (the id first, the tags folded into the last column), in the order of
    `ids`: a read by primary key comes back in whatever order the database found them."""
    position = {cid: i for i, cid in enumerate(ids)}
    ordered = sorted(found, key=lambda r: position[r[0]])
    return [queue_row_from(r[:-1], split_tags(r[-1])) for r in ordered]


def queue_row_from(values: Sequence[Any], tags: tuple[str, ...]) -> QueueRow:
    """A queue row from a read's columns, in QueueRow's field order with `undelivered_at` last.
    Positional: several times faster than attribute access on a row, and the queue builds
    hundreds of these per refresh."""
    return QueueRow(*(*values[:-1], tags, values[-1] is not None))


@dataclass(frozen=True)
class MessageView:
    """One message of a transcript, as the transcript draws it."""

    id: int
    conversation_id: int
    author_kind: str
    author: str | None
    body: str
    sent_at: datetime
    external_id: str | None
    # Agent replies in a conversation of a channel with a webhook: queued, sent, delivered,
    # read or failed, and why it failed (filled by the conversation query only).
    delivery_status: str | None = None
    delivery_error: str | None = None


@dataclass(frozen=True)
class HandoverView:
    """The latest transfer of a conversation and its note, as the new owner reads it."""

    at: datetime
    by: str
    from_agent: str | None
    to_agent: str
    note: str


@dataclass(frozen=True)
class ConversationDetail:
    """One conversation opened: its row, its customer and its transcript, with the times."""

    row: QueueRow
    customer: CustomerInfo
    messages: tuple[MessageView, ...]
    created_at: datetime
    assigned_at: datetime | None
    escalated_at: datetime | None
    escalation_reason: str | None
    resolved_at: datetime | None
    snooze_until: datetime | None
    first_response_s: float | None
    csat: int | None
    transfers: int
    message_count: int
    training: bool
    facts: Any = field(repr=False, default=None)  # sla.ConversationFacts
    # The latest handover, while the agent it went to still holds the conversation (and the
    # viewer may read its notes); None otherwise.
    handover: HandoverView | None = None
    # The e-mail channel's notes in its mails, as codes (cs_tui.channels.email_notes) by
    # message id: what the transcript translates. Empty for other channels and older mails.
    mail_notes: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class EventView:
    """One entry of the audit log, with the acting agent's handle."""

    id: int
    at: datetime
    actor: str | None
    kind: str
    conversation_id: int | None
    payload: dict


@dataclass
class IngestResult:
    """What an import did, added up over its batches."""

    lines: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    conversations: int = 0
    # External ids of the conversations touched, so batches add up without double counting.
    touched: set[str] = field(default_factory=set, repr=False)
    # Lines the store would not keep, with the reason (see IngestMixin.ingest_batch).
    refused: list[tuple[IngestRecord, str]] = field(default_factory=list, repr=False)
    # id() of the records counted as duplicates, for a channel's per-item answer.
    duplicate_records: set[int] = field(default_factory=set, repr=False)

    def add(self, part: IngestResult) -> None:
        self.lines += part.lines
        self.imported += part.imported
        self.duplicates += part.duplicates
        self.refused += part.refused
        self.rejected += part.rejected
        self.touched |= part.touched
        self.conversations = len(self.touched)


# -- the gateway (channels, inbound messages, the delivery outbox) ------------------------


@dataclass(frozen=True)
class ChannelInfo:
    """A gateway channel as anyone may see it: never its token nor its signing secret."""

    id: int
    name: str
    kind: str
    channel_type: str
    webhook_url: str | None
    active: bool
    created_at: datetime
    updated_at: datetime
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChannelSecrets:
    """What `channels add` and `channels rotate` show once: the store keeps no readable token.

    Only an API channel has a token (an integration posts with it); a web channel's visitors and
    an e-mail channel's mailbox come in otherwise, so a token there would only be one more key to
    the inbound API that nobody needs."""

    channel: ChannelInfo
    token: str | None
    secret: str


@dataclass(frozen=True)
class ChannelAuth:
    """What the server needs to authenticate a request and sign the channel's webhooks."""

    id: int
    name: str
    kind: str
    channel_type: str
    active: bool
    secret: str
    webhook_url: str | None


@dataclass(frozen=True)
class InboundItem:
    """The result of one inbound message: stored, duplicate (already stored) or rejected."""

    index: int
    status: str
    message_id: str | None
    conversation_id: str | None
    reason: str | None = None


@dataclass(frozen=True)
class DeliveryJob:
    """A claimed, due delivery: everything a worker needs to POST it.

    payload: {delivery_id, message_id, conversation_id, customer, agent, author, text, sent_at}.
    """

    delivery_id: int
    attempts: int
    webhook_url: str
    secret: str
    payload: dict[str, Any]
    created_at: datetime
    channel_kind: str = "api"  # api: POSTed to webhook_url; email: sent by SMTP


@dataclass(frozen=True)
class DeliveryView:
    """One agent reply on its way to a channel: where it is and how many tries it took."""

    delivery_id: int
    conversation_id: int
    conversation_external_id: str
    message_id: int
    public_message_id: str
    channel: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    from_channel: bool = False
    """The channel's own message (a system message: the e-mail acknowledgement), not a
    person's reply: its failure marks nothing undelivered and it is not sent again."""


def public_message_id(external_id: str | None, message_id: int) -> str:
    """The id an integration knows a stored message by (webhook payloads, receipts)."""
    return external_id if external_id else f"cs-{message_id}"
