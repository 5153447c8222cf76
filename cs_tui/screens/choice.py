"""Pick one value from a short list (category, priority, channel, status...)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from cs_tui.safe_text import safe
from cs_tui.screens.modal import CsModal


class ChoiceScreen(CsModal[str]):
    """Returns the chosen value, or None when cancelled."""

    CSS_PATH = ["modal.tcss", "choice.tcss"]

    def __init__(self, title: str, choices: list[tuple[str, str]], current: str | None) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="box") as box:
            box.border_title = safe(self.title_text, single_line=True)
            options = []
            for value, label in self.choices:
                marker = "* " if value == self.current else "  "
                options.append(Option(safe(marker + label, single_line=True), id=value))
            yield OptionList(*options, id="choices")

    def on_mount(self) -> None:
        choices = self.query_one("#choices", OptionList)
        for index, (value, _label) in enumerate(self.choices):
            if value == self.current:
                choices.highlighted = index
        choices.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
