"""Shared base for the small modal screens: a centred box, Escape or ctrl+g to cancel.

Each modal is typed by what it returns through `dismiss` (None means cancelled), and the screen
that pushed it gets focus back where it was.
"""

from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.screen import ModalScreen

from cs_tui.i18n import N_

T = TypeVar("T")


class CsModal(ModalScreen[T]):
    CSS_PATH = "modal.tcss"
    BINDINGS = [
        # Escape arrives late over SSH; ctrl+g cancels at once (as in Emacs and readline).
        Binding("escape,ctrl+g", "cancel", N_("Cancel"), id="modal.cancel"),
    ]

    def action_cancel(self) -> None:
        self.dismiss(None)
