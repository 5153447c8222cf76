"""The SQLAlchemy Core tables the data layer writes its SQL against, each named once.

The models are SQLModel classes; the queries work on their `__table__` (Core statements are
cheaper than ORM sessions for the queue's windows and bulk imports). Every data module imports
the names from here instead of spelling `models.X.__table__` out again.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from cs_tui.data import models


def _table(model: type[SQLModel]) -> sa.Table:
    """The model's Core table (SQLModel builds it for `table=True` classes, untyped)."""
    return model.__table__  # type: ignore[attr-defined]


META = _table(models.SchemaMeta)
AGENT = _table(models.Agent)
CUST = _table(models.Customer)
CUST_TAG = _table(models.CustomerTag)
CHANNEL = _table(models.GatewayChannel)
CONV = _table(models.Conversation)
CONV_TAG = _table(models.ConversationTag)
MSG = _table(models.Message)
DRAFT = _table(models.Draft)
ARTICLE = _table(models.Article)
PHRASE_USE = _table(models.PhraseUse)
SESSION = _table(models.TrainingSession)
EVENT = _table(models.Event)
DELIVERY = _table(models.Delivery)

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
    DRAFT,
    ARTICLE,
    PHRASE_USE,
    SESSION,
    EVENT,
)
"""Every table, each after the tables it refers to: the order a copy writes them in."""
