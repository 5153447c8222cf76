"""Store: every read and write the app makes, with permission checks and audit events.

One Store per process. Reads run in deferred transactions, writes in BEGIN IMMEDIATE (SQLite) or
with row locks (PostgreSQL); every write appends its event row in the same transaction, so the
change feed and the audit trail can never disagree with the data.
"""

from __future__ import annotations

from typing import Any

from cs_tui.clock import Clock, SystemClock
from cs_tui.data.actions import ActionsMixin
from cs_tui.data.agents import AgentsMixin
from cs_tui.data.channels_store import ChannelsMixin
from cs_tui.data.db import describe, make_engines, prepare_schema
from cs_tui.data.errors import InvalidInput, NotAllowed, NotFound, StoreError, StoreUnavailable
from cs_tui.data.ingest import IngestMixin
from cs_tui.data.kb_store import KnowledgeStore
from cs_tui.data.kpi_queries import KpiQueriesMixin
from cs_tui.data.mail_store import MailMixin
from cs_tui.data.outbox import OutboxMixin
from cs_tui.data.phrases_store import PersonalPhrasesMixin
from cs_tui.data.queries import QueriesMixin
from cs_tui.data.training_store import TrainingStoreMixin
from cs_tui.data.webchat_store import WebChatMixin
from cs_tui.sla import SlaPolicy, default_policy

__all__ = ["Store", "StoreError", "NotAllowed", "NotFound", "InvalidInput", "StoreUnavailable"]


class Store(
    MailMixin,
    WebChatMixin,
    ChannelsMixin,
    OutboxMixin,
    TrainingStoreMixin,
    ActionsMixin,
    QueriesMixin,
    IngestMixin,
    AgentsMixin,
    KpiQueriesMixin,
    KnowledgeStore,
    PersonalPhrasesMixin,
):
    """Every read and write of the app; the mixins share StoreCore (connections, clock, policy)."""

    @classmethod
    def open(
        cls,
        target: str,
        *,
        clock: Clock | None = None,
        policy: SlaPolicy | None = None,
        create: bool = True,
    ) -> Store:
        engines = make_engines(target, create_dir=create)
        policy = policy or default_policy()
        clock = clock or SystemClock()
        try:
            prepare_schema(engines, policy, clock)
        except Exception:
            engines.dispose()
            raise
        return cls(engines, clock, policy)

    @property
    def location(self) -> str:
        """The store as a person reads it: a file path, or a server URL without password."""
        return describe(self._engines.url)

    def dispose(self) -> None:
        """Let go of the store's connections. Not `close`: that is the conversation action
        (ActionsMixin.close), which a method of that name here would hide."""
        self._engines.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.dispose()
