"""Chinese characters stay whole where widget edges cross them: in the full picture (the
footer's palette key over the scrolled keys at 80 columns) and in the partial updates that
redraw what a toast covered (what the terminal is sent must never hold half a character)."""

from __future__ import annotations

from rich.console import Console
from textual.app import App
from textual.geometry import Region
from textual.widgets import Static

from cs_tui.widgets import wide_cells
from tests.ui.pilot_helpers import app_for, settle

TEXT = "您好，请问您的订单号是多少？我帮您查一下，给您一个准确的答复，以便尽快处理，预计3天内到账。"


def screen_line(app, y: int) -> str:
    return "".join(segment.text for segment in app.screen._compositor.render_strips()[y])


async def test_the_palette_key_reads_whole_in_the_chinese_footer_at_80x24(store, clock):
    app = app_for(store, clock, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        footer = screen_line(app, 23)
        assert footer.rstrip().endswith("^p 命令面板"), footer


class Text(App):
    def compose(self):
        yield Static(TEXT * 3)


async def test_a_partial_update_never_ends_inside_a_chinese_character():
    wide_cells.install()
    app = Text()
    async with app.run_test(size=(81, 10)) as pilot:
        await pilot.pause()
        assert screen_line(app, 0).startswith(TEXT[:40])
        # Redraw cells 0..4 only, as when a toast whose right edge was at cell 5 goes away:
        # cell 4 is the first half of the third character.
        stop = 5
        compositor = app.screen._compositor
        compositor._dirty_regions.clear()
        compositor._dirty_regions.add(Region(0, 0, stop, 1))
        update = compositor.render_partial_update()
        sent = update.render_segments(Console(width=81, force_terminal=True, color_system=None))
        drawn = "".join(c for c in sent if "\u4e00" <= c <= "\u9fff" or c in "，？。")
        assert TEXT.startswith(drawn) and _cells(drawn) >= stop


def _cells(text: str) -> int:
    from rich.cells import cell_len

    return cell_len(text)


def test_whole_cells_ends_a_cut_after_the_character_it_would_split():
    from rich.segment import Segment
    from textual.strip import Strip

    strip = Strip([Segment("ab天给以")])
    assert [wide_cells.whole_cells(strip, n) for n in range(9)] == [0, 1, 2, 4, 4, 6, 6, 8, 8]
    assert wide_cells.straddled(strip, [3, 4, 5]) == {3, 5}


def test_straddled_counts_cells_across_segments():
    from rich.segment import Segment
    from textual.strip import Strip

    strip = Strip([Segment("ab"), Segment("天给"), Segment(" x"), Segment("以")])
    assert wide_cells.straddled(strip, [3, 5, 6, 8, 9]) == {3, 5, 9}
