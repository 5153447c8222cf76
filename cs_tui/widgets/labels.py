"""Translated names of the store's codes (channels, statuses, categories, priorities, SLA clocks).

The store keeps stable English codes; these tables turn them into interface text in the current
language. Unknown codes fall back to the code itself, made safe to draw: a code is a stored
value like any other, and an old or hand-edited store may hold anything in it.
"""

from __future__ import annotations

from cs_tui import sla
from cs_tui.i18n import N_, _
from cs_tui.safe_text import one_line

CHANNELS = {
    "chat": N_("chat"),
    "phone": N_("phone"),
    "ticket": N_("ticket"),
    "email": N_("email"),
    "social": N_("social"),
}
CHANNELS_SHORT = {
    "chat": N_("chat"),
    "phone": N_("tel"),
    "ticket": N_("tkt"),
    "email": N_("mail"),
    "social": N_("soc"),
}
"""At most four cells: the queue's channel column."""
STATUSES = {
    "new": N_("new"),
    "open": N_("open"),
    "pending": N_("pending"),
    "snoozed": N_("snoozed"),
    "escalated": N_("escalated"),
    "resolved": N_("resolved"),
    "closed": N_("closed"),
}
CATEGORIES = sla.CATEGORY_NAMES
"""Defined once, with the codes and their order, beside the SLA rules that use them."""
PRIORITIES = sla.PRIORITY_NAMES
CLOCKS = {
    "first_response": N_("first response"),
    "next_response": N_("next response"),
    "assignment": N_("assignment"),
    "resolution": N_("resolution"),
    "escalation": N_("escalation"),
    "transfer": N_("transfer"),
    "follow_up": N_("follow-up"),
}
SCOPES = {
    "mine": N_("mine"),
    "unassigned": N_("unassigned"),
    "all": N_("mine + unassigned"),
    "handed": N_("handed over"),
}
"""What each queue scope holds, as an agent sees it; see scope_label for a supervisor's "all"."""
SCOPE_ORDER = ("all", "mine", "unassigned", "handed")
TIERS = {"vip": N_("VIP"), "standard": N_("standard")}
EMOTIONS = {
    "angry": N_("angry"),
    "anxious": N_("anxious"),
    "sad": N_("sad"),
    "confused": N_("confused"),
    "happy": N_("happy"),
    "neutral": N_("calm"),
    "calm": N_("calm"),
    "satisfied": N_("satisfied"),
    "disappointed": N_("disappointed"),
    "urgent": N_("urgent"),
}


def label(table: dict[str, str], code: str | None) -> str:
    if code is None:
        return "-"
    msgid = table.get(code)
    return _(msgid) if msgid else one_line(code, limit=32)


def scope_label(scope: str, supervisor: bool) -> str:
    """A scope named by what it shows the viewer: an agent's "all" is their own work and the
    unassigned pool, a supervisor's is every queue."""
    if scope == "all" and supervisor:
        return _("all queues")
    return label(SCOPES, scope)
