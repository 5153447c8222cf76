"""A question before something that cannot be taken back: send anyway, resolve or snooze while
the customer waits, claim and send.

Enter is always the safe answer (no: back to editing, nothing changes), as are `n` and Escape.
Going ahead takes a key that is never pressed by accident while typing: `y` or ctrl+s (or `c`
for claim and send). An Enter pressed twice, or one meant for the composer, changes nothing.
"""

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
    """Returns True only for the explicit yes key; False (or None when cancelled) otherwise.

    With `yes=None` the dialog offers only the safe answer (a reply with an unfilled blank is
    never sent): the yes keys then say why instead of doing nothing.
    """

    CSS_PATH = ["modal.tcss", "confirm.tcss"]
    BINDINGS = [
        Binding("y,ctrl+s", "answer(True)", N_("Yes"), id="confirm.yes"),
        Binding("enter,n", "answer(False)", N_("No"), id="confirm.no"),
    ]
    YES_KEYS = "y/ctrl+s"
    NO_KEYS = "Enter/n/Esc"

    def __init__(
        self, title: str, body: Text, yes: str | None, no: str, *, refused: str = ""
    ) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.yes = yes
        self.no = no
        self.refused = refused

    def compose(self) -> ComposeResult:
        with Vertical(classes="box") as box:
            box.border_title = safe(self.title_text, single_line=True)
            yield Static(self.body, id="confirm-body")
            hint = Text(style="bold")
            if self.yes is not None:
                hint.append(f"[{self.YES_KEYS}] {self.yes}    ")
            hint.append(f"[{self.NO_KEYS}] {self.no}")
            yield Static(hint, classes="hint")
            yield Static("", id="confirm-problem", classes="problem")

    def action_answer(self, value: bool) -> None:
        if value and self.yes is None:
            self.query_one("#confirm-problem", Static).update(
                Text(self.refused or _("This cannot go ahead as it is."))
            )
            return
        self.dismiss(value)


class ClaimAndSendScreen(ConfirmScreen):
    """A reply typed in a conversation nobody has claimed: `c` claims it and sends the reply;
    Enter, `n` or Escape go back to the draft."""

    INHERIT_BINDINGS = False
    BINDINGS = [
        Binding("escape,ctrl+g", "cancel", N_("Cancel"), id="modal.cancel"),
        Binding("c", "answer(True)", N_("Claim and send"), id="confirm.claim_send"),
        Binding("enter,n", "answer(False)", N_("No"), id="confirm.no"),
    ]
    YES_KEYS = "c"


def send_anyway_title(target: str) -> str:
    return _("The reply to {target} may break the language standards").format(target=target)


def blank_title(target: str) -> str:
    return _("The reply to {target} still has a blank to fill in").format(target=target)
