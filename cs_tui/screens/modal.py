"""Shared base for the small modal screens: a centred box, Escape or ctrl+g to cancel.

Each modal is typed by what it returns through `dismiss` (None means cancelled), and the screen
that pushed it gets focus back where it was. A modal about one conversation names it in its
title (`target_label`), so the agent always sees which conversation a key will change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual.app import CSSPathType
from textual.binding import Binding
from textual.screen import ModalScreen

from cs_tui.i18n import N_
from cs_tui.safe_text import one_line, safe

if TYPE_CHECKING:
    from rich.text import Text

T = TypeVar("T")

DIALOG_GROUP = "dialog"
"""The worker group of flows that await a modal (`push_screen_wait`): such a worker runs until
the agent answers, so whatever waits for workers to finish leaves this group out."""


def target_label(external_id: str, customer_name: str) -> str:
    """A conversation as a dialog names it: its external id and the customer, both sanitised
    (both come from outside: an id may hold escape codes) and cut to fit a title."""
    ext, name = one_line(external_id, limit=32), one_line(customer_name, limit=20)
    return f"{ext} ({name})" if name else ext


class CsModal(ModalScreen[T]):
    CSS_PATH: ClassVar[CSSPathType | None] = "modal.tcss"
    BINDINGS = [
        # Escape arrives late over SSH; ctrl+g cancels at once (as in Emacs and readline).
        Binding("escape,ctrl+g", "cancel", N_("Cancel"), id="modal.cancel"),
    ]

    target = ""
    """The conversation the modal is about (`target_label`); "" when it names none."""

    def target_title(self, named: str, unnamed: str, **values: object) -> Text:
        """The box's title: `named` (a text with {target}) when the modal names a conversation,
        else `unnamed`; both formatted with `values`, made safe and kept to one line."""
        if self.target:
            text = named.format(target=self.target, **values)
        else:
            text = unnamed.format(**values) if values else unnamed
        return safe(text, single_line=True)

    def action_cancel(self) -> None:
        self.dismiss(None)
