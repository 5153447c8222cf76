"""How an SLA countdown looks: text, colour and a symbol, so it reads without colour too.

Computed from a deadline and the clock at render time; nothing here touches the store.
"""

from __future__ import annotations

from datetime import datetime

from rich.style import Style

from cs_tui.durations import format_countdown
from cs_tui.i18n import N_, _
from cs_tui.sla import SlaPolicy, SlaState

# ASCII symbols: East Asian terminals draw most pictographs two cells wide, which breaks columns.
SYMBOLS = {
    SlaState.BREACHED: "!",
    SlaState.WARNING: "~",
    SlaState.OK: " ",
    SlaState.PAUSED: "=",
    SlaState.NONE: "-",
}
WORDS = {
    SlaState.BREACHED: N_("breached"),
    SlaState.WARNING: N_("due soon"),
    SlaState.OK: N_("on time"),
    SlaState.PAUSED: N_("paused"),
    SlaState.NONE: N_("no clock"),
}
STYLES = {
    SlaState.BREACHED: Style(color="bright_white", bgcolor="red", bold=True),
    SlaState.WARNING: Style(color="black", bgcolor="yellow", bold=True),
    SlaState.OK: Style(color="green"),
    SlaState.PAUSED: Style(color="cyan", dim=True),
    SlaState.NONE: Style(dim=True),
}
PAUSED_STATUSES = frozenset({"pending", "snoozed"})


def sla_state(
    policy: SlaPolicy,
    due_at: datetime | None,
    target_s: float | None,
    status: str,
    now: datetime,
) -> tuple[SlaState, float | None]:
    """The state of a row's running clock and the seconds left (negative once breached)."""
    if status in PAUSED_STATUSES and (due_at is None or status == "pending"):
        return SlaState.PAUSED, None
    if due_at is None or target_s is None:
        return SlaState.NONE, None
    remaining = (due_at - now).total_seconds()
    if status == "snoozed":
        return SlaState.PAUSED, remaining
    return policy.state(remaining, target_s), remaining


def countdown_text(state: SlaState, remaining: float | None) -> str:
    if state is SlaState.PAUSED:
        return _("paused")
    if remaining is None:
        return ""
    return format_countdown(remaining)


def state_word(state: SlaState) -> str:
    return _(WORDS[state])
