"""The knowledge preview: an article's Markdown drawn paragraph by paragraph, for choosing.

The agent reads the article here and picks what goes into the reply: up/down (or j/k) move the
highlight from paragraph to paragraph, shift+up/down (or K/J) stretch it over several, Enter puts
the highlighted text into the composer. What goes in is each paragraph's `text`, the characters
the preview shows (see `cs_tui.kb_markdown`); headings and internal notes are shown but skipped
when moving and never inserted, not even inside a stretch of several paragraphs.

One Static per paragraph, reused from article to article (the list of results is arrowed through
quickly: widgets are updated and hidden rather than mounted and removed each time), so the
highlight is a CSS class and keeping it in view is `scroll_to_widget`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from cs_tui.i18n import N_, _
from cs_tui.safe_text import safe

if TYPE_CHECKING:
    from cs_tui.kb_markdown import Paragraph

STYLES = {
    "bold": "bold",
    "italic": "italic",
    "strike": "strike",
    "code": "bold cyan",
    "link": "underline",
    "dim": "dim",
    "marker": "bold",
    "quote": "italic",
}
HEADING_STYLES = {1: "bold underline", 2: "bold", 3: "bold italic"}

NO_LINE_START = set("，。、；：！？）》」』】〉”’,.;:!?)]}%")
"""Closing punctuation stays on the line of the character before it."""
NO_LINE_END = set("（《「『【〈“‘([{")
_HANG_RE = re.compile(r"\s*(?:- |\d+\. )")


def _break_points(line: str, width: int, hang: int) -> list[int]:
    """Where to break one line of text to fit `width` cells: after a space, or between two
    characters either of which is wide (Chinese has no spaces to break at: Textual's own wrap
    would push a whole Chinese sentence to the next line behind a "- "). Lines after the first
    are `hang` cells narrower (they are indented under a list item's text)."""
    breaks: list[int] = []
    line_start, col, last_ok, col_at_ok = 0, 0, -1, 0
    for index, char in enumerate(line):
        cells = cell_len(char)
        if index > line_start and char != " ":
            prev = line[index - 1]
            wide = cells == 2 or cell_len(prev) == 2
            if prev == " " or (wide and char not in NO_LINE_START and prev not in NO_LINE_END):
                last_ok, col_at_ok = index, col
        limit = width - (hang if breaks else 0)
        if col + cells > limit and char != " " and index > line_start:
            if last_ok > line_start:
                breaks.append(last_ok)
                col -= col_at_ok
                line_start = last_ok
            else:
                breaks.append(index)
                col = 0
                line_start = index
            last_ok = -1
        col += cells
    return breaks


def wrapped(text: Text, width: int, *, hanging: bool = False) -> Text:
    """`text` with line breaks where Chinese and English both wrap naturally at `width`;
    with `hanging`, a list item's wrapped lines start under its text, not under its "- "."""
    if width < 8:
        return text
    out = Text(overflow="fold")
    for number, line in enumerate(text.split("\n", allow_blank=True)):
        if number:
            out.append("\n")
        match = _HANG_RE.match(line.plain) if hanging else None
        hang = min(len(match.group()), width // 2) if match else 0
        pieces = line.divide(_break_points(line.plain, width, hang))
        for index, piece in enumerate(pieces):
            if index:
                out.append("\n" + " " * hang)
            piece.rstrip()
            out.append_text(piece)
    return out


def paragraph_text(paragraph: Paragraph) -> Text:
    """The paragraph as Rich text: its runs with their styles, never parsed as markup."""
    text = Text(overflow="fold")
    if paragraph.kind == "internal":
        text.append(_("Internal note · never sent") + "\n", style="bold italic")
    for run, names in paragraph.runs:
        if paragraph.kind == "heading":
            style = HEADING_STYLES.get(paragraph.level, "bold")
        else:
            style = " ".join(STYLES.get(name, "") for name in names.split())
        text.append(run, style=style.strip())
    return text


class ArticlePreview(VerticalScroll, can_focus=True):
    """The highlighted search result's article; focused, its paragraphs can be chosen."""

    DEFAULT_CSS = """
    ArticlePreview { height: 10; border-top: solid $primary-lighten-2; padding: 0 1 0 0; }
    ArticlePreview > .kb-title { margin-bottom: 1; }
    ArticlePreview > .kb-para { margin-bottom: 1; padding: 0 0 0 1; }
    ArticlePreview > .-internal { color: $text-muted; border-left: outer $warning 60%; }
    ArticlePreview > .-code { color: $text-muted; }
    ArticlePreview:focus > .-chosen { background: $accent 30%; }
    ArticlePreview:focus > .-current { background: $accent 45%; }
    """

    BINDINGS = [
        Binding("down,j", "move(1)", N_("Next paragraph"), show=False, id="kb.next"),
        Binding("up,k", "move(-1)", N_("Previous paragraph"), show=False, id="kb.previous"),
        Binding("enter", "insert", N_("Insert"), id="kb.insert"),
        Binding("shift+down,J", "stretch(1)", N_("Select down"), id="kb.select_down"),
        Binding("shift+up,K", "stretch(-1)", N_("Select up"), show=False, id="kb.select_up"),
        Binding("escape,left", "back", N_("Results"), id="kb.back"),
    ]

    class Chosen(Message):
        """Put `text` into the reply (`skipped` internal notes were left out of it)."""

        def __init__(self, text: str, skipped: int) -> None:
            super().__init__()
            self.text = text
            self.skipped = skipped

    class Refused(Message):
        """Enter on nothing that may be sent (an internal note, a heading)."""

    class Back(Message):
        pass

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.paragraphs: list[Paragraph] = []
        self.current: int | None = None
        """The highlighted paragraph (always one that may be inserted), or None."""
        self.stretch_from: int | None = None
        """Where a stretch over several paragraphs started (None: just `current`)."""
        self._title = Static("", classes="kb-title")
        self._pool: list[Static] = []
        self._drawn_width = 0

    def compose(self) -> ComposeResult:
        yield self._title

    # -- what is shown ---------------------------------------------------------------------

    def show(self, title: Text | None, paragraphs: Sequence[Paragraph], start: int | None) -> None:
        """Show an article (None: nothing), highlighting paragraph `start`."""
        self._title.update(title or "")
        self._title.display = title is not None
        self.paragraphs = list(paragraphs) if title is not None else []
        missing = len(self.paragraphs) - len(self._pool)
        if missing > 0:
            fresh = [Static("", classes="kb-para") for _ in range(missing)]
            self._pool.extend(fresh)
            self.mount_all(fresh)
        self._drawn_width = self._text_width()
        for index, widget in enumerate(self._pool):
            if index < len(self.paragraphs):
                paragraph = self.paragraphs[index]
                widget.update(self._draw(paragraph, self._drawn_width))
                widget.set_classes(f"kb-para -{paragraph.kind}")
                widget.display = True
            else:
                widget.display = False
        self.current = start if start is not None and self._selectable(start) else None
        if self.current is None:
            self.current = next(self._stops(0, 1), None)
        self.stretch_from = None
        self._mark()
        self.scroll_home(animate=False)

    def _text_width(self) -> int:
        """Cells a paragraph's text has: the pane less the paragraphs' padding and border."""
        return self.scrollable_content_region.width - 2

    @staticmethod
    def _draw(paragraph: Paragraph, width: int) -> Text:
        return wrapped(paragraph_text(paragraph), width, hanging=paragraph.kind == "list")

    def on_resize(self) -> None:
        width = self._text_width()
        if width != self._drawn_width:
            self._drawn_width = width
            for paragraph, widget in zip(self.paragraphs, self._pool, strict=False):
                widget.update(self._draw(paragraph, width))

    def _selectable(self, index: int) -> bool:
        return 0 <= index < len(self.paragraphs) and self.paragraphs[index].insertable

    def _stops(self, start: int, step: int) -> Iterator[int]:
        """The paragraphs the highlight may stop on, from `start` in direction `step`."""
        index = start
        while 0 <= index < len(self.paragraphs):
            if self._selectable(index):
                yield index
            index += step

    def chosen(self) -> list[int]:
        """The paragraphs Enter would take, in order (headings and notes among them too)."""
        if self.current is None:
            return []
        if self.stretch_from is None:
            return [self.current]
        low, high = sorted((self.stretch_from, self.current))
        return list(range(low, high + 1))

    def _mark(self, *, reveal: bool = True) -> None:
        chosen = set(self.chosen())
        for index, widget in enumerate(self._pool[: len(self.paragraphs)]):
            # Only what Enter would insert is marked: a note inside the stretch stays unmarked.
            widget.set_class(index in chosen and self._selectable(index), "-chosen")
            widget.set_class(index == self.current, "-current")
        if reveal and self.current is not None:
            self.call_after_refresh(self._reveal, self.current)

    def _reveal(self, index: int) -> None:
        if index == self.current and index < len(self._pool):
            self.scroll_to_widget(self._pool[index], animate=False)

    # -- keys ------------------------------------------------------------------------------

    def action_move(self, step: int) -> None:
        moved = self._step(step)
        self.stretch_from = None
        self._mark(reveal=moved)

    def action_stretch(self, step: int) -> None:
        if self.current is None:
            return
        start = self.current if self.stretch_from is None else self.stretch_from
        moved = self._step(step)
        self.stretch_from = start if start != self.current else None
        self._mark(reveal=moved)

    def _step(self, step: int) -> bool:
        """Move the highlight to the next paragraph that may be inserted; with none left that
        way, scroll instead, so a note or heading at the end can still be read."""
        if self.current is None:
            self.scroll_relative(y=step * 3, animate=False)
            return False
        following = next(self._stops(self.current + step, step), None)
        if following is None:
            self.scroll_relative(y=step * 3, animate=False)
            return False
        self.current = following
        return True

    def action_insert(self) -> None:
        from cs_tui.kb_markdown import chosen_text

        picked = [self.paragraphs[i] for i in self.chosen()]
        text = chosen_text(picked)
        if not text:
            self.post_message(self.Refused())
            return
        skipped = sum(1 for p in picked if p.kind == "internal")
        self.post_message(self.Chosen(text, skipped))

    def action_back(self) -> None:
        self.post_message(self.Back())

    def on_focus(self) -> None:
        if self.parent is not None:  # the tab grows the preview while the agent reads it
            self.parent.add_class("-reading")
        self._mark()

    def on_blur(self) -> None:
        if self.parent is not None:
            self.parent.remove_class("-reading")


def article_title(title: str, category: str) -> Text:
    """The article's title and its category's name, both drawn literally."""
    text = safe(title, single_line=True, style="bold")
    if category:
        text.append("  ")
        text.append_text(safe(category, single_line=True, limit=30, style="dim"))
    return text
