"""When a web chat reply stops waiting for its visitor, and how the reason reads.

A reply in a web conversation is pushed to the visitor's page by `cs-tui serve`; a visitor who
closed the tab and never comes back would leave it `queued` for ever, and the agent would not know
to reach the customer another way. So `serve` fails such a delivery once it has waited the web
give-up time (`serve --web-give-up`, by default the webhooks' `--give-up`, 24 h) since the reply
(or since the agent asked to send it again). Failing it marks the conversation undelivered, as
for any channel: it tops its owner's queue with the ✗ mark.

The reason is stored in English, like every delivery reason (the CLI and the API show it as it
is); the workstation recognises this one and says it in the agent's language.
"""

from __future__ import annotations

import re

_UNITS = ((86400, "d"), (3600, "h"), (60, "min"))
_REASON = re.compile(r"visitor did not return within (\d+) (d|h|min|s)\Z")
_SECONDS = {"d": 86400, "h": 3600, "min": 60, "s": 1}


def span(seconds: float) -> tuple[int, str]:
    """The give-up time in its largest whole unit, days from two on: (24, "h"), (2, "d"),
    (90, "min"), (45, "s")."""
    whole = max(1, round(seconds))
    for size, unit in _UNITS:
        if whole % size == 0 and whole // size >= (2 if unit == "d" else 1):
            return whole // size, unit
    return whole, "s"


def give_up_reason(seconds: float) -> str:
    """The stored reason: "visitor did not return within 24 h"."""
    count, unit = span(seconds)
    return f"visitor did not return within {count} {unit}"


def reason_seconds(reason: str | None) -> int | None:
    """The give-up time a stored reason names, or None when it is another reason."""
    found = _REASON.match(reason or "")
    if found is None:
        return None
    return int(found.group(1)) * _SECONDS[found.group(2)]
