"""Phrases anywhere in a reply, and their blanks: the keystroke flows an agent uses, by key.

The keys are real presses through Pilot; where a flow promises a number of keys, the test counts
the presses it makes after the phrase is in.
"""

from __future__ import annotations

from cs_tui.widgets.composer import Composer
from cs_tui.widgets.side_panel import SidePanel
from tests.ui.pilot_helpers import app_for, mine, select, settle, type_text, until

REFUND = "您的退款已经成功，{amount}元会在24小时内原路退回到您的支付账户。"


def chinese_row(store):
    """One of alice's open conversations with a customer who writes Chinese."""
    return next(r for r in mine(store, "open") if not r.customer_name.isascii())


async def _reply_to(pilot, store, row=None):
    """Open one of alice's conversations and put the cursor in the composer."""
    row = row or chinese_row(store)
    await settle(pilot)
    await select(pilot, row)
    await pilot.press("r")
    await settle(pilot)
    composer = pilot.app.screen.query_one(Composer)
    assert composer.has_focus
    return row, composer


async def _pick(pilot, shortcut: str) -> None:
    """ctrl+/ from the composer, the phrase's shortcut, Enter: the phrase goes in."""
    await pilot.press("ctrl+underscore")  # what a terminal sends for ctrl+/
    await settle(pilot)
    side = pilot.app.screen.query_one(SidePanel)
    assert pilot.app.focused is side.query_one("#phrase-search")
    await type_text(pilot, shortcut)
    await settle(pilot)
    await until(pilot, lambda: any(i.shortcut == shortcut for i in side._phrase_items.values()))
    await pilot.press("enter")
    await settle(pilot)


async def test_filling_the_refund_amount_takes_its_digits_plus_one_key(store, clock):
    app = app_for(store, clock, lang="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        _row, composer = await _reply_to(pilot, store)
        await _pick(pilot, "tkcg")  # 退款成功
        assert composer.has_focus
        assert composer.text == REFUND
        keys = ["tab", "1", "2", "8"]
        await pilot.press(*keys)
        assert composer.text == REFUND.replace("{amount}", "128")
        assert len(keys) == len("128") + 1


async def test_ctrl_slash_puts_a_phrase_at_the_cursor_mid_reply_and_phrases_stack(store, clock):
    app = app_for(store, clock, lang="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        _row, composer = await _reply_to(pilot, store)
        await type_text(pilot, "好的。")
        await pilot.press("left")  # the cursor between 好的 and 。
        await _pick(pilot, "tkcg")
        assert composer.text == "好的" + REFUND + "。"
        # The cursor is after the phrase: the next one goes on from there.
        await pilot.press("ctrl+slash")  # a terminal that reports ctrl+/ in full
        await settle(pilot)
        await type_text(pilot, "tkcg")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert composer.text == "好的" + REFUND + REFUND + "。"


async def test_tab_and_shift_tab_walk_the_blanks_and_typing_replaces_the_one_selected(store, clock):
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        _row, composer = await _reply_to(pilot, store)
        composer.insert_text("Refund {amount} for {product}, see {date}.")
        await pilot.press("tab")  # from the end: round to the first
        assert composer.selected_text == "{amount}"
        await pilot.press("tab")
        assert composer.selected_text == "{product}"
        await pilot.press("tab", "tab")  # {date}, then round to {amount}
        assert composer.selected_text == "{amount}"
        await pilot.press("shift+tab")  # back round to the last
        assert composer.selected_text == "{date}"
        await type_text(pilot, "Monday")
        assert composer.text == "Refund {amount} for {product}, see Monday."
        await pilot.press("shift+tab")
        assert composer.selected_text == "{product}"
        await type_text(pilot, "the kettle")
        await pilot.press("tab")  # the one blank left
        await type_text(pilot, "$20")
        assert composer.text == "Refund $20 for the kettle, see Monday."
        assert composer.has_focus
        await pilot.press("tab")  # no blank left: Tab leaves the composer as it always did
        assert not composer.has_focus


async def test_the_hint_under_the_composer_says_tab_while_a_blank_is_left(store, clock):
    """The hint names ctrl+/ for phrases; once a phrase leaves a blank it names tab instead,
    and when the last blank is filled it is back to the usual keys."""
    app = app_for(store, clock, lang="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        _row, composer = await _reply_to(pilot, store, chinese_row(store))
        assert "ctrl+/ 话术" in composer.border_subtitle
        composer.insert_text("退款 {amount} 元")
        await until(pilot, lambda: "tab 下一空" in str(composer.border_subtitle))
        await pilot.press("tab")
        await type_text(pilot, "128")
        await until(pilot, lambda: "ctrl+/ 话术" in str(composer.border_subtitle))
        assert composer.text == "退款 128 元"


async def test_known_values_are_filled_in_and_only_the_rest_left_as_blanks(store, clock):
    """{customer_name} from the customer, {order_id} from an order number the customer wrote:
    the confirm phrase needs no blank filled, so Tab leaves the composer."""
    row = chinese_row(store)
    store.post_customer_message(row.id, "我的订单号是 5024549505020500,退款还没到")
    app = app_for(store, clock, lang="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        _row, composer = await _reply_to(pilot, store, row)
        await _pick(pilot, "hddd")  # 跟您核对一下：订单号{order_id}，收货人{customer_name}，对吗？
        assert composer.text == (
            f"跟您核对一下：订单号5024549505020500，收货人{row.customer_name}，对吗？"
        )
        await pilot.press("tab")
        assert not composer.has_focus


def test_snapshot_composer_with_blanks(snap_compare, store, clock):
    """Two phrases in a reply: the blanks they leave drawn highlighted, the first one selected
    by Tab, ready to be typed over."""
    app = app_for(store, clock, lang="zh")

    async def fill(pilot):
        _row, composer = await _reply_to(pilot, store)
        composer.cursor_blink = False
        await _pick(pilot, "tkcg")
        composer.insert_text("\n预计{date}到达，快递单号{tracking_no}。")
        await pilot.press("tab")
        await settle(pilot)
        # The draft is checked a moment after the last change (a debounce timer, not a
        # worker): wait until the check has seen all three blanks.
        await until(pilot, lambda: len(pilot.app.screen.findings) == 3)

    assert snap_compare(app, terminal_size=(120, 40), run_before=fill)


# --------------------------------------------------------------------------- personal phrases


async def test_save_selection_as_phrase_then_find_it_marked_mine_and_insert_it(store, clock):
    """Palette "save selection as phrase" keeps the composer's selection as alice's own phrase;
    the picker then finds it by its shortcut, marks it as hers, and Enter puts it in."""
    from textual.command import CommandPalette

    alice = store.get_agent("alice")
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        _row, composer = await _reply_to(pilot, store)
        await type_text(pilot, "亲,周末仓库休息,{date}发货。")
        await pilot.press("shift+home")  # select the line
        assert composer.selected_text == "亲,周末仓库休息,{date}发货。"
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
        await type_text(pilot, "Save selection as phrase")
        await settle(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: pilot.app.screen.query("#phrase-title"))
        await pilot.press("enter")  # no title yet: refused in the dialog, nothing saved
        assert pilot.app.screen.query("#phrase-title")
        await type_text(pilot, "周末仓库说明")
        await pilot.press("tab")
        await type_text(pilot, "zmck")
        await pilot.press("enter")
        await until(pilot, lambda: store.personal_phrases(alice.id))
        [saved] = store.personal_phrases(alice.id)
        assert (saved.title, saved.body, saved.shortcut) == (
            "周末仓库说明",
            "亲,周末仓库休息,{date}发货。",
            "zmck",
        )
        await settle(pilot)
        composer.focus()
        composer.text = ""
        await _pick(pilot, "zmck")
        assert composer.text == "亲,周末仓库休息,{date}发货。"
        side = pilot.app.screen.query_one(SidePanel)
        [item] = [i for i in side._phrase_items.values() if i.shortcut == "zmck"]
        assert item.personal


def problem_shown(pilot) -> str:
    found = pilot.app.screen.query("#phrase-problem")
    return str(found.first().render()) if found else ""


async def test_a_refused_shortcut_brings_the_dialog_back_with_the_reason(store, clock):
    alice = store.get_agent("alice")
    store.add_personal_phrase(alice, "旧的", "旧话术", shortcut="zmck")
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        _row, composer = await _reply_to(pilot, store)
        await type_text(pilot, "新的话术")
        await pilot.press("shift+home")
        await pilot.app.screen.run_action("save_phrase")
        await until(pilot, lambda: pilot.app.screen.query("#phrase-title"))
        await type_text(pilot, "新的")
        await pilot.press("tab")
        await type_text(pilot, "zmck")
        await pilot.press("enter")
        await until(pilot, lambda: "zmck" in problem_shown(pilot))
        assert pilot.app.screen.query_one("#phrase-title").value == "新的"
        await pilot.press("escape")
        await settle(pilot)
        assert [p.title for p in store.personal_phrases(alice.id)] == ["旧的"]


async def test_a_personal_phrase_with_markup_is_drawn_as_written(store, clock):
    """Markup in an agent's own phrase is text: listed literally, no crash on `[/]`, no action."""
    alice = store.get_agent("alice")
    store.add_personal_phrase(alice, "周末 [/] [@click=app.quit]退出[/]", "亲 [b]周末[/b] [/]")
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        _row, composer = await _reply_to(pilot, store)
        await pilot.press("ctrl+underscore")
        await type_text(pilot, "周末")
        await settle(pilot)
        side = pilot.app.screen.query_one(SidePanel)
        listing = side.query_one("#phrase-list")
        shown = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert any("周末 [/] [@click=app.quit]退出[/]" in line for line in shown)
        await until(pilot, lambda: any(i.personal for i in side._phrase_items.values()))
        await pilot.press("enter")
        await settle(pilot)
        assert composer.text == "亲 [b]周末[/b] [/]"
        assert pilot.app.is_running
