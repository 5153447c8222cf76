"""F1 / ?: every key of the workstation in the interface language, the focused pane's first.

Keys are read from the widgets' BINDINGS with the user's keymap applied, so the help screen
always shows the keys that really work.
"""

from __future__ import annotations

from dataclasses import replace

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from cs_tui.i18n import N_, _
from cs_tui.screens.modal import CsModal
from cs_tui.widgets.sla_badge import STYLES, SYMBOLS, WORDS


class HelpScreen(CsModal[None]):
    CSS_PATH = ["modal.tcss", "help.tcss"]
    BINDINGS = [Binding("f1,question_mark,q", "cancel", N_("Close"), id="help.close")]

    def __init__(self, sections: list[tuple[str, list[Binding]]], keymap: dict[str, str]) -> None:
        super().__init__()
        self.sections = sections
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="box") as box:
            box.border_title = _("Keys")
            box.border_subtitle = _("Esc, q or F1 closes")
            for title, bindings in self.sections:
                yield Static(Text(title, style="bold underline"), classes="section-title")
                yield Static(self._table(bindings))
            yield Static(Text(_("SLA countdown symbols"), style="bold underline"))
            legend = Text()
            for state, symbol in SYMBOLS.items():
                legend.append(f" {symbol} ", style=STYLES[state])
                legend.append(" " + _(WORDS[state]) + "   ")
            yield Static(legend)
            yield Static(
                Text(
                    _(
                        "In the composer, Enter sends and ctrl+j starts a new line (works over "
                        "SSH and tmux). ctrl+/ puts a quick reply in at the cursor; Tab and "
                        "shift+Tab select its blanks one by one (type to fill), and with no "
                        "blank left Tab or Escape leaves the composer. Every key can be "
                        "changed in the config file's [keymap] table, by binding id."
                    ),
                    style="dim",
                )
            )

    def _table(self, bindings: list[Binding]) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        table.add_column(style="dim", no_wrap=True)
        seen = set()
        for binding in bindings:
            if binding.system or not binding.description:
                continue
            key = self.keymap.get(binding.id or "", binding.key)
            if (key, binding.action) in seen:
                continue
            seen.add((key, binding.action))
            shown = ", ".join(
                self.app.get_key_display(replace(binding, key=k.strip())) for k in key.split(",")
            )
            table.add_row(shown, _(binding.description), binding.id or "")
        return table

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
