"""How an SLA countdown looks: text, colour and a symbol, so it reads without colour too.

Computed from a deadline and the clock at render time; nothing here touches the store.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from rich.style import Style

from cs_tui.calendars import Calendar, next_opening
from cs_tui.durations import format_countdown
from cs_tui.i18n import N_, _
from cs_tui.sla import SlaPolicy, SlaState

# ASCII symbols: East Asian terminals draw most pictographs two cells wide, which breaks columns.
SYMBOLS = {
    SlaState.BREACHED: "!",
    SlaState.WARNING: "~",
    SlaState.OK: " ",
    SlaState.PAUSED: "=",
    SlaState.WAITING: "=",
    SlaState.NONE: "-",
}
WORDS = {
    SlaState.BREACHED: N_("breached"),
    SlaState.WARNING: N_("due soon"),
    SlaState.OK: N_("on time"),
    SlaState.PAUSED: N_("paused"),
    SlaState.WAITING: N_("waiting for service hours"),
    SlaState.NONE: N_("no clock"),
}
STYLES = {
    SlaState.BREACHED: Style(color="bright_white", bgcolor="red", bold=True),
    SlaState.WARNING: Style(color="black", bgcolor="yellow", bold=True),
    SlaState.OK: Style(color="green"),
    SlaState.PAUSED: Style(color="cyan", dim=True),
    SlaState.WAITING: Style(),
    SlaState.NONE: Style(dim=True),
}
PAUSED_STATUSES = frozenset({"pending", "snoozed"})


def sla_state(
    policy: SlaPolicy,
    due_at: datetime | None,
    target_s: float | None,
    status: str,
    now: datetime,
    calendar: Calendar | None = None,
) -> tuple[SlaState, float | None]:
    """The state of a row's running clock and the seconds left (negative once breached).

    On a calendar, "due soon" counts the open time left, and a clock that is not breached
    while the calendar is closed is WAITING (`clock_badge` says when it resumes)."""
    if status in PAUSED_STATUSES and (due_at is None or status == "pending"):
        return SlaState.PAUSED, None
    if due_at is None or target_s is None:
        return SlaState.NONE, None
    remaining = (due_at - now).total_seconds()
    if status == "snoozed":
        return SlaState.PAUSED, remaining
    state = policy.clock_state(due_at, target_s, now, calendar)
    waiting = calendar is not None and next_opening(calendar, now) is not None
    if waiting and state is not SlaState.BREACHED:
        return SlaState.WAITING, remaining
    return state, remaining


class ClockRow(Protocol):
    """What a badge reads of a conversation (a QueueRow has it)."""

    @property
    def due_at(self) -> datetime | None: ...
    @property
    def sla_target_s(self) -> float | None: ...
    @property
    def status(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def priority(self) -> str: ...


def clock_badge(policy: SlaPolicy, row: ClockRow, now: datetime) -> tuple[SlaState, str]:
    """A row's clock as drawn: its state and the countdown, or for a clock waiting for
    service hours the time it resumes ("Mon 09:00" / "09:00周一", in the calendar's zone)."""
    calendar = None
    if row.due_at is not None:
        calendar = policy.calendar_for(row.channel, row.category, row.priority)
    state, remaining = sla_state(policy, row.due_at, row.sla_target_s, row.status, now, calendar)
    if state is SlaState.WAITING and calendar is not None:
        return state, resume_text(calendar, now)
    return state, countdown_text(state, remaining)


WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


def resume_text(calendar: Calendar, now: datetime) -> str:
    """When a waiting clock resumes, in nine cells at most: the weekday and time within the
    coming six days, else the date ("10-09")."""
    opening = next_opening(calendar, now)
    if opening is None:
        return ""
    local = opening.astimezone(calendar.zone)
    if opening - now >= timedelta(days=6):
        return local.strftime("%m-%d")
    day = _(WEEKDAYS[local.weekday()])
    return _("{day} {time}").format(day=day, time=local.strftime("%H:%M"))


def countdown_text(state: SlaState, remaining: float | None) -> str:
    if state is SlaState.PAUSED:
        return _("paused")
    if remaining is None:
        return ""
    return format_countdown(remaining)


def state_word(state: SlaState) -> str:
    return _(WORDS[state])
