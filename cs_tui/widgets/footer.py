"""Textual's Footer with the binding descriptions translated at display time, help and quit first.

Binding descriptions are message ids (marked with N_) so the footer follows a language switch;
the command palette's own key ("palette", Textual's word) is translated here too.

Textual lists the focused widget's keys first and the app's last, so at 80 columns the footer
was cut before F1 and ctrl+q: the two keys a lost agent needs come first instead.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from cs_tui.i18n import N_, _

FIRST_ACTIONS = ("help", "app.help", "quit", "app.quit")
"""Shown before every other key, in this order."""
PALETTE = N_("palette")
"""The command palette key's description (Textual's own is English)."""


def _rank(widget: Widget) -> int:
    action = getattr(widget, "action", None)
    return FIRST_ACTIONS.index(action) if action in FIRST_ACTIONS else len(FIRST_ACTIONS)


class CsFooter(Footer):
    def compose(self) -> ComposeResult:
        widgets = []
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.has_class("-command-palette"):
                widget.description = _(PALETTE)
            elif isinstance(widget, FooterKey) and widget.description:
                widget.description = _(widget.description)
            tooltip = getattr(widget, "tooltip", None)
            if isinstance(tooltip, str) and tooltip:
                widget.tooltip = _(tooltip)
            widgets.append(widget)
        # sorted() is stable: every other key keeps Textual's order.
        yield from sorted(widgets, key=_rank)
