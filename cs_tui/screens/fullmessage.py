"""One whole message, however long: the transcript cuts very long messages for display."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from cs_tui.data.views import MessageView
from cs_tui.i18n import _
from cs_tui.safe_text import safe
from cs_tui.screens.modal import CsModal

FULL_LIMIT = 200_000


class FullMessageScreen(CsModal[None]):
    CSS_PATH = ["modal.tcss", "fullmessage.tcss"]

    def __init__(self, message: MessageView) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="box") as box:
            box.border_title = _("Whole message ({count} characters)").format(
                count=f"{len(self.message.body):,}"
            )
            yield Static(safe(self.message.body, limit=FULL_LIMIT))

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
