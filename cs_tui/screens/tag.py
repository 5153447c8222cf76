"""Tag the conversation: add a tag (Enter) or remove one from the list (d or Delete)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from cs_tui.i18n import N_, _
from cs_tui.safe_text import safe
from cs_tui.screens.modal import CsModal


class TagList(OptionList):
    BINDINGS = [Binding("d,delete,backspace", "remove", N_("Remove tag"), id="tag.remove")]

    def action_remove(self) -> None:
        if self.highlighted is not None:
            option = self.get_option_at_index(self.highlighted)
            if option.id:
                self.screen.dismiss(("remove", option.id))


class TagScreen(CsModal[tuple[str, str]]):
    """Returns ("add", tag) or ("remove", tag), or None when cancelled."""

    CSS_PATH = ["modal.tcss", "tag.tcss"]

    def __init__(
        self, tags: tuple[str, ...], suggestions: tuple[str, ...] = (), target: str = ""
    ) -> None:
        super().__init__()
        self.target = target
        self.tags = tags
        self.suggestions = tuple(s for s in suggestions if s not in tags)

    def compose(self) -> ComposeResult:
        with Vertical(classes="box") as box:
            box.border_title = self.target_title(
                _("Tags of {target}"), _("Tags of this conversation")
            )
            yield Input(placeholder=_("New tag, Enter adds"), id="new-tag", max_length=32)
            if self.tags:
                yield Static(_("Current tags (Tab, then d removes):"), classes="hint")
                yield TagList(
                    *[Option(safe("#" + t, single_line=True), id=t) for t in self.tags],
                    id="current-tags",
                )
            if self.suggestions:
                yield Static(
                    _("Common: {tags}").format(tags=" ".join("#" + s for s in self.suggestions)),
                    classes="hint",
                    markup=False,
                )

    def on_mount(self) -> None:
        self.query_one("#new-tag", Input).focus()

    @on(Input.Submitted, "#new-tag")
    def _add(self, event: Input.Submitted) -> None:
        tag = event.value.strip().lstrip("#")
        if tag:
            self.dismiss(("add", tag))
