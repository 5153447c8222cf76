"""The customer's conversations on every channel, newest first; Enter opens one."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from cs_tui.clock import Clock
from cs_tui.data.views import QueueRow
from cs_tui.i18n import _
from cs_tui.safe_text import safe
from cs_tui.screens.modal import CsModal
from cs_tui.widgets import labels
from cs_tui.widgets.message_view import local_time


class HistoryScreen(CsModal[int]):
    """Returns the conversation id to open, or None when cancelled."""

    CSS_PATH = ["modal.tcss", "history.tcss"]

    def __init__(self, current: QueueRow, rows: list[QueueRow], clock: Clock) -> None:
        super().__init__()
        self.current = current
        self.rows = rows
        self.clock = clock

    def compose(self) -> ComposeResult:
        now = self.clock.now()
        with Vertical(classes="box") as box:
            title = Text(_("Conversations of") + " ")
            title.append_text(safe(self.current.customer_name, single_line=True, limit=40))
            box.border_title = title  # a Text: drawn literally, never parsed as markup
            options = []
            for row in self.rows:
                line = Text()
                when = row.last_message_at or row.updated_at
                line.append(local_time(when, now) + " ", style="dim")
                line.append(labels.label(labels.CHANNELS, row.channel) + " ", style="bold")
                line.append(labels.label(labels.STATUSES, row.status) + " ")
                line.append(labels.label(labels.CATEGORIES, row.category) + " ", style="dim")
                line.append_text(safe(row.preview, single_line=True, limit=80))
                if row.id == self.current.id:
                    line.append(" " + _("(this one)"), style="dim italic")
                options.append(Option(line, id=str(row.id)))
            if options:
                yield OptionList(*options, id="history")
            else:
                yield Static(_("No other conversations."), classes="hint")
            yield Static(_("Enter opens · Esc closes"), classes="hint")

    def on_mount(self) -> None:
        for listing in self.query("#history").results(OptionList):
            listing.highlighted = 0
            listing.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0) or None)
