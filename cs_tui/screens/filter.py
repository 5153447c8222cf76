"""Filter the queue: scope (all / mine / unassigned / handed over), channel, status and tag.

Free text is typed straight into the queue (`/`); this screen sets the rest. Enter in the tag
field or ctrl+s applies; Escape cancels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label, Select, Static

from cs_tui.data.views import QueueFilter
from cs_tui.i18n import N_, _
from cs_tui.screens.modal import CsModal
from cs_tui.sla import CHANNELS, STATUSES
from cs_tui.widgets import labels


def _any_of(
    table: dict[str, str],
    keys: Iterable[str],
    current: str | None,
    prompt: str,
    id: str,
) -> Select[str]:
    """A choice of one key of `table` by its label, or none (the prompt: no filter)."""
    return Select(
        [(labels.label(table, key), key) for key in keys],
        value=current or Select.NULL,
        prompt=prompt,
        id=id,
    )


class FilterScreen(CsModal[QueueFilter]):
    """Returns the new filter, or None when cancelled."""

    CSS_PATH = ["modal.tcss", "filter.tcss"]
    BINDINGS = [Binding("ctrl+s", "apply", N_("Apply"), id="filter.apply")]

    def __init__(self, current: QueueFilter, *, supervisor: bool = False) -> None:
        super().__init__()
        self.current = current
        self.supervisor = supervisor

    def compose(self) -> ComposeResult:
        with Vertical(classes="box") as box:
            box.border_title = _("Filter the queue")
            yield Label(_("Whose"))
            yield Select(
                [(labels.scope_label(s, self.supervisor), s) for s in labels.SCOPE_ORDER],
                value=self.current.scope,
                allow_blank=False,
                id="scope",
            )
            yield Label(_("Channel"))
            yield _any_of(
                labels.CHANNELS, CHANNELS, self.current.channel, _("any channel"), "channel"
            )
            yield Label(_("Status"))
            yield _any_of(labels.STATUSES, STATUSES, self.current.status, _("open work"), "status")
            yield Label(_("Tag"))
            yield Input(value=self.current.tag or "", placeholder=_("any tag"), id="tag")
            yield Static(
                _("Enter in the tag field or ctrl+s applies · Esc cancels"), classes="hint"
            )

    def on_mount(self) -> None:
        self.query_one("#scope", Select).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_apply()

    def action_apply(self) -> None:
        def value(selector: str) -> str | None:
            chosen = self.query_one(selector, Select).value
            return None if chosen is Select.NULL else str(chosen)

        tag = self.query_one("#tag", Input).value.strip().lstrip("#") or None
        self.dismiss(
            replace(
                self.current,
                scope=value("#scope") or "all",
                channel=value("#channel"),
                status=value("#status"),
                tag=tag,
            )
        )
