"""Textual's Footer with the binding descriptions translated at display time, help and quit first.

Binding descriptions are message ids (marked with N_) so the footer follows a language switch;
the command palette's own key ("palette", Textual's word) is translated here too.

Textual lists the focused widget's keys first and the app's last, so at 80 columns the footer
was cut before F1 and ctrl+q: the two keys a lost agent needs come first instead.

Textual rebuilds the footer (every key a widget, styled and laid out again) each time a screen
publishes that its bindings were updated, which it does on every focus change and
`refresh_bindings()`, mostly with the same keys as before. The footer here rebuilds only when
what it would show changed: the keys, their descriptions, whether each is enabled, and the
interface language.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from cs_tui.i18n import N_, _, current_language

FIRST_ACTIONS = ("help", "app.help", "quit", "app.quit")
"""Shown before every other key, in this order."""
PALETTE = N_("palette")
"""The command palette key's description (Textual's own is English)."""


def _rank(widget: Widget) -> int:
    action = getattr(widget, "action", None)
    return FIRST_ACTIONS.index(action) if action in FIRST_ACTIONS else len(FIRST_ACTIONS)


class CsFooter(Footer):
    _shown: tuple[object, ...] | None = None
    """What the keys now in the footer were built from (see `_what_it_shows`)."""

    def _what_it_shows(self) -> tuple[object, ...]:
        keys = tuple(
            (key, binding, enabled, tooltip)  # a Binding is a frozen dataclass: every field counts
            for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items()
        )
        return (current_language(), self.show_command_palette, self.compact, keys)

    async def recompose(self) -> None:
        """Textual's rebuild, skipped when the footer would show the same keys again."""
        shown = self._what_it_shows() if self.is_attached else None
        if shown is not None and shown == self._shown:
            return
        self._shown = shown
        await super().recompose()
        self._forget_removed_keys()

    def _forget_removed_keys(self) -> None:
        """Let go of the keys the rebuild removed.

        Textual binds each key's `compact` to the footer's (`data_bind`): a watcher kept on the
        footer, holding the key, and pruned only when `compact` itself changes, which it hardly
        ever does. So every rebuild left its old keys alive with their drawn lines: about 700
        keys after thirty conversations opened and answered, and each of the garbage collector's
        full passes walked all of them (0.3 s and growing, the workstation frozen meanwhile).
        """
        watchers = getattr(self, "__watchers", {}).get("compact")
        if watchers:
            watchers[:] = [(node, callback) for node, callback in watchers if node.is_attached]

    def compose(self) -> ComposeResult:
        widgets = []
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.has_class("-command-palette"):
                widget.description = _(PALETTE)  # not bound to `compact`: left as it is
            elif isinstance(widget, FooterKey):
                # Born in the footer's style: a key bound to the footer's `compact` starts
                # compact and is told otherwise once mounted, and each change restyled it
                # (twice for each key of each rebuild).
                widget.set_reactive(FooterKey.compact, self.compact)
                widget.set_class(self.compact, "-compact", update=False)
                if widget.description:
                    widget.description = _(widget.description)
            tooltip = getattr(widget, "tooltip", None)
            if isinstance(tooltip, str) and tooltip:
                widget.tooltip = _(tooltip)
            widgets.append(widget)
        # sorted() is stable: every other key keeps Textual's order.
        yield from sorted(widgets, key=_rank)
