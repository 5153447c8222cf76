"""Bridges conversation rows and the pure SLA engine: facts in, deadline columns out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from cs_tui.calendars import add_open_time, open_seconds
from cs_tui.data.coltypes import FAR_FUTURE
from cs_tui.sla import ConversationFacts, SlaClock, SlaPolicy, deadline


def _parse(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _start(value: Any) -> datetime:
    parsed = _parse(value)
    if parsed is None:
        raise ValueError("a stored SLA pause has no start")
    return parsed


def facts_from_row(row: Mapping[Any, Any]) -> ConversationFacts:
    pauses = tuple((_start(start), _parse(end)) for start, end in (row.get("pauses") or []))
    return ConversationFacts(
        channel=row["channel"],
        category=row["category"],
        priority=row["priority"],
        status=row["status"],
        created_at=row["created_at"],
        assigned=row.get("assignee_id") is not None,
        assigned_at=row.get("assigned_at"),
        first_customer_at=row.get("first_customer_at"),
        last_customer_at=row.get("last_customer_at"),
        first_agent_at=row.get("first_agent_at"),
        last_agent_at=row.get("last_agent_at"),
        escalated_at=row.get("escalated_at"),
        transfer_requested_at=row.get("transfer_requested_at"),
        resolved_at=row.get("resolved_at"),
        followed_up_at=row.get("followed_up_at"),
        snooze_until=row.get("snooze_until"),
        pauses=pauses,
    )


# An undelivered conversation sorts before every deadline: its urgency key is the failure's
# time moved back this far (earliest failure first among them), on both backends.
# The stored columns that sla_columns computes, in one order for every writer of them (an
# import folding rows, the recompute after a policy change).
SLA_COLUMNS = (
    "sla_clock",
    "sla_started_at",
    "due_at",
    "sla_target_s",
    "urgency_at",
    "active",
    "hidden_until",
)
UNDELIVERED_SHIFT = timedelta(days=365_000)


def sla_columns(policy: SlaPolicy, row: Mapping[str, Any]) -> dict[str, Any]:
    """The stored SLA columns for a conversation in the state `row` describes.

    A reply that could not be delivered (`undelivered_at`) puts the conversation on top of
    its owner's queue, shown, whatever its status, until the delivery is retried or settled."""
    columns = _deadline_columns(policy, row)
    undelivered = row.get("undelivered_at")
    if undelivered is not None:
        columns["urgency_at"] = undelivered - UNDELIVERED_SHIFT
        columns["active"] = True
        columns["hidden_until"] = None
    return columns


def _deadline_columns(policy: SlaPolicy, row: Mapping[str, Any]) -> dict[str, Any]:
    d = deadline(policy, facts_from_row(row))
    status = row["status"]
    hidden_until = None
    if status == "snoozed":
        hidden_until = row.get("snooze_until")
    if d is None:
        return {
            "sla_clock": None,
            "sla_started_at": None,
            "due_at": None,
            "sla_target_s": None,
            "urgency_at": FAR_FUTURE,
            "active": status not in ("resolved", "closed"),
            "hidden_until": hidden_until,
        }
    if d.clock is SlaClock.FOLLOW_UP and d.due_at is not None:
        # A follow-up enters the queue when its warning window opens, so it can be done in time:
        # on a calendar, the instant when that much open time is left before the deadline.
        window = d.target_s * policy.warning_ratio
        calendar = policy.calendars.get(d.calendar_name) if d.calendar_name else None
        if calendar is None:
            hidden_until = d.due_at - timedelta(seconds=window)
        else:
            total = open_seconds(calendar, d.started_at, d.due_at)
            hidden_until = add_open_time(calendar, d.started_at, max(0.0, total - window))
    return {
        "sla_clock": d.clock.value,
        "sla_started_at": d.started_at,
        "due_at": d.due_at,
        "sla_target_s": d.target_s,
        "urgency_at": d.due_at or FAR_FUTURE,
        "active": status not in ("resolved", "closed") or d.clock is SlaClock.FOLLOW_UP,
        "hidden_until": hidden_until,
    }


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
