"""The strip above the composer that lists what the reply check found in the draft.

It never grows past `MAX_LINES`, so the transcript keeps its room at 80x24: one line per
finding, cut to the width with an ellipsis (never wrapped, never a double-width character split
at the edge), and when there are more findings than lines the last line says how many more
there are ("+2 more"); the send dialog lists them.

A line reads "! words — why → what to say instead"; when that does not fit, the "why" goes
first, because what to say instead is what the agent acts on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget

from cs_tui.i18n import _
from cs_tui.safe_text import safe

if TYPE_CHECKING:
    from cs_tui.reply_check import ReplyFinding

MAX_LINES = 3
"""Lines of the strip at most; with more findings, the last one summarises the rest."""


def finding_line(finding: ReplyFinding, width: int) -> Text:
    """One finding on one line of `width` cells at most."""

    def build(with_why: bool) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append("! ", style="bold yellow")
        line.append_text(safe(finding.phrase, single_line=True, limit=30, style="bold"))
        if with_why and finding.why:
            line.append(" — ")
            line.append_text(safe(finding.why, single_line=True, limit=60))
        if finding.suggestion:
            line.append(" → ", style="green")
            line.append_text(safe(finding.suggestion, single_line=True, limit=80, style="green"))
        return line

    line = build(with_why=True)
    if cell_len(line.plain) > width:
        line = build(with_why=False)
    if cell_len(line.plain) > width:
        # Rich pads rather than splits a double-width character at the cut.
        line.truncate(max(1, width), overflow="ellipsis")
    return line


def findings_lines(findings: Sequence[ReplyFinding], width: int) -> Text:
    """The strip's text: every finding when they fit in MAX_LINES, else the first ones and
    a last line with how many more."""
    shown = list(findings)
    more = 0
    if len(shown) > MAX_LINES:
        more = len(shown) - (MAX_LINES - 1)
        shown = shown[: MAX_LINES - 1]
    lines = [finding_line(f, width) for f in shown]
    if more:
        summary = Text(
            _("+{count} more").format(count=more),
            style="dim",
            no_wrap=True,
            overflow="ellipsis",
            end="",
        )
        summary.truncate(max(1, width), overflow="ellipsis")
        lines.append(summary)
    return Text("\n", no_wrap=True, end="").join(lines)


class FindingsBar(Widget):
    """What the check found in the draft, shown only while there is something to show."""

    DEFAULT_CSS = """
    FindingsBar {
        height: auto;
        max-height: 3;
        padding: 0 1;
        display: none;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.findings: list[ReplyFinding] = []

    def show(self, findings: Sequence[ReplyFinding]) -> None:
        """Show these findings (none hides the strip)."""
        self.findings = list(findings)
        self.display = bool(self.findings)
        self.refresh(layout=True)

    def render(self) -> Text:
        return findings_lines(self.findings, self.content_size.width or self.size.width)
