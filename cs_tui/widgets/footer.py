"""Textual's Footer with the binding descriptions translated at display time.

Binding descriptions are message ids (marked with N_) so the footer follows a language switch.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from cs_tui.i18n import _


class CsFooter(Footer):
    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.description:
                widget.description = _(widget.description)
            tooltip = getattr(widget, "tooltip", None)
            if isinstance(tooltip, str) and tooltip:
                widget.tooltip = _(tooltip)
            yield widget
