"""What an agent sees at 80x24 and in Chinese: the findings strip above the composer, the
footer, the composer's hint, the transcript's newest message, and no English left in the
Chinese interface."""

from __future__ import annotations

import gc
import weakref

import pytest
from rich.cells import cell_len

from cs_tui.i18n import translate
from cs_tui.pinyin_keys import make_keys
from cs_tui.reply_check import reply_findings
from cs_tui.widgets.composer import HINTS, Composer
from cs_tui.widgets.findings import MAX_LINES, FindingsBar
from cs_tui.widgets.message_view import Transcript
from tests.ui.pilot_helpers import (
    app_for,
    first_unassigned,
    mine,
    select,
    settle,
    type_text,
    until,
)

MANY = "你好,不知道,这不是我负责的,这点小事,你找物流吧"
"""A reply with more findings than the strip has lines."""


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
        await type_text(pilot, MANY)
        bar = app.screen.query_one(FindingsBar)
        await until(pilot, lambda: len(bar.findings) == len(reply_findings(MANY, "zh")))
        assert len(bar.findings) > MAX_LINES
        await settle(pilot)
        lines = bar.render().plain.split("\n")
        assert bar.size.height == len(lines) == MAX_LINES
        assert lines[-1] == f"另有 {len(bar.findings) - (MAX_LINES - 1)} 条"
        assert all(cell_len(line) <= bar.content_size.width for line in lines)
        composer = app.screen.query_one(Composer)
        assert bar.region.bottom == composer.region.y  # right above it, not over it


# -- footer, hint, toasts -----------------------------------------------------------------------


def footer_keys(app):
    from textual.widgets._footer import FooterKey

    return list(app.screen.query(FooterKey))


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_footer_at_80x24_starts_with_help_and_quit(store, clock, lang):
    app = app_for(store, clock, lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await select(pilot, chinese_row(store))
        for press in ([], ["r"]):  # on the queue, and while typing a reply
            await pilot.press(*press)
            await settle(pilot)
            keys = [k for k in footer_keys(app) if not k.has_class("-command-palette")]
            assert [k.action for k in keys[:2]] == ["help", "quit"]
            palette = next(k for k in footer_keys(app) if k.has_class("-command-palette"))
            assert all(k.region.right <= palette.region.x for k in keys[:2])
            assert palette.description == ("命令面板" if lang == "zh" else "palette")


async def test_the_footer_follows_focus_and_the_language_switch(store, clock):
    """The footer is rebuilt only when what it shows changes: moving into the composer and back,
    and switching the language, must each still show the keys of the moment."""
    app = app_for(store, clock, lang="en")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, first_unassigned(store))

        def described() -> dict[str, str]:
            return {k.action: str(k.description) for k in footer_keys(app)}

        on_queue = described()
        assert on_queue["claim"] == "Claim"
        await pilot.press("r")
        await settle(pilot)
        assert "claim" not in described() and described() != on_queue
        await pilot.press("escape")
        await settle(pilot)
        assert described() == on_queue
        await pilot.press("f9")
        await settle(pilot)
        chinese = described()
        assert chinese["claim"] == translate("zh", "Claim") != "Claim"
        assert chinese["help"] == translate("zh", "Help") != "Help"


def _process_wide_freezes_done() -> None:
    """pypinyin is frozen out of the collector's way on its first use in a process (see
    cs_tui.collector), and so is whatever else is alive at that moment: done before the app
    starts, so that nothing of the test's own is frozen halfway through."""
    make_keys(["退款"])


async def test_keys_the_footer_no_longer_shows_are_let_go(store, clock):
    """Each rebuild of the footer replaces its keys; the old ones must not stay alive (an agent's
    day is thousands of rebuilds, and every key kept its drawn lines for the collector to walk)."""
    _process_wide_freezes_done()
    app = app_for(store, clock, lang="en")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, first_unassigned(store))
        first = footer_keys(app)
        seen = [weakref.ref(key) for key in first]
        for _ in range(5):  # into the composer and back: two rebuilds each time
            for key in ("r", "escape"):
                await pilot.press(key)
                await settle(pilot)
                seen += [weakref.ref(key) for key in footer_keys(app)]
        shown = set(footer_keys(app))
        assert not shown & set(first)  # the footer was rebuilt
        del first
        gc.collect()
        assert [ref() for ref in seen if ref() is not None and ref() not in shown] == []


async def test_a_closed_dialog_leaves_nothing_it_drew_behind(store, clock):
    """The help screen's widgets, once it is closed, take the lines they drew with them (Textual
    kept up to 1,024 removed widgets' line caches; see cs_tui.widgets.styles_cache_fix)."""
    _process_wide_freezes_done()
    app = app_for(store, clock, lang="en")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        dialog = app.screen
        drawn = [weakref.ref(w._styles_cache) for w in dialog.query("*")]
        assert drawn and dialog is not app.get_default_screen()
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is not dialog
        del dialog
        gc.collect()
        assert [ref for ref in drawn if ref() is not None] == []


async def test_ctrl_c_says_in_chinese_which_key_quits(store, clock):
    app = app_for(store, clock, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+c")
        await settle(pilot)
        (toast,) = app._notifications
        assert toast.message == "按 ^q 退出。" and toast.title == "要退出吗?"


@pytest.mark.parametrize(("lang", "width"), [("en", 80), ("zh", 80), ("en", 100)])
async def test_the_composer_hint_is_never_cut_in_a_word(store, clock, lang, width):
    app = app_for(store, clock, lang=lang)
    async with app.run_test(size=(width, 24)) as pilot:
        await settle(pilot)
        await select(pilot, chinese_row(store))
        await pilot.press("r")
        await settle(pilot)
        composer = app.screen.query_one(Composer)
        hint = composer.border_subtitle
        assert hint in [_t(lang, h) for h in HINTS]
        hints = [_t(lang, h) for h in HINTS]
        assert cell_len(hint) + 6 <= composer.outer_size.width
        longer = hints[: hints.index(hint)]
        assert all(cell_len(h) + 6 > composer.outer_size.width for h in longer)  # the longest
        assert hint in bottom_border(app, composer)


def _t(lang, msgid):
    from cs_tui.i18n import translate

    return translate(lang, msgid)


def bottom_border(app, widget) -> str:
    """The composer's bottom border row as drawn on the screen."""
    strips = app.screen._compositor.render_strips()
    row = widget.region.bottom - 1
    line = "".join(segment.text for segment in strips[row])
    # Double-width characters take two cells but one character: count cells.
    out, cells = [], 0
    for char in line:
        if cells >= widget.region.x:
            out.append(char)
        cells += cell_len(char)
        if cells >= widget.region.right:
            break
    return "".join(out)


async def test_after_a_note_the_composer_is_back_in_reply_mode(store, clock):
    row = chinese_row(store)
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("m")
        await settle(pilot)
        composer = app.screen.query_one(Composer)
        assert composer.mode == "note"
        await type_text(pilot, "VIP, call back after 6")
        await pilot.press("enter")
        await settle(pilot)
        notes = [m for m in store.conversation(row.id).messages if m.author_kind == "note"]
        assert notes and notes[-1].body == "VIP, call back after 6"
        assert composer.mode == "reply" and composer.border_title == "Reply"


def test_snapshot_findings_at_80x24(snap_compare, store, clock):
    """A Chinese reply with five findings at 80x24: two of them, "+3 more", the composer's
    hint whole, help and quit first in the footer."""
    row = chinese_row(store)
    app = app_for(store, clock, lang="zh")

    async def write(pilot):
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("r")
        await settle(pilot)
        await type_text(pilot, MANY)
        bar = app.screen.query_one(FindingsBar)
        # The check runs a moment after the last key: wait for the one of the whole text.
        await until(pilot, lambda: len(bar.findings) == len(reply_findings(MANY, "zh")))
        app.screen.query_one(Composer).cursor_blink = False
        await settle(pilot)
        await until(pilot, lambda: bar.size.height == MAX_LINES)  # laid out, not only posted
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=write)


# -- the transcript -----------------------------------------------------------------------------


async def test_the_newest_message_stays_in_view_on_resize_and_side_panel_swaps(store, clock):
    row = chinese_row(store)
    for n in range(12):
        store.post_customer_message(
            row.id, f"第{n}条:我的快递三天没有更新了,请帮我查一下物流到哪里了。" * 2
        )
    store.post_customer_message(row.id, "最后一条:请尽快回复我")
    app = app_for(store, clock, lang="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("enter")
        await settle(pilot)
        transcript = app.screen.query_one(Transcript)

        async def newest_in_view(step):
            await settle(pilot)
            await pilot.pause()
            assert transcript.max_scroll_y > 0, step  # it does overflow
            assert transcript.scroll_y == transcript.max_scroll_y, step

        await newest_in_view("opened")
        for step in ("80x24", "side open", "side closed", "100x30", "120x40"):
            if step == "80x24":
                await pilot.resize_terminal(80, 24)
            elif step.startswith("side"):
                await pilot.press("b")
            elif step == "100x30":
                await pilot.resize_terminal(100, 30)
            else:
                await pilot.resize_terminal(120, 40)
            await newest_in_view(step)


async def test_the_command_palette_asks_in_chinese(store, clock):
    from textual.command import CommandInput

    app = app_for(store, clock, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert app.screen.query_one(CommandInput).placeholder == "搜索命令…"
