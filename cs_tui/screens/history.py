"""The customer's conversations on every channel, newest first; Enter opens one.

Another agent's conversation is listed for a plain agent only as a summary (date, channel,
status, category, whose it is): its messages and private notes are that agent's and their
supervisor's. The store already leaves them out of what it hands an agent (`customer_history`
with a viewer); the screen applies the same rule (views.sees_in_full) so a summary row shows no
preview and does not open, whoever fetched the rows.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from cs_tui.clock import Clock
from cs_tui.data.views import AgentInfo, QueueRow, sees_in_full
from cs_tui.i18n import _
from cs_tui.safe_text import clean, safe
from cs_tui.screens.modal import CsModal
from cs_tui.widgets import labels
from cs_tui.widgets.message_view import local_time


class HistoryScreen(CsModal[int]):
    """Returns the conversation id to open, or None when cancelled."""

    CSS_PATH = ["modal.tcss", "history.tcss"]

    def __init__(
        self,
        current: QueueRow,
        rows: list[QueueRow],
        clock: Clock,
        viewer: AgentInfo,
    ) -> None:
        super().__init__()
        self.current = current
        self.rows = rows
        self.clock = clock
        self.viewer = viewer
        self._by_id = {row.id: row for row in rows}

    def on_mount(self) -> None:
        for listing in self.query("#history").results(OptionList):
            listing.highlighted = 0
            listing.focus()

    def summary_only(self, row: QueueRow) -> bool:
        return not sees_in_full(self.viewer, row.assignee)

    def compose(self) -> ComposeResult:
        with Vertical(classes="box") as box:
            title = Text(_("Conversations of") + " ")
            title.append_text(safe(self.current.customer_name, single_line=True, limit=40))
            box.border_title = title  # a Text: drawn literally, never parsed as markup
            options = [Option(self._line(row), id=str(row.id)) for row in self.rows]
            if options:
                yield OptionList(*options, id="history")
            else:
                yield Static(_("No other conversations."), classes="hint")
            yield Static(_("Enter opens · Esc closes"), classes="hint")

    def _line(self, row: QueueRow) -> Text:
        line = Text()
        when = row.last_message_at or row.updated_at
        line.append(local_time(when, self.clock.now()) + " ", style="dim")
        line.append(labels.label(labels.CHANNELS, row.channel) + " ", style="bold")
        line.append(labels.label(labels.STATUSES, row.status) + " ")
        line.append(labels.label(labels.CATEGORIES, row.category) + " ", style="dim")
        if self.summary_only(row):
            owner = clean(row.assignee or "", single_line=True)[:24]
            line.append(_("summary only: handled by {agent}").format(agent=owner), style="italic")
        else:
            line.append_text(safe(row.preview, single_line=True, limit=80))
        if row.id == self.current.id:
            line.append(" " + _("(this one)"), style="dim italic")
        return line

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        row = self._by_id.get(int(event.option.id or 0))
        if row is None:
            return
        if self.summary_only(row):
            owner = clean(row.assignee or "", single_line=True)[:24]
            self.notify(
                _(
                    "Only a summary: this conversation is {agent}'s; ask them or a supervisor."
                ).format(agent=owner),
                markup=False,
                severity="warning",
            )
            return
        self.dismiss(row.id)
