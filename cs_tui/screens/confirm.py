"""A yes/no question, e.g. "send anyway?" when the draft has language findings."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from cs_tui.i18n import N_, _
from cs_tui.safe_text import safe
from cs_tui.screens.modal import CsModal


class ConfirmScreen(CsModal[bool]):
    """Returns True for yes, False (or None when cancelled) for no."""

    CSS_PATH = ["modal.tcss", "confirm.tcss"]
    BINDINGS = [
        Binding("y,enter", "answer(True)", N_("Yes"), id="confirm.yes"),
        Binding("n", "answer(False)", N_("No"), id="confirm.no"),
    ]

    def __init__(self, title: str, body: Text, yes: str, no: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical(classes="box") as box:
            box.border_title = safe(self.title_text, single_line=True)
            yield Static(self.body, id="confirm-body")
            yield Static(
                Text(f"[y/Enter] {self.yes}    [n/Esc] {self.no}", style="bold"),
                classes="hint",
            )

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


def send_anyway_title() -> str:
    return _("This reply may break the language standards")
