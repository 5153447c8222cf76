"""The SQLAlchemy Core tables the data layer writes its SQL against, each named once.

The SQLModel models (`models.py`) define the tables; `schema.py` is the same tables written out
as Core by `python -m cs_tui.data.gen_tables`, so the queries (Core statements, cheaper than ORM
sessions for the queue's windows and bulk imports) run without importing SQLModel, pydantic or
the ORM. Every data module imports the short names from here.
"""

from __future__ import annotations

from cs_tui.collector import kept_for_good

# Importing SQLAlchemy and building the tables makes tens of thousands of objects that live as
# long as the process, almost none of them garbage; left running, the cyclic garbage collector
# walked them again and again while they were being made (about a tenth of the import). So the
# collector is paused for that, and the result is frozen out of its way afterwards: later full
# collections, such as one during the workstation's first frame, skip these objects too.
with kept_for_good():
    from cs_tui.data import schema

SCHEMA_VERSION = schema.SCHEMA_VERSION
METADATA = schema.METADATA

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
