"""The SQLAlchemy Core tables the data layer writes its SQL against, each named once.

The SQLModel models (`models.py`) define the tables; `schema.py` is the same tables written out
as Core by `python -m cs_tui.data.gen_tables`, so the queries (Core statements, cheaper than ORM
sessions for the queue's windows and bulk imports) run without importing SQLModel, pydantic or
the ORM. Every data module imports the short names from here.
"""

from __future__ import annotations

from cs_tui.data import schema

META = schema.SCHEMA_META
AGENT = schema.AGENT
CUST = schema.CUSTOMER
CUST_TAG = schema.CUSTOMER_TAG
CHANNEL = schema.GATEWAY_CHANNEL
CONV = schema.CONVERSATION
CONV_TAG = schema.CONVERSATION_TAG
MSG = schema.MESSAGE
DRAFT = schema.DRAFT
ARTICLE = schema.ARTICLE
PHRASE_USE = schema.PHRASE_USE
SESSION = schema.TRAINING_SESSION
EVENT = schema.EVENT
DELIVERY = schema.DELIVERY
MAIL_CURSOR = schema.MAIL_CURSOR
MAIL_MESSAGE = schema.MAIL_MESSAGE
HANDOVER = schema.HANDOVER
PERSONAL_PHRASE = schema.PERSONAL_PHRASE

TABLE_ORDER = (
    META,
    AGENT,
    CUST,
    CUST_TAG,
    CHANNEL,
    CONV,
    CONV_TAG,
    MSG,
    DELIVERY,
    MAIL_CURSOR,
    MAIL_MESSAGE,
    HANDOVER,
    DRAFT,
    ARTICLE,
    PHRASE_USE,
    PERSONAL_PHRASE,
    SESSION,
    EVENT,
)
"""Every table, each after the tables it refers to: the order a copy writes them in."""
