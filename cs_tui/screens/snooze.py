"""Snooze until a time: a few presets, or a duration (45m, 2h, 1d) or a clock time (17:30).

A snooze hides a conversation from the queue, so it has a ceiling (the policy's maximum,
24 hours unless a team sets another): the dialog says what it is and refuses a time beyond it
before the store would.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from cs_tui.clock import Clock
from cs_tui.durations import parse_duration
from cs_tui.i18n import _
from cs_tui.safe_text import safe
from cs_tui.screens.modal import CsModal
from cs_tui.sla import SlaPolicy

PRESETS = (("15m", 15 * 60), ("1h", 3600), ("4h", 4 * 3600))
DEFAULT_MAX_SNOOZE_S = 24 * 3600.0


def max_snooze_s(policy: SlaPolicy) -> float:
    """The longest snooze the policy allows, in seconds (the store refuses longer ones)."""
    return float(policy.max_snooze)


def span_text(seconds: float) -> str:
    """A span of time the way the agent reads it: 45 s, 12 min, 2 h 5 min, 24 h, 3 d 2 h."""
    s = max(0, int(seconds))
    if s < 60:
        return _("{n} s").format(n=s)
    if s < 3600:
        return _("{n} min").format(n=s // 60)
    if s < 2 * 86400:  # "24 h", "36 h": a day and a half reads better in hours
        hours, minutes = divmod(s // 60, 60)
        if minutes == 0:
            return _("{n} h").format(n=hours)
        return _("{h} h {m} min").format(h=hours, m=minutes)
    days, hours = divmod(s // 3600, 24)
    if hours == 0:
        return _("{n} d").format(n=days)
    return _("{d} d {h} h").format(d=days, h=hours)


def parse_until(text: str, now: datetime) -> datetime | None:
    """A moment after `now` from "45m"/"2h"/"1d" or "HH:MM" (local time, today or tomorrow)."""
    # Full-width digits and colons (１７：３０) and Chinese units (2小时, 30分钟, 1天) are welcome.
    text = unicodedata.normalize("NFKC", text).strip().lower()
    for word, unit in (
        ("小时", "h"),
        ("钟头", "h"),
        ("分钟", "m"),
        ("分", "m"),
        ("天", "d"),
        ("秒", "s"),
    ):
        text = text.replace(word, unit)
    text = text.replace(" ", "")
    if not text:
        return None
    if ":" in text:
        try:
            hour, minute = (int(p) for p in text.split(":", 1))
            local_now = now.astimezone()
            when = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        except ValueError:
            return None
        if when <= local_now:
            when += timedelta(days=1)
        return when.astimezone(now.tzinfo)
    try:
        seconds = parse_duration(text)
    except ValueError:
        return None
    return now + timedelta(seconds=seconds) if seconds > 0 else None


def tomorrow_morning(now: datetime) -> datetime:
    local = now.astimezone()
    when = (local + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    return when.astimezone(now.tzinfo)


class SnoozeScreen(CsModal[datetime]):
    """Returns the moment to wake up, or None when cancelled."""

    CSS_PATH = ["modal.tcss", "snooze.tcss"]

    def __init__(self, clock: Clock, target: str = "", max_s: float = DEFAULT_MAX_SNOOZE_S) -> None:
        super().__init__()
        self.clock = clock
        self.target = target
        self.max_s = max_s

    def compose(self) -> ComposeResult:
        with Vertical(classes="box") as box:
            box.border_title = self.target_title(_("Snooze {target} until"), _("Snooze until"))
            options = [Option(_("in {d}").format(d=label), id=label) for label, _s in PRESETS]
            options.append(Option(_("tomorrow 09:00"), id="tomorrow"))
            yield OptionList(*options, id="presets")
            yield Static(
                _("Or type a duration (45m, 2h) or a time (17:30), Enter:"), classes="hint"
            )
            yield Static(
                _("At most {span} ahead.").format(span=span_text(self.max_s)),
                id="snooze-max",
                classes="hint",
            )
            yield Input(placeholder="45m / 17:30", id="until", select_on_focus=False)
            yield Static("", id="snooze-problem", classes="problem")

    def on_mount(self) -> None:
        self.query_one("#presets", OptionList).highlighted = 0
        self.query_one("#presets", OptionList).focus()

    def on_key(self, event: events.Key) -> None:
        """Typing while a preset is highlighted goes to the duration field, not nowhere."""
        char = event.character
        if (
            isinstance(self.focused, OptionList)
            and char is not None
            and char.isprintable()
            and not char.isspace()
        ):
            field = self.query_one("#until", Input)
            field.focus()
            field.insert_text_at_cursor(char)
            event.stop()
            event.prevent_default()

    @on(OptionList.OptionSelected, "#presets")
    def _preset(self, event: OptionList.OptionSelected) -> None:
        now = self.clock.now()
        if event.option.id == "tomorrow":
            self._choose(tomorrow_morning(now), now)
            return
        seconds = dict(PRESETS)[event.option.id or "15m"]
        self._choose(now + timedelta(seconds=seconds), now)

    @on(Input.Submitted, "#until")
    def _typed(self, event: Input.Submitted) -> None:
        now = self.clock.now()
        when = parse_until(event.value, now)
        if when is None:
            self._problem(_("Not a duration or a time: try 45m, 2h or 17:30."))
            return
        self._choose(when, now)

    def _choose(self, when: datetime, now: datetime) -> None:
        """Dismiss with `when`, unless it lies beyond the maximum: then say so and stay."""
        if (when - now).total_seconds() > self.max_s:
            self._problem(
                _("That is more than {span} ahead: a snooze may last at most {span}.").format(
                    span=span_text(self.max_s)
                )
            )
            return
        self.dismiss(when)

    def _problem(self, text: str) -> None:
        self.query_one("#snooze-problem", Static).update(safe(text))
