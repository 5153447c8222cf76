"""The queue: one row per conversation, most urgent first, drawn with the Line API.

The widget never holds the whole queue. It knows how many rows the filter matches and keeps one
window of at most `WINDOW` rows; when the cursor or the viewport leaves the window it asks for
another (`WindowWanted`) and shows a placeholder line until it arrives. Each line is drawn from
a cached strip of the row's fixed columns plus the countdown, which is computed from `due_at` and
the clock at render time, so the per-second tick is a `refresh()` of the visible lines and never
a read from the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cs_tui.clock import Clock
from cs_tui.data.views import QueueRow
from cs_tui.i18n import N_
from cs_tui.safe_text import clean, one_line
from cs_tui.sla import SlaPolicy
from cs_tui.widgets import delivery, labels
from cs_tui.widgets.sla_badge import STYLES, SYMBOLS, clock_badge

WINDOW = 200
"""Rows held at once; a new window is asked for when the cursor comes within MARGIN of an edge."""
MARGIN = 40
COUNTDOWN = 9
"""Cells for the countdown: "-23:59:59" is the longest format_countdown writes."""
WIDE = 72
"""From this width on a conversation takes one line; narrower panes use two."""


def fit(text: str, width: int) -> str:
    """`text` padded or cut to exactly `width` cells (double-width aware), with an ellipsis."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


@dataclass
class _Layout:
    width: int
    lines_per_row: int
    name: int
    preview: int
    tags: int
    assignee: int


class QueueList(ScrollView, can_focus=True):
    """Keyboard list over a windowed queue. Messages up: WindowWanted, Highlighted, Opened."""

    BINDINGS = [
        Binding("j,down", "cursor_down", N_("Down"), show=False, id="queue.down"),
        Binding("k,up", "cursor_up", N_("Up"), show=False, id="queue.up"),
        Binding("pagedown,ctrl+f", "page_down", N_("Page down"), show=False, id="queue.page_down"),
        Binding("pageup,ctrl+b", "page_up", N_("Page up"), show=False, id="queue.page_up"),
        Binding("home,g", "first", N_("First"), show=False, id="queue.first"),
        Binding("end", "last", N_("Last"), show=False, id="queue.last"),
        Binding("enter", "open", N_("Open"), id="queue.open"),
    ]
    COMPONENT_CLASSES = {
        "queue-list--cursor",
        "queue-list--placeholder",
        "queue-list--dim",
        "queue-list--tags",
        "queue-list--undelivered",
    }
    DEFAULT_CSS = """
    QueueList {
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
    }
    QueueList > .queue-list--cursor { background: $primary 40%; text-style: bold; }
    QueueList:focus > .queue-list--cursor { background: $primary; color: $text; }
    QueueList > .queue-list--placeholder { color: $text-muted; }
    QueueList > .queue-list--dim { color: $text-muted; }
    QueueList > .queue-list--tags { color: $secondary; }
    QueueList > .queue-list--undelivered { color: $text; background: $error; text-style: bold; }
    """

    cursor: reactive[int] = reactive(0, repaint=False, init=False)

    class WindowWanted(Message):
        """Rows starting at `offset` are needed (the screen reads them in a worker)."""

        def __init__(self, offset: int) -> None:
            super().__init__()
            self.offset = offset

    class Highlighted(Message):
        def __init__(self, row: QueueRow | None) -> None:
            super().__init__()
            self.row = row

    class Opened(Message):
        def __init__(self, row: QueueRow) -> None:
            super().__init__()
            self.row = row

    def __init__(
        self, clock: Clock, policy: SlaPolicy, *, id: str | None = None, classes: str = ""
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.clock = clock
        self.policy = policy
        self.total = 0
        self.loaded = False
        self.painted = False
        """True once conversation rows have been drawn (the first useful frame)."""
        self._start = 0
        self._rows: list[QueueRow] = []
        self._wanted: int | None = None
        self._keep_id: int | None = None
        self._cache: dict[tuple, list[Segment]] = {}
        self._layout: _Layout | None = None
        self._style_cache: dict[str, Style] | None = None
        self._drawn: dict[int, tuple] = {}
        self._frame: tuple[int, int, datetime] | None = None
        """Row id -> (state, countdown text) last drawn, so a tick repaints only changes."""

    # -- data in ----------------------------------------------------------------------------

    def set_window(self, start: int, rows: list[QueueRow], total: int | None) -> None:
        """A window arrived. The cursor stays on the same conversation when it is still there."""
        keep = self._keep_id
        if keep is None:
            current = self.current_row
            keep = current.id if current else None
        self._start = start
        self._rows = rows
        self._wanted = None
        self._cache.clear()
        self._drawn.clear()
        self.loaded = True
        if total is not None:
            self.total = total
        elif start + len(rows) > self.total or (
            len(rows) < WINDOW and start + len(rows) < self.total
        ):
            self.total = start + len(rows)
        self._update_virtual_size()
        if keep is not None:
            for index, row in enumerate(rows):
                if row.id == keep:
                    self._keep_id = None
                    self.set_reactive(QueueList.cursor, start + index)
                    break
        if self.cursor >= self.total:
            self.set_reactive(QueueList.cursor, max(0, self.total - 1))
        self._scroll_cursor_visible()
        self.refresh()
        self.post_message(self.Highlighted(self.current_row))

    def set_total(self, total: int) -> None:
        self.total = max(total, self._start + len(self._rows)) if total else 0
        self._update_virtual_size()
        self.refresh()

    def replace_rows(self, rows: list[QueueRow]) -> None:
        """Fresh copies of rows already in the window (a live update); others are ignored."""
        by_id = {r.id: r for r in rows}
        changed = False
        for index, row in enumerate(self._rows):
            fresh = by_id.get(row.id)
            if fresh is not None and fresh != row:
                self._rows[index] = fresh
                changed = True
        if changed:
            self._cache.clear()
            self.refresh()

    def reset(self) -> None:
        """The filter changed: forget the window and start at the top."""
        self._rows = []
        self._start = 0
        self._cache.clear()
        self._wanted = None
        self.loaded = False
        self.set_reactive(QueueList.cursor, 0)
        self.scroll_to(y=0, animate=False)
        self.refresh()

    def keep_on(self, conversation_id: int | None) -> None:
        """After the next window, put the cursor on this conversation if it is in it."""
        self._keep_id = conversation_id

    @property
    def window(self) -> tuple[int, list[QueueRow]]:
        return self._start, self._rows

    @property
    def visible_ids(self) -> list[int]:
        first, last = self._visible_rows()
        return [r.id for i, r in enumerate(self._rows, start=self._start) if first <= i <= last]

    def row_at(self, index: int) -> QueueRow | None:
        if self._start <= index < self._start + len(self._rows):
            return self._rows[index - self._start]
        return None

    @property
    def current_row(self) -> QueueRow | None:
        return self.row_at(self.cursor)

    # -- geometry ---------------------------------------------------------------------------

    @property
    def content_width(self) -> int:
        """Cells available to a line (the vertical scrollbar takes one)."""
        return self.scrollable_content_region.width

    @property
    def lines_per_row(self) -> int:
        return 1 if self.size.width >= WIDE else 2

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.size.width, self.total * self.lines_per_row)

    def on_resize(self) -> None:
        self._layout = None
        self._style_cache = None
        self._cache.clear()
        self._update_virtual_size()
        self._scroll_cursor_visible()

    def _visible_rows(self) -> tuple[int, int]:
        lpr = self.lines_per_row
        top = int(self.scroll_offset.y) // lpr
        return top, top + max(1, self.size.height // lpr)

    def _scroll_cursor_visible(self) -> None:
        """Keep the cursor on screen, jumping half a page when it leaves the viewport.

        Scrolling by one row would repaint every visible line on each key; a half-page jump
        repaints once per half page and otherwise only the two rows the cursor left and entered.
        """
        lpr = self.lines_per_row
        height = self.size.height
        if not height:
            return
        y = self.cursor * lpr
        top = int(self.scroll_offset.y)
        if top <= y and y + lpr <= top + height:
            return
        jump = max(lpr, (height // 2) // lpr * lpr)
        target = y - jump if y < top else y + lpr - height + jump
        target = max(0, min(target, self.total * lpr - height))
        self.scroll_to(y=target, animate=False, immediate=True)

    def _ensure_window(self) -> None:
        """Ask for the window around the cursor and viewport when they near an edge."""
        if not self.loaded or self.total == 0:
            return
        first, last = self._visible_rows()
        lo, hi = min(first, self.cursor), max(last, self.cursor)
        end = self._start + len(self._rows)
        near_start = self._start > 0 and lo < self._start + MARGIN
        near_end = end < self.total and hi >= end - MARGIN
        if not (near_start or near_end):
            return
        offset = max(0, min(self.cursor - WINDOW // 2, self.total - WINDOW))
        if offset == self._start or offset == self._wanted:
            return
        self._wanted = offset
        self.post_message(self.WindowWanted(offset))

    # -- cursor -----------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        lpr = self.lines_per_row
        top = int(self.scroll_offset.y)
        for index in (old, new):
            y = index * lpr - top
            if 0 <= y < self.size.height:
                self.refresh(Region(0, y, self.size.width, lpr))
        self._scroll_cursor_visible()
        self._ensure_window()
        self.post_message(self.Highlighted(self.current_row))

    def move_to(self, index: int) -> None:
        if self.total:
            self.cursor = max(0, min(index, self.total - 1))

    def action_cursor_down(self) -> None:
        self.move_to(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_to(self.cursor - 1)

    def action_page_down(self) -> None:
        self.move_to(self.cursor + max(1, self.size.height // self.lines_per_row - 1))

    def action_page_up(self) -> None:
        self.move_to(self.cursor - max(1, self.size.height // self.lines_per_row - 1))

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(self.total - 1)

    def action_open(self) -> None:
        row = self.current_row
        if row is not None:
            self.post_message(self.Opened(row))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._ensure_window()

    def tick(self) -> None:
        """The per-second refresh: only the countdown cells whose text or state changed are
        repainted (a "2d" row changes once a day), and nothing is read from the store."""
        lpr = self.lines_per_row
        top = int(self.scroll_offset.y)
        first, last = self._visible_rows()
        now = self.clock.now()
        height = self.size.height
        regions = []
        for index in range(max(first, self._start), min(last + 1, self._start + len(self._rows))):
            row = self._rows[index - self._start]
            drawn = self._drawn.get(row.id)
            if drawn is None or drawn != self._countdown(row, now):
                y = index * lpr - top
                if 0 <= y < height:
                    regions.append(Region(0, y, 1 + COUNTDOWN, 1))
        if regions:
            self.refresh(*regions)

    def _countdown(self, row: QueueRow, now: datetime) -> tuple:
        return clock_badge(self.policy, row, now)

    def _styles(self) -> dict[str, Style]:
        """Computed styles, looked up once per style change (each lookup walks the CSS)."""
        if self._style_cache is None:
            self._style_cache = {
                "base": self.rich_style,
                **{
                    name: self.get_component_rich_style(f"queue-list--{name}")
                    for name in ("cursor", "placeholder", "dim", "tags", "undelivered")
                },
            }
        return self._style_cache

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style_cache = None
        self._cache.clear()

    def _on_focus(self, event: events.Focus) -> None:
        super()._on_focus(event)
        self._style_cache = None
        self._cache.clear()
        self.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        super()._on_blur(event)
        self._style_cache = None
        self._cache.clear()
        self.refresh()

    # -- drawing ----------------------------------------------------------------------------

    def _compute_layout(self) -> _Layout:
        width = self.content_width
        lpr = self.lines_per_row
        fixed = 1 + COUNTDOWN + 1 + 4 + 1  # symbol, countdown, channel and the spaces
        if lpr == 1:
            assignee = 8
            tags = min(16, max(8, width // 8))
            name = 10
            preview = max(6, width - fixed - name - 1 - 1 - tags - 1 - assignee)
        else:
            assignee = 8 if width >= 40 else 6
            name = max(4, width - fixed - 1 - assignee)
            tags = min(12, max(0, (width - 2) // 3))
            preview = max(4, width - 2 - (tags + 1 if tags else 0))
        return _Layout(width, lpr, name, preview, tags, assignee)

    def render_lines(self, crop: Region) -> list[Strip]:
        """What every line of this frame shares is looked up once, not once per line: the width
        (each lookup finds the widget's region on the screen) and the moment the countdowns
        are computed for."""
        self._frame = (self.content_width, int(self.scroll_offset.y), self.clock.now())
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def _frame_values(self) -> tuple[int, int, datetime]:
        frame = self._frame
        if frame is None:  # a line drawn outside render_lines
            return self.content_width, int(self.scroll_offset.y), self.clock.now()
        return frame

    def render_line(self, y: int) -> Strip:
        content_width, scroll_y, now = self._frame_values()
        layout = self._layout
        if layout is None or layout.width != content_width:
            # The width also changes without a resize, when the scrollbar comes or goes as the
            # queue fills: a layout kept from before drew columns that no longer fit.
            layout = self._layout = self._compute_layout()
            self._cache.clear()
        width = layout.width
        lpr = layout.lines_per_row
        index, sub = divmod(scroll_y + y, lpr)
        styles = self._styles()
        base = styles["base"]
        if index >= self.total:
            return Strip.blank(width, base)
        row = self.row_at(index)
        selected = index == self.cursor
        cursor_style = styles["cursor"] if selected else None
        if row is None:
            text = fit("  …" if sub == 0 else "", width)
            strip = Strip([Segment(text, base + styles["placeholder"])], width)
            return strip.apply_style(cursor_style) if cursor_style else strip
        if sub == 0:
            state, countdown = clock_badge(self.policy, row, now)
            self._drawn[row.id] = (state, countdown)
            self.painted = True
            pad = COUNTDOWN - cell_len(countdown)
            countdown = " " * pad + countdown if pad >= 0 else fit(countdown, COUNTDOWN)
            sla_style = base + STYLES[state]
            if cursor_style is not None:
                sla_style += cursor_style
            head = [Segment(SYMBOLS[state] + countdown, sla_style)]
            head_width = 1 + COUNTDOWN
        else:
            head = [Segment("  ", base + cursor_style if cursor_style else base)]
            head_width = 2
        # The fixed columns of a row are drawn once and kept until the row or the window changes.
        key = (row.id, sub, selected)
        rest = self._cache.get(key)
        if rest is None:
            segments = self._row_segments(row, sub, layout, base, cursor_style)
            fill = base + cursor_style if cursor_style else base
            rest = list(Strip(segments).adjust_cell_length(width - head_width, fill))
            if len(self._cache) > 4 * WINDOW:
                self._cache.clear()
            self._cache[key] = rest
        return Strip(head + rest, width)

    def _row_segments(
        self, row: QueueRow, sub: int, layout: _Layout, base: Style, cursor: Style | None
    ) -> list[Segment]:
        styles = self._styles()
        dim = base + styles["dim"]
        tag_style = base + styles["tags"]
        plain = base
        if cursor is not None:
            dim, tag_style, plain = dim + cursor, tag_style + cursor, plain + cursor
        channel = fit(labels.label(labels.CHANNELS_SHORT, row.channel), 4)
        name = clean(row.customer_name, single_line=True)
        if row.customer_tier == "vip":
            name = "*" + name
        preview = clean(row.preview, single_line=True)
        tags = clean(" ".join(f"#{t}" for t in row.tags), single_line=True)
        assignee = one_line(row.assignee) or "-"
        # A reply that never reached the customer: the state word opens the preview, where the
        # eye reads on from the clock (a word, so it reads without colour too).
        state: list[Segment] = []
        preview_width = layout.preview
        if row.undelivered:
            word = delivery.undelivered_label()
            state_width = min(cell_len(word), max(0, preview_width - 4))
            if state_width:
                # Its own colours even under the cursor: the word stays a badge on any row.
                undelivered = base + styles["undelivered"]
                state = [Segment(fit(word, state_width), undelivered), Segment(" ", plain)]
                preview_width -= state_width + 1
        if layout.lines_per_row == 1 or sub == 0:
            # channel and customer open the row's (first) line
            opening = [
                Segment(" ", plain),
                Segment(channel, dim),
                Segment(" ", plain),
                Segment(fit(name, layout.name), plain + Style(bold=True)),
                Segment(" ", plain),
            ]
            if layout.lines_per_row == 1:
                return [
                    *opening,
                    *state,
                    Segment(fit(preview, preview_width), plain),
                    Segment(" ", plain),
                    Segment(fit(tags, layout.tags), tag_style),
                    Segment(" ", plain),
                    Segment(fit(assignee, layout.assignee), dim),
                ]
            return [
                *opening,
                Segment(fit(assignee, layout.assignee).rstrip().rjust(layout.assignee), dim),
            ]
        segments = [*state, Segment(fit(preview, preview_width), dim)]
        if layout.tags:
            segments += [Segment(" ", plain), Segment(fit(tags, layout.tags), tag_style)]
        return segments
