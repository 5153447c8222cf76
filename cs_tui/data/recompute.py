"""Stored deadlines follow the SLA policy: when the policy or a calendar changes, recompute them.

The store keeps each conversation's deadline (`due_at` and the columns `slarow.sla_columns`
derives with it), computed when the conversation last changed. A team that edits its policy
(a target, a calendar's hours, this year's holidays) expects every waiting conversation to be due
by the new rules, not only those touched since. So the store remembers a fingerprint of the
policy its deadlines were computed with (`schema_meta`, key `sla_policy`); a process that opens
the store with a different policy recomputes every running clock once, in one write transaction.

- Which rows: those with a running clock (`sla_clock` set). Whether a clock runs never depends on
  the policy (`sla.running_clock`), only when it is due, so the other rows cannot change.
- One pass in id order, a batch of rows at a time; only rows whose columns change are written,
  through a temporary table and one `UPDATE ... FROM` (set-based, the same on both backends).
- Two processes starting at once: the first to take the write lock (BEGIN IMMEDIATE on SQLite,
  a row lock on the schema version in PostgreSQL) recomputes; the second then reads the new
  fingerprint inside its own transaction and does nothing.
- Two processes configured with *different* policies would recompute at each other's start:
  the fingerprint is the store's, and the team should share one policy file.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cs_tui.data.coltypes import UTCDateTime
from cs_tui.data.slarow import sla_columns
from cs_tui.data.tables import CONV, META

if TYPE_CHECKING:
    from cs_tui.calendars import Calendar
    from cs_tui.data.db import Engines
    from cs_tui.sla import SlaPolicy

FINGERPRINT_KEY = "sla_policy"
RULES_VERSION = 1
"""Bumped when the engine's way of computing a deadline changes, so stores recompute."""
BATCH = 5000

_FACT_COLUMNS = (
    "id",
    "channel",
    "category",
    "priority",
    "status",
    "created_at",
    "assignee_id",
    "assigned_at",
    "first_customer_at",
    "last_customer_at",
    "first_agent_at",
    "last_agent_at",
    "escalated_at",
    "transfer_requested_at",
    "resolved_at",
    "followed_up_at",
    "snooze_until",
    "pauses",
    "undelivered_at",
)
_OUT_COLUMNS = (
    "sla_clock",
    "sla_started_at",
    "due_at",
    "sla_target_s",
    "urgency_at",
    "active",
    "hidden_until",
)

_TMP = sa.Table(
    "cs_tui_sla_recompute",
    sa.MetaData(),
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("sla_clock", sa.String(16)),
    sa.Column("sla_started_at", UTCDateTime()),
    sa.Column("due_at", UTCDateTime()),
    sa.Column("sla_target_s", sa.Float()),
    sa.Column("urgency_at", UTCDateTime()),
    sa.Column("active", sa.Boolean()),
    sa.Column("hidden_until", UTCDateTime()),
    prefixes=["TEMPORARY"],
)


def _calendar_doc(calendar: Calendar) -> dict[str, Any]:
    return {
        "timezone": calendar.timezone,
        "week": [list(map(list, day)) for day in calendar.week],
        "holidays": sorted(d.isoformat() for d in calendar.holidays),
        "workdays": sorted(d.isoformat() for d in calendar.workdays),
        "workday_hours": [list(r) for r in calendar.workday_hours],
    }


def policy_fingerprint(policy: SlaPolicy) -> str:
    """A digest of everything in the policy that a stored deadline depends on (not its file
    name: the same rules in another file keep the deadlines)."""
    doc = {
        "rules": RULES_VERSION,
        "targets": policy.targets,
        "channels": policy.channels,
        "categories": policy.categories,
        "priorities": policy.priorities,
        "overrides": [
            [o.channel, o.category, o.priority, o.targets, o.calendar] for o in policy.overrides
        ],
        "warning_ratio": policy.warning_ratio,
        "calendars": {name: _calendar_doc(c) for name, c in policy.calendars.items()},
        "calendar_rules": policy.calendar_rules,
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _stored_fingerprint(conn: Connection) -> str | None:
    return conn.execute(
        sa.select(META.c.value).where(META.c.key == FINGERPRINT_KEY)
    ).scalar_one_or_none()


def ensure_deadlines(engines: Engines, policy: SlaPolicy) -> int | None:
    """Recompute the running clocks' deadlines if the store's were computed with another policy.

    Returns how many conversations changed, or None when the deadlines already followed this
    policy (the usual start: one read of one row)."""
    fingerprint = policy_fingerprint(policy)
    with engines.read.connect() as conn:
        if _stored_fingerprint(conn) == fingerprint:
            return None
    with engines.write.begin() as conn:
        if engines.dialect == "postgresql":
            conn.execute(
                sa.select(META.c.key).where(META.c.key == "schema_version").with_for_update()
            )
        stored = _stored_fingerprint(conn)
        if stored == fingerprint:
            return None  # another process has just done it
        changed = recompute(conn, policy)
        if stored is None:
            conn.execute(sa.insert(META).values(key=FINGERPRINT_KEY, value=fingerprint))
        else:
            conn.execute(
                sa.update(META).where(META.c.key == FINGERPRINT_KEY).values(value=fingerprint)
            )
        return changed


def recompute(conn: Connection, policy: SlaPolicy) -> int:
    """Recompute every running clock in the transaction of `conn`; return the rows changed."""
    columns = [CONV.c[name] for name in _FACT_COLUMNS + _OUT_COLUMNS]
    _TMP.create(conn)  # on failure the transaction's rollback takes it away again
    changed = 0
    last_id = 0
    while True:
        rows = (
            conn.execute(
                sa.select(*columns)
                .where(CONV.c.sla_clock.is_not(None), CONV.c.id > last_id)
                .order_by(CONV.c.id)
                .limit(BATCH)
            )
            .mappings()
            .all()
        )
        if not rows:
            break
        last_id = rows[-1]["id"]
        updates = []
        for row in rows:
            new = sla_columns(policy, dict(row))
            if any(new[name] != row[name] for name in _OUT_COLUMNS):
                new["id"] = row["id"]
                updates.append(new)
        if updates:
            conn.execute(sa.insert(_TMP), updates)
            changed += len(updates)
    if changed:
        conn.execute(
            sa.update(CONV)
            .where(CONV.c.id == _TMP.c.id)
            .values({name: _TMP.c[name] for name in _OUT_COLUMNS})
        )
    _TMP.drop(conn)
    return changed
