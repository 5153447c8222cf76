"""What an empty queue says: which filter hides the rows, and the key that clears them all.

An empty pane that says nothing looks like "no work"; an agent who filtered by a tag an hour ago
would believe it. So when the filter matches nothing, the pane names each part of the filter
that narrows it (scope, channel, status, tag, text) and the key that puts every filter back.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from cs_tui.data.views import QueueFilter
from cs_tui.i18n import _
from cs_tui.safe_text import safe
from cs_tui.widgets import labels


def narrowing(flt: QueueFilter, supervisor: bool) -> list[Text]:
    """Each part of `flt` that hides rows the default view ("all", open work) shows."""
    parts: list[Text] = []
    if flt.scope != "all":
        parts.append(
            Text(_("scope: {scope}").format(scope=labels.scope_label(flt.scope, supervisor)))
        )
    if flt.channel:
        parts.append(
            Text(_("channel: {channel}").format(channel=labels.label(labels.CHANNELS, flt.channel)))
        )
    if flt.status:
        parts.append(
            Text(_("status: {status}").format(status=labels.label(labels.STATUSES, flt.status)))
        )
    if flt.tag:
        parts.append(safe("#" + flt.tag, single_line=True, limit=30))
    if flt.text:
        parts.append(safe(f"“{flt.text}”", single_line=True, limit=30))
    return parts


def empty_text(flt: QueueFilter, supervisor: bool, clear_key: str) -> Text:
    """The empty queue's explanation, drawn literally (a tag or a search may hold anything)."""
    parts = narrowing(flt, supervisor)
    text = Text()
    if not parts:
        if supervisor:
            text.append(_("No open conversation in any queue."))
        else:
            text.append(_("Nothing is waiting: no open conversation of yours, none unassigned."))
        return text
    text.append(_("Nothing matches this filter."), style="bold")
    text.append("\n" + _("Hidden by: "))
    for i, part in enumerate(parts):
        if i:
            text.append(" · ")
        text.append_text(part)
    text.append("\n")
    text.append(_("{key}: clear every filter").format(key=clear_key), style="bold")
    return text


class QueueEmpty(Static):
    """Shown in place of the rows while the filter matches nothing."""

    DEFAULT_CSS = """
    QueueEmpty { height: auto; padding: 1 1; color: $text-muted; display: none; }
    """

    def show(self, flt: QueueFilter | None, supervisor: bool, clear_key: str) -> None:
        """`flt` None hides the explanation (the queue has rows, or is still loading)."""
        if flt is None:
            self.display = False
            return
        self.update(empty_text(flt, supervisor, clear_key))
        self.display = True
