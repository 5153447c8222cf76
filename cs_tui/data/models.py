"""SQLModel tables. Only `cs_tui.data` imports this module; the rest of the app sees dataclasses.

Times are stored through UTCDateTime (data/coltypes.py) so SQLite and PostgreSQL both hand
back aware UTC values. `urgency_at` is the queue's sort key: the running SLA deadline, or
FAR_FUTURE when nothing is owed, so one ascending index scan yields "most overdue first" on both
backends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.mutable import MutableDict, MutableList
from sqlmodel import Field, SQLModel

# The column types live with SQLAlchemy Core only (the generated schema uses them without
# importing SQLModel); the models name the same classes, so both describe one type.
from cs_tui.data.coltypes import PortableJSON, UTCDateTime

SCHEMA_VERSION = 9


def _json():
    return PortableJSON()


def utc_col(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index))


class SchemaMeta(SQLModel, table=True):
    __tablename__ = "schema_meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str


class Agent(SQLModel, table=True):
    __tablename__ = "agent"
    id: int | None = Field(default=None, primary_key=True)
    handle: str = Field(max_length=64, sa_column_kwargs={"unique": True}, nullable=False)
    display_name: str = Field(max_length=200)
    role: str = Field(default="agent", max_length=16)  # agent | supervisor | trainer
    active: bool = Field(default=True)
    created_at: datetime = utc_col(nullable=False)
    last_seen_at: datetime | None = utc_col()


class Customer(SQLModel, table=True):
    __tablename__ = "customer"
    id: int | None = Field(default=None, primary_key=True)
    handle: str = Field(max_length=200, sa_column_kwargs={"unique": True}, nullable=False)
    name: str = Field(max_length=200)
    tier: str = Field(default="standard", max_length=32)  # standard | vip
    created_at: datetime = utc_col(nullable=False)


class CustomerTag(SQLModel, table=True):
    __tablename__ = "customer_tag"
    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    tag: str = Field(primary_key=True, max_length=64)


class GatewayChannel(SQLModel, table=True):
    """An integration that brings customers' messages in and takes agents' replies out.

    Added in schema 3. The inbound token is kept only as its sha256 (hex): a copy of the store
    does not let anyone post as the channel. The signing secret is kept as it is, since the
    server must sign every webhook with it.
    """

    __tablename__ = "gateway_channel"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, sa_column_kwargs={"unique": True}, nullable=False)
    kind: str = Field(default="api", max_length=16)  # api | web | email
    channel_type: str = Field(default="chat", max_length=16)  # the SLA channel it opens
    webhook_url: str | None = Field(default=None, max_length=2000)
    token_hash: str | None = Field(default=None, max_length=64, sa_column_kwargs={"unique": True})
    secret: str = Field(max_length=128)
    active: bool = Field(default=True)
    settings: dict = Field(
        default_factory=dict, sa_column=sa.Column(MutableDict.as_mutable(_json()))
    )
    created_at: datetime = utc_col(nullable=False)
    updated_at: datetime = utc_col(nullable=False)


class Conversation(SQLModel, table=True):
    __tablename__ = "conversation"
    __table_args__ = (
        # Queue indexes carry the filter columns after the sort key, so a window (even a deep
        # offset) is read from the index alone; only the rows shown are fetched from the table.
        sa.Index(
            "ix_conv_queue", "active", "training", "urgency_at", "id", "hidden_until", "assignee_id"
        ),
        sa.Index(
            "ix_conv_assignee_queue",
            "assignee_id",
            "active",
            "training",
            "urgency_at",
            "id",
            "hidden_until",
        ),
        sa.Index(
            "ix_conv_channel_queue",
            "channel",
            "active",
            "training",
            "urgency_at",
            "id",
            "hidden_until",
            "assignee_id",
        ),
        sa.Index(
            "ix_conv_status_queue",
            "status",
            "training",
            "urgency_at",
            "id",
            "channel",
            "assignee_id",
        ),
        # Channel and status together (e.g. new e-mail): added in schema 2.
        sa.Index(
            "ix_conv_channel_status_queue",
            "channel",
            "status",
            "training",
            "urgency_at",
            "id",
            "assignee_id",
        ),
        sa.Index("ix_conv_customer", "customer_id", "last_message_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=200, sa_column_kwargs={"unique": True}, nullable=False)
    customer_id: int = Field(foreign_key="customer.id")
    channel: str = Field(max_length=16)
    category: str = Field(default="order", max_length=16)
    priority: str = Field(default="normal", max_length=8)
    status: str = Field(default="new", max_length=16)
    active: bool = Field(default=True)  # status not in (resolved, closed) or a follow-up is owed
    assignee_id: int | None = Field(default=None, foreign_key="agent.id")
    created_at: datetime = utc_col(nullable=False)
    updated_at: datetime = utc_col(nullable=False)
    assigned_at: datetime | None = utc_col()
    first_customer_at: datetime | None = utc_col()
    last_customer_at: datetime | None = utc_col()
    first_agent_at: datetime | None = utc_col()
    last_agent_at: datetime | None = utc_col()
    last_message_at: datetime | None = utc_col()
    escalated_at: datetime | None = utc_col()
    escalation_reason: str | None = None
    transfer_requested_at: datetime | None = utc_col()
    resolved_at: datetime | None = utc_col()
    followed_up_at: datetime | None = utc_col()
    snooze_until: datetime | None = utc_col()
    # Hidden from the queue until then: a snooze, or a follow-up that is not due yet.
    hidden_until: datetime | None = utc_col()
    pauses: list = Field(default_factory=list, sa_column=sa.Column(MutableList.as_mutable(_json())))
    sla_clock: str | None = Field(default=None, max_length=16)
    sla_started_at: datetime | None = utc_col()
    due_at: datetime | None = utc_col()
    sla_target_s: float | None = None
    urgency_at: datetime = utc_col(nullable=False)
    first_response_s: float | None = None
    csat: int | None = None
    transfers: int = Field(default=0)
    message_count: int = Field(default=0)
    preview: str = Field(default="", max_length=200)
    # Role-play conversations live beside real ones but stay out of queues and team KPIs.
    training: bool = Field(default=False)
    # The gateway channel that opened it (schema 3); None for imports and typed-in work.
    source_id: int | None = Field(default=None, foreign_key="gateway_channel.id")
    # When a reply of it could not be delivered for good (schema 3): it tops its owner's queue.
    undelivered_at: datetime | None = utc_col()


class ConversationTag(SQLModel, table=True):
    __tablename__ = "conversation_tag"
    __table_args__ = (sa.Index("ix_conv_tag_tag", "tag", "conversation_id"),)
    conversation_id: int = Field(foreign_key="conversation.id", primary_key=True)
    tag: str = Field(primary_key=True, max_length=64)


class Message(SQLModel, table=True):
    __tablename__ = "message"
    __table_args__ = (sa.Index("ix_message_conv", "conversation_id", "sent_at", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id")
    author_kind: str = Field(max_length=16)  # customer | agent | system | note
    author_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    sent_at: datetime = utc_col(nullable=False)
    stored_at: datetime = utc_col(nullable=False)
    external_id: str | None = Field(default=None, max_length=200, sa_column_kwargs={"unique": True})


class Delivery(SQLModel, table=True):
    """The outbox: one agent reply to send to its channel's webhook (schema 3).

    Written in the same transaction as the message, so a reply is never stored without its
    delivery nor a delivery sent for a reply that was rolled back. A worker leases due rows
    (lease_owner, lease_until) so two servers never send one at the same time.
    """

    __tablename__ = "delivery"
    __table_args__ = (
        sa.Index("ix_delivery_due", "status", "next_attempt_at"),
        sa.Index("ix_delivery_conv", "conversation_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="gateway_channel.id")
    message_id: int = Field(foreign_key="message.id", sa_column_kwargs={"unique": True})
    conversation_id: int = Field(foreign_key="conversation.id")
    status: str = Field(default="queued", max_length=16)  # queued|sent|delivered|read|failed
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = utc_col()
    lease_until: datetime | None = utc_col()
    lease_owner: str | None = Field(default=None, max_length=200)
    last_error: str | None = Field(default=None, max_length=300)
    last_status: int | None = None
    created_at: datetime = utc_col(nullable=False)
    updated_at: datetime = utc_col(nullable=False)
    sent_at: datetime | None = utc_col()
    # When an agent last asked for it to be sent again: its give-up time counts from then.
    retried_at: datetime | None = utc_col()


class MailCursor(SQLModel, table=True):
    """How far an e-mail channel has read one IMAP folder (schema 4).

    IMAP numbers a folder's mails by UID, valid while the folder's UIDVALIDITY stays the same.
    The cursor moves only after the mails up to `last_uid` are stored, in the same transaction,
    so a fetch killed halfway starts again after the last mail it stored.
    """

    __tablename__ = "mail_cursor"
    channel_id: int = Field(foreign_key="gateway_channel.id", primary_key=True)
    folder: str = Field(primary_key=True, max_length=200)
    uidvalidity: int = Field(default=0, sa_type=sa.BigInteger)
    last_uid: int = Field(default=0, sa_type=sa.BigInteger)
    updated_at: datetime = utc_col(nullable=False)


class MailMessage(SQLModel, table=True):
    """The e-mail side of a message of an e-mail channel (schema 4): its Message-ID (unique per
    channel: a mail fetched twice is stored once), its subject, the whole text with the quoted
    history and signature that the transcript leaves out, and its attachments (name, size,
    where saved). Outgoing replies get a row too, so a customer's answer finds its conversation
    by In-Reply-To/References."""

    __tablename__ = "mail_message"
    __table_args__ = (
        sa.Index("ux_mail_message_id", "channel_id", "mail_id", unique=True),
        sa.Index("ix_mail_message_conv", "conversation_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="gateway_channel.id")
    conversation_id: int = Field(foreign_key="conversation.id")
    message_id: int | None = Field(default=None, foreign_key="message.id")
    delivery_id: int | None = Field(default=None, foreign_key="delivery.id")
    mail_id: str = Field(max_length=300)
    direction: str = Field(default="in", max_length=8)  # in | out
    subject: str = Field(default="", max_length=1000)
    full_text: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    attachments: list = Field(
        default_factory=list, sa_column=sa.Column(MutableList.as_mutable(_json()))
    )
    created_at: datetime = utc_col(nullable=False)
    # Schema 8: the notes the channel wrote into the message, as codes and parameters
    # (cs_tui.channels.email_notes), translated when shown; NULL for a mail stored before.
    note: dict | None = Field(default=None, sa_column=sa.Column(_json(), nullable=True))


class Handover(SQLModel, table=True):
    """One transfer of a conversation and the note that went with it (schema 5).

    The new owner reads the note at the top of the conversation, so a customer never has to
    tell their story twice; the agent who handed it over finds it again through the rows where
    they are `from_agent_id` (the queue's "handed over" scope), whoever holds it now.
    """

    __tablename__ = "handover"
    __table_args__ = (
        sa.Index("ix_handover_conv", "conversation_id", "id"),
        sa.Index("ix_handover_from", "from_agent_id", "conversation_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id")
    by_agent_id: int = Field(foreign_key="agent.id")  # who moved it (the owner or a supervisor)
    from_agent_id: int | None = Field(default=None, foreign_key="agent.id")  # None: from the pool
    to_agent_id: int = Field(foreign_key="agent.id")
    note: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    at: datetime = utc_col(nullable=False)


class PersonalPhrase(SQLModel, table=True):
    """A quick reply of one agent's own (schema 7), next to the team's packs in the picker.

    Kept in the store, not in a file, so it follows the agent to any terminal of the team. A
    shortcut, when given, is unique among the agent's own phrases; one that a team pack already
    uses is kept but not offered as a shortcut (the pack's phrase keeps it).
    """

    __tablename__ = "personal_phrase"
    __table_args__ = (sa.Index("ux_personal_phrase_shortcut", "agent_id", "shortcut", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id")
    title: str = Field(max_length=200)
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    shortcut: str | None = Field(default=None, max_length=32)
    lang: str = Field(default="zh", max_length=8)
    created_at: datetime = utc_col(nullable=False)


class Draft(SQLModel, table=True):
    __tablename__ = "draft"
    agent_id: int = Field(foreign_key="agent.id", primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", primary_key=True)
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    updated_at: datetime = utc_col(nullable=False)


class Article(SQLModel, table=True):
    __tablename__ = "kb_article"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=200, sa_column_kwargs={"unique": True}, nullable=False)
    title: str = Field(max_length=300)
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    category: str = Field(default="faq", max_length=32)
    tags: list = Field(default_factory=list, sa_column=sa.Column(MutableList.as_mutable(_json())))
    lang: str = Field(default="zh", max_length=8)
    # Pinyin and other search keys, computed once when the article is written (pypinyin is slow).
    search_keys: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    updated_at: datetime = utc_col(nullable=False)


class PhraseUse(SQLModel, table=True):
    """When an agent used a quick reply; search ranks an agent's recent phrases higher."""

    __tablename__ = "phrase_use"
    __table_args__ = (sa.Index("ix_phrase_use_agent", "agent_id", "used_at"),)
    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id")
    phrase_id: str = Field(max_length=200)
    used_at: datetime = utc_col(nullable=False)


class TrainingSession(SQLModel, table=True):
    """A role-play session: which scenario, who trained whom, and the scorecard it earned.

    Added in schema 2.
    """

    __tablename__ = "training_session"
    __table_args__ = (sa.Index("ix_training_trainee", "trainee_id", "started_at"),)
    id: int | None = Field(default=None, primary_key=True)
    scenario_id: str = Field(max_length=100)
    scenario_title: str = Field(default="", max_length=300)
    mode: str = Field(default="solo", max_length=8)  # solo | live
    trainee_id: int = Field(foreign_key="agent.id")
    trainer_id: int | None = Field(default=None, foreign_key="agent.id")
    conversation_id: int | None = Field(default=None, foreign_key="conversation.id")
    started_at: datetime = utc_col(nullable=False)
    ended_at: datetime | None = utc_col()
    total: float | None = None
    max_points: float | None = None
    scorecard: dict = Field(
        default_factory=dict, sa_column=sa.Column(MutableDict.as_mutable(_json()))
    )


class Event(SQLModel, table=True):
    """The audit trail and the change feed in one append-only table."""

    __tablename__ = "event"
    __table_args__ = (sa.Index("ix_event_conv", "conversation_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_col(nullable=False, index=True)
    actor_id: int | None = Field(default=None, foreign_key="agent.id")
    kind: str = Field(max_length=32)
    conversation_id: int | None = Field(default=None, foreign_key="conversation.id")
    payload: dict = Field(
        default_factory=dict, sa_column=sa.Column(MutableDict.as_mutable(_json()))
    )
