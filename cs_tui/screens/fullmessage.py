"""One whole message, however long: the transcript cuts very long messages for display.

A reply handed to a channel shows its delivery status too, and why it failed (the receiver's
words, drawn through safe_text like the message itself)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from cs_tui.data.views import MessageView
from cs_tui.i18n import _
from cs_tui.safe_text import safe
from cs_tui.screens.modal import CsModal
from cs_tui.widgets import delivery

FULL_LIMIT = 200_000


class FullMessageScreen(CsModal[None]):
    CSS_PATH = ["modal.tcss", "fullmessage.tcss"]

    def __init__(self, message: MessageView, target: str = "") -> None:
        super().__init__()
        self.message = message
        self.target = target

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="box") as box:
            count = f"{len(self.message.body):,}"
            box.border_title = safe(
                _("Whole message in {target} ({count} characters)").format(
                    target=self.target, count=count
                )
                if self.target
                else _("Whole message ({count} characters)").format(count=count),
                single_line=True,
            )
            status = self.message.delivery_status
            if status is not None:
                line = Text(_("Delivery") + ": ")
                line.append_text(delivery.status_text(status))
                if status == "failed":
                    line.append(" — ")
                    line.append_text(delivery.reason_text(self.message.delivery_error))
                yield Static(line, classes="delivery")
            yield Static(safe(self.message.body, limit=FULL_LIMIT))

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
