"""The handover banner: what the previous owner wrote when they transferred the conversation.

Pinned above the transcript (it does not scroll away with the messages) for as long as the agent
it went to holds the conversation, so the new owner reads the story before the customer has to
tell it again. The note is typed by an agent but shown through `safe` like any stored text.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from cs_tui.clock import Clock
from cs_tui.data.views import HandoverView
from cs_tui.i18n import _
from cs_tui.safe_text import one_line, safe
from cs_tui.widgets.message_view import local_time

NOTE_LIMIT = 600
"""Characters of the note drawn in the banner (the store keeps at most 2,000)."""


def handover_text(handover: HandoverView, clock: Clock) -> Text:
    when = local_time(handover.at, clock.now())
    by = one_line(handover.by, limit=64)
    if handover.from_agent and handover.from_agent != handover.by:
        head = _("Handed over by {by} (from {source}) at {time}").format(
            by=by, source=one_line(handover.from_agent, limit=64), time=when
        )
    else:
        head = _("Handed over by {by} at {time}").format(by=by, time=when)
    text = Text(head, style="bold")
    if handover.note:
        text.append("\n")
        text.append_text(safe(handover.note, limit=NOTE_LIMIT))
    else:
        text.append(" · " + _("no note"), style="italic")
    return text


class HandoverBanner(Static):
    DEFAULT_CSS = """
    HandoverBanner {
        height: auto;
        max-height: 6;
        padding: 0 1;
        background: $accent 20%;
        border-left: thick $accent;
        display: none;
    }
    """

    def __init__(self, clock: Clock, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.clock = clock
        self.handover: HandoverView | None = None

    def show(self, handover: HandoverView | None) -> None:
        self.handover = handover
        if handover is None:
            self.display = False
            return
        self.update(handover_text(handover, self.clock))
        self.display = True
