"""Snooze until a time: a few presets, or a duration (45m, 2h, 1d) or a clock time (17:30)."""

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
from cs_tui.screens.modal import CsModal

PRESETS = (("15m", 15 * 60), ("1h", 3600), ("4h", 4 * 3600))


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

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def compose(self) -> ComposeResult:
        with Vertical(classes="box") as box:
            box.border_title = _("Snooze until")
            options = [Option(_("in {d}").format(d=label), id=label) for label, _s in PRESETS]
            options.append(Option(_("tomorrow 09:00"), id="tomorrow"))
            yield OptionList(*options, id="presets")
            yield Static(
                _("Or type a duration (45m, 2h) or a time (17:30), Enter:"), classes="hint"
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
            self.dismiss(tomorrow_morning(now))
            return
        seconds = dict(PRESETS)[event.option.id or "15m"]
        self.dismiss(now + timedelta(seconds=seconds))

    @on(Input.Submitted, "#until")
    def _typed(self, event: Input.Submitted) -> None:
        when = parse_until(event.value, self.clock.now())
        if when is None:
            self.query_one("#snooze-problem", Static).update(
                _("Not a duration or a time: try 45m, 2h or 17:30.")
            )
            return
        self.dismiss(when)
