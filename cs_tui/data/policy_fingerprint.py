"""Which SLA policy the store's deadlines were computed with, as one digest.

Kept apart from the recompute (`recompute.py`) so that the workstation's first look at a store
(`first_look.py`) can tell, before SQLAlchemy is loaded, whether the store's deadlines follow
the policy it runs with.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cs_tui.calendars import Calendar
    from cs_tui.sla import SlaPolicy

FINGERPRINT_KEY = "sla_policy"
RULES_VERSION = 2
"""Bumped when the way a stored column is computed changes, so stores recompute (2: a
follow-up on a calendar enters the queue when its warning window of open time begins)."""


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
