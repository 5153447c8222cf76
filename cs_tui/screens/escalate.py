"""Escalate to a supervisor: a reason is required (it starts the supervisor's 30-minute clock)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from cs_tui.i18n import _
from cs_tui.screens.modal import CsModal


class EscalateScreen(CsModal[str]):
    """Returns the reason, or None when cancelled."""

    CSS_PATH = ["modal.tcss", "escalate.tcss"]

    def __init__(self, target: str = "") -> None:
        super().__init__()
        self.target = target

    def compose(self) -> ComposeResult:
        with Vertical(classes="box") as box:
            box.border_title = self.target_title(
                _("Escalate {target} to a supervisor"), _("Escalate to a supervisor")
            )
            yield Static(_("Why does this need a supervisor? (Enter escalates)"), classes="hint")
            yield Input(placeholder=_("Reason"), id="reason", max_length=500)
            yield Static("", id="escalate-problem", classes="problem")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if not reason:
            self.query_one("#escalate-problem", Static).update(_("An escalation needs a reason."))
            return
        self.dismiss(reason)
