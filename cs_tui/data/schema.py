"""The store's tables as SQLAlchemy Core, written by `python -m cs_tui.data.gen_tables`: do not edit.

Generated from the SQLModel models (`cs_tui.data.models`, the tables' one definition) so that
reading and writing the store needs SQLAlchemy Core alone, not SQLModel, pydantic or the ORM.
After changing a model, run the generator; a test fails while this file is out of date.
"""

from __future__ import annotations

import sqlalchemy as sa

from cs_tui.data.coltypes import PortableJSON, UTCDateTime

SCHEMA_VERSION = 9

METADATA = sa.MetaData()

SCHEMA_META = sa.Table(
    "schema_meta",
    METADATA,
    sa.Column("key", sa.String(64), primary_key=True, nullable=False),
    sa.Column("value", sa.String(), nullable=False),
)

AGENT = sa.Table(
    "agent",
    METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("handle", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False, default="agent"),
    sa.Column("active", sa.Boolean(), nullable=False, default=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("last_seen_at", UTCDateTime(), nullable=True),
)

CUSTOMER = sa.Table(
    "customer",
    METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("handle", sa.String(200), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("tier", sa.String(32), nullable=False, default="standard"),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

CUSTOMER_TAG = sa.Table(
    "customer_tag",
    METADATA,
    sa.Column(
        "customer_id",
        sa.Integer(),
        sa.ForeignKey("customer.id"),
        primary_key=True,
        nullable=False,
    ),
    sa.Column("tag", sa.String(64), primary_key=True, nullable=False),
)

GATEWAY_CHANNEL = sa.Table(
    "gateway_channel",
    METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False, default="api"),
    sa.Column("channel_type", sa.String(16), nullable=False, default="chat"),
    sa.Column("webhook_url", sa.String(2000), nullable=True),
    sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False, default=True),
    sa.Column("settings", PortableJSON(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

CONVERSATION = sa.Table(
    "conversation",
    METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("external_id", sa.String(200), nullable=False, unique=True),
    sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("category", sa.String(16), nullable=False, default="order"),
    sa.Column("priority", sa.String(8), nullable=False, default="normal"),
    sa.Column("status", sa.String(16), nullable=False, default="new"),
    sa.Column("active", sa.Boolean(), nullable=False, default=True),
    sa.Column("assignee_id", sa.Integer(), sa.ForeignKey("agent.id"), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("assigned_at", UTCDateTime(), nullable=True),
    sa.Column("first_customer_at", UTCDateTime(), nullable=True),
    sa.Column("last_customer_at", UTCDateTime(), nullable=True),
    sa.Column("first_agent_at", UTCDateTime(), nullable=True),
    sa.Column("last_agent_at", UTCDateTime(), nullable=True),
    sa.Column("last_message_at", UTCDateTime(), nullable=True),
    sa.Column("escalated_at", UTCDateTime(), nullable=True),
    sa.Column("escalation_reason", sa.String(), nullable=True),
    sa.Column("transfer_requested_at", UTCDateTime(), nullable=True),
    sa.Column("resolved_at", UTCDateTime(), nullable=True),
    sa.Column("followed_up_at", UTCDateTime(), nullable=True),
    sa.Column("snooze_until", UTCDateTime(), nullable=True),
    sa.Column("hidden_until", UTCDateTime(), nullable=True),
    sa.Column("pauses", PortableJSON(), nullable=True),
    sa.Column("sla_clock", sa.String(16), nullable=True),
    sa.Column("sla_started_at", UTCDateTime(), nullable=True),
    sa.Column("due_at", UTCDateTime(), nullable=True),
    sa.Column("sla_target_s", sa.Float(), nullable=True),
    sa.Column("urgency_at", UTCDateTime(), nullable=False),
    sa.Column("first_response_s", sa.Float(), nullable=True),
    sa.Column("csat", sa.Integer(), nullable=True),
    sa.Column("transfers", sa.Integer(), nullable=False, default=0),
    sa.Column("message_count", sa.Integer(), nullable=False, default=0),
    sa.Column("preview", sa.String(200), nullable=False, default=""),
    sa.Column("training", sa.Boolean(), nullable=False, default=False),
    sa.Column("source_id", sa.Integer(), sa.ForeignKey("gateway_channel.id"), nullable=True),
    sa.Column("undelivered_at", UTCDateTime(), nullable=True),
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
        "ix_conv_channel_status_queue",
        "channel",
        "status",
        "training",
        "urgency_at",
        "id",
        "assignee_id",
    ),
    sa.Index("ix_conv_customer", "customer_id", "last_message_at"),
    sa.Index(
        "ix_conv_queue",
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
)

CONVERSATION_TAG = sa.Table(
    "conversation_tag",
    METADATA,
    sa.Column(
        "conversation_id",
        sa.Integer(),
        sa.ForeignKey("conversation.id"),
        primary_key=True,
        nullable=False,
    ),
    sa.Column("tag", sa.String(64), primary_key=True, nullable=False),
    sa.Index("ix_conv_tag_tag", "tag", "conversation_id"),
)

MESSAGE = sa.Table(
    "message",
    METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversation.id"), nullable=False),
    sa.Column("author_kind", sa.String(16), nullable=False),
    sa.Column("author_agent_id", sa.Integer(), sa.ForeignKey("agent.id"), nullable=True),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("sent_at", UTCDateTime(), nullable=False),
    sa.Column("stored_at", UTCDateTime(), nullable=False),
    sa.Column("external_id", sa.String(200), nullable=True, unique=True),
    sa.Index("ix_message_conv", "conversation_id", "sent_at", "id"),
)

DELIVERY = sa.Table(
    "delivery",
    METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("channel_id", sa.Integer(), sa.ForeignKey("gateway_channel.id"), nullable=False),
    sa.Column("message_id", sa.Integer(), sa.ForeignKey("message.id"), nullable=False, unique=True),
    sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversation.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default="queued"),
    sa.Column("attempts", sa.Integer(), nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
    sa.Column("lease_until", UTCDateTime(), nullable=True),
    sa.Column("lease_owner", sa.String(200), nullable=True),
    sa.Column("last_error", sa.String(300), nullable=True),
    sa.Column("last_status", sa.Integer(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
    sa.Column("retried_at", UTCDateTime(), nullable=True),
    sa.Index("ix_delivery_conv", "conversation_id", "id"),
    sa.Index("ix_delivery_due", "status", "next_attempt_at"),
)

MAIL_CURSOR = sa.Table(
    "mail_cursor",
    METADATA,
    sa.Column(
        "channel_id",
        sa.Integer(),
        sa.ForeignKey("gateway_channel.id"),
        primary_key=True,
        nullable=False,
    ),
    sa.Column("folder", sa.String(200), primary_key=True, nullable=False),
    sa.Column("uidvalidity", sa.BigInteger(), nullable=False, default=0),
    sa.Column("last_uid", sa.BigInteger(), nullable=False, default=0),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

MAIL_MESSAGE = sa.Table(
    "mail_message",
    METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("channel_id", sa.Integer(), sa.ForeignKey("gateway_channel.id"), nullable=False),
    sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversation.id"), nullable=False),
    sa.Column("message_id", sa.Integer(), sa.ForeignKey("message.id"), nullable=True),
    sa.Column("delivery_id", sa.Integer(), sa.ForeignKey("delivery.id"), nullable=True),
    sa.Column("mail_id", sa.String(300), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False, default="in"),
    sa.Column("subject", sa.String(1000), nullable=False, default=""),
    sa.Column("full_text", sa.Text(), nullable=False),
    sa.Column("attachments", PortableJSON(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("note", PortableJSON(), nullable=True),
    sa.Index("ix_mail_message_conv", "conversation_id", "id"),
    sa.Index("ux_mail_message_id", "channel_id", "mail_id", unique=True),
)

HANDOVER = sa.Table(
    "handover",
    METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversation.id"), nullable=False),
    sa.Column("by_agent_id", sa.Integer(), sa.ForeignKey("agent.id"), nullable=False),
    sa.Column("from_agent_id", sa.Integer(), sa.ForeignKey("agent.id"), nullable=True),
    sa.Column("to_agent_id", sa.Integer(), sa.ForeignKey("agent.id"), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index("ix_handover_conv", "conversation_id", "id"),
    sa.Index("ix_handover_from", "from_agent_id", "conversation_id"),
)

PERSONAL_PHRASE = sa.Table(
    "personal_phrase",
    METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agent.id"), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("shortcut", sa.String(32), nullable=True),
    sa.Column("lang", sa.String(8), nullable=False, default="zh"),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ux_personal_phrase_shortcut", "agent_id", "shortcut", unique=True),
)

DRAFT = sa.Table(
    "draft",
    METADATA,
    sa.Column(
        "agent_id",
        sa.Integer(),
        sa.ForeignKey("agent.id"),
        primary_key=True,
        nullable=False,
    ),
    sa.Column(
        "conversation_id",
        sa.Integer(),
        sa.ForeignKey("conversation.id"),
        primary_key=True,
        nullable=False,
    ),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

ARTICLE = sa.Table(
    "kb_article",
    METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("slug", sa.String(200), nullable=False, unique=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("category", sa.String(32), nullable=False, default="faq"),
    sa.Column("tags", PortableJSON(), nullable=True),
    sa.Column("lang", sa.String(8), nullable=False, default="zh"),
    sa.Column("search_keys", sa.Text(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

PHRASE_USE = sa.Table(
    "phrase_use",
    METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agent.id"), nullable=False),
    sa.Column("phrase_id", sa.String(200), nullable=False),
    sa.Column("used_at", UTCDateTime(), nullable=False),
    sa.Index("ix_phrase_use_agent", "agent_id", "used_at"),
)

TRAINING_SESSION = sa.Table(
    "training_session",
    METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("scenario_id", sa.String(100), nullable=False),
    sa.Column("scenario_title", sa.String(300), nullable=False, default=""),
    sa.Column("mode", sa.String(8), nullable=False, default="solo"),
    sa.Column("trainee_id", sa.Integer(), sa.ForeignKey("agent.id"), nullable=False),
    sa.Column("trainer_id", sa.Integer(), sa.ForeignKey("agent.id"), nullable=True),
    sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversation.id"), nullable=True),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("ended_at", UTCDateTime(), nullable=True),
    sa.Column("total", sa.Float(), nullable=True),
    sa.Column("max_points", sa.Float(), nullable=True),
    sa.Column("scorecard", PortableJSON(), nullable=True),
    sa.Index("ix_training_trainee", "trainee_id", "started_at"),
)

EVENT = sa.Table(
    "event",
    METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False, index=True),
    sa.Column("actor_id", sa.Integer(), sa.ForeignKey("agent.id"), nullable=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversation.id"), nullable=True),
    sa.Column("payload", PortableJSON(), nullable=True),
    sa.Index("ix_event_conv", "conversation_id", "id"),
)
