"""What an agent sees at 80x24 and in Chinese: the findings strip above the composer, the
footer, the composer's hint, the transcript's newest message, and no English left in the
Chinese interface."""

from __future__ import annotations

from rich.cells import cell_len

from cs_tui.widgets.composer import Composer
from cs_tui.widgets.findings import MAX_LINES, FindingsBar
from tests.ui.pilot_helpers import app_for, mine, select, settle, type_text, until


def chinese_row(store):
    return next(r for r in mine(store, "open") if not r.customer_name.isascii())


async def test_many_findings_fit_above_the_composer_at_80x24(store, clock):
    row = chinese_row(store)
    app = app_for(store, clock, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("r")
        await settle(pilot)
        await type_text(pilot, "你好,不知道,这不是我负责的,这点小事,你找物流吧")
        bar = app.screen.query_one(FindingsBar)
        await until(pilot, lambda: bar.display and len(bar.findings) > MAX_LINES)
        await settle(pilot)
        lines = bar.render().plain.split("\n")
        assert bar.size.height == len(lines) == MAX_LINES
        assert lines[-1] == f"另有 {len(bar.findings) - (MAX_LINES - 1)} 条"
        assert all(cell_len(line) <= bar.content_size.width for line in lines)
        composer = app.screen.query_one(Composer)
        assert bar.region.bottom == composer.region.y  # right above it, not over it
