"""Plain, immutable objects the store hands out. No session, no lazy loading, safe in any thread."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ROLES = ("agent", "supervisor", "trainer")
# What an agent handle may be (it appears in SSH forced commands and file names).
HANDLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@dataclass(frozen=True)
class AgentInfo:
    id: int
    handle: str
    display_name: str
    role: str
    active: bool
    last_seen_at: datetime | None = None

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


@dataclass(frozen=True)
class CustomerInfo:
    id: int
    handle: str
    name: str
    tier: str
    created_at: datetime
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueueFilter:
    """What the queue pane shows. scope: all | mine | unassigned."""

    scope: str = "all"
    channel: str | None = None
    status: str | None = None
    tag: str | None = None
    text: str | None = None
    training: bool = False


@dataclass(frozen=True)
class QueueRow:
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


@dataclass(frozen=True)
class MessageView:
    id: int
    conversation_id: int
    author_kind: str
    author: str | None
    body: str
    sent_at: datetime
    external_id: str | None


@dataclass(frozen=True)
class ConversationDetail:
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


@dataclass(frozen=True)
class EventView:
    id: int
    at: datetime
    actor: str | None
    kind: str
    conversation_id: int | None
    payload: dict


@dataclass(slots=True)
class IngestRecord:
    """One validated JSONL line (see cs_tui.data.io).

    Not frozen: a frozen dataclass builds itself through object.__setattr__, which was a tenth
    of the import time at hundreds of thousands of lines."""

    message_id: str
    conversation_id: str
    channel: str
    customer: str
    author: str
    text: str
    sent_at: datetime
    customer_name: str | None = None
    agent: str | None = None
    category: str | None = None
    priority: str | None = None
    tags: tuple[str, ...] = ()
    csat: int | None = None


@dataclass
class IngestResult:
    lines: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    conversations: int = 0
    # External ids of the conversations touched, so batches add up without double counting.
    touched: set[str] = field(default_factory=set, repr=False)

    def add(self, part: IngestResult) -> None:
        self.lines += part.lines
        self.imported += part.imported
        self.duplicates += part.duplicates
        self.touched |= part.touched
        self.conversations = len(self.touched)
