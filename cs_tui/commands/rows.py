"""A queue row as the command line prints it in JSON (`queue`, `take`, `claim`, `assign`).

One definition, so a script reading one command's output reads the others' the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cs_tui.data.views import QueueRow


def seconds_left(row: QueueRow, now: datetime) -> float | None:
    """Seconds until the row's SLA deadline (negative: overdue); None without a deadline."""
    return (row.due_at - now).total_seconds() if row.due_at else None


def row_json(row: QueueRow, now: datetime) -> dict[str, Any]:
    remaining = seconds_left(row, now)
    return {
        "conversation_id": row.external_id,
        "channel": row.channel,
        "category": row.category,
        "priority": row.priority,
        "status": row.status,
        "customer": row.customer_handle,
        "customer_name": row.customer_name,
        "assignee": row.assignee,
        "sla_clock": row.sla_clock,
        "due_at": row.due_at.isoformat() if row.due_at else None,
        "remaining_s": round(remaining, 3) if remaining is not None else None,
        "tags": list(row.tags),
        "preview": row.preview,
    }
