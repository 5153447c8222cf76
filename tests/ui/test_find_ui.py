"""Find anything from the keyboard: the queue's `/` filter and the palette's "Find conversation"
find a conversation by an order number that only an older message holds, and open it."""

from __future__ import annotations

from textual.command import CommandPalette

from cs_tui.data.views import QueueFilter
from cs_tui.widgets.queue_list import QueueList
from tests.ui.pilot_helpers import alice, app_for, settle, type_text, until

ORDER = "7788990011223344"  # in no demo conversation


def order_conversation(store) -> int:
    """An unassigned conversation whose order number is in its first message only: the queue
    row's preview shows the newest message."""
    cid = store.create_conversation(
        external_id="FIND-1", customer_handle="wx-find", customer_name="周杰"
    )
    store.post_customer_message(cid, f"订单{ORDER}一直没有物流信息")
    store.post_customer_message(cid, "在吗?")
    assert ORDER not in store.queue_row(cid).preview
    return cid


async def test_the_queue_filter_finds_an_order_number_in_an_older_message(store, clock):
    cid = order_conversation(store)
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, ORDER)
        await pilot.press("enter")
        await settle(pilot)
        queue = app.screen.query_one(QueueList)
        _start, rows = queue.window
        assert [r.id for r in rows] == [cid]
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.detail.row.id == cid


async def test_the_palette_finds_and_opens_a_conversation(store, clock):
    cid = order_conversation(store)
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await type_text(pilot, "Find conversation")
        await settle(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await type_text(pilot, ORDER[4:14])  # any part of the number
        await until(pilot, lambda: "FIND-1" in _palette_text(app))
        await pilot.press("enter")
        await until(pilot, lambda: getattr(app.screen, "detail", None) is not None)
        await settle(pilot)
        assert app.screen.detail.row.id == cid


async def test_the_palette_does_not_offer_what_the_agent_may_not_see(store, clock):
    cid = order_conversation(store)
    store.claim(store.get_agent("bob") or store.ensure_agent("bob"), cid)
    assert store.find(alice(store), ORDER) == []
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.action_find_conversation()
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await type_text(pilot, ORDER)
        await settle(pilot)
        assert "FIND-1" not in _palette_text(app)
        assert store.queue(alice(store), QueueFilter(text=ORDER)) == []


def _palette_text(app) -> str:
    from textual.widgets import OptionList

    options = app.screen.query_one(OptionList)
    return " ".join(str(options.get_option_at_index(i).prompt) for i in range(options.option_count))
