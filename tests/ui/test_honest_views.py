"""Honest views, by real key presses: what scope 3 holds and says, the "handed over" scope, an
empty queue that names its filters, transfer with a handover note the new owner reads first,
a picker that shows who is online and how loaded, take-next naming what it took, and a side
panel that forgets the last customer's knowledge search."""

from __future__ import annotations

from textual.widgets import Input, OptionList, Static

from cs_tui.data.views import QueueFilter
from cs_tui.screens.transfer import TransferScreen
from cs_tui.widgets.handover import HandoverBanner
from cs_tui.widgets.queue_empty import QueueEmpty
from cs_tui.widgets.queue_list import QueueList
from tests.ui.pilot_helpers import (
    alice,
    app_for,
    first_unassigned,
    mine,
    open_row,
    select,
    settle,
    type_text,
    until,
)


def title(pilot) -> str:
    return str(pilot.app.screen.query_one("#queue-title", Static).render())


async def test_transfer_asks_a_handover_note_that_the_new_owner_reads_first(store, clock):
    row = mine(store, "open")[0]
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, TransferScreen))
        await type_text(pilot, "carol")
        await pilot.press("enter")  # carol chosen: on to the note
        assert app.screen.query_one("#handover-note", Input).has_focus
        await pilot.press("enter")  # an empty note is refused, the dialog stays
        await settle(pilot)
        assert isinstance(app.screen, TransferScreen)
        problem = str(app.screen.query_one("#transfer-problem", Static).render())
        assert "handover note" in problem and "carol" in problem
        assert store.queue_row(row.id).assignee == "alice"
        await type_text(pilot, "Order 5024549505020500 checked; refund waits on finance [b]")
        await pilot.press("enter")
        await settle(pilot)
        assert store.queue_row(row.id).assignee == "carol"

    carol = app_for(store, clock, agent="carol")
    async with carol.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, row)
        banner = carol.screen.query_one(HandoverBanner)
        assert banner.display
        shown = str(banner.render())
        assert "Handed over by alice" in shown
        assert "refund waits on finance [b]" in shown  # drawn literally, not as markup
        # Pinned above the transcript, not one of its scrolling messages.
        assert banner.region.y < carol.screen.query_one("#transcript").region.y


async def test_the_picker_shows_who_is_online_and_how_many_open_each_holds(store, clock):
    row = mine(store, "open")[0]
    store.heartbeat(store.get_agent("carol").id)  # carol's workstation is running
    loads = {load.handle: load.load for load in store.agent_loads()}
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, TransferScreen))
        await settle(pilot)
        listing = app.screen.query_one("#agents", OptionList)
        lines = {
            listing.get_option_at_index(i).id: str(listing.get_option_at_index(i).prompt)
            for i in range(listing.option_count)
        }
        assert listing.get_option_at_index(0).id == "carol"  # online first
        assert "online" in lines["carol"] and f"{loads['carol']} open" in lines["carol"]
        assert "away" in lines["bob"] and f"{loads['bob']} open" in lines["bob"]
        assert "alice" not in lines  # not to herself


async def test_scope_3_is_all_an_agent_may_see_and_says_so(store, clock):
    agent = alice(store)
    expected = store.queue_count(agent, QueueFilter(scope="mine")) + store.queue_count(
        agent, QueueFilter(scope="unassigned")
    )
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert "mine + unassigned" in title(pilot)
        assert app.screen.query_one(QueueList).total == expected

    boss = next(a for a in store.list_agents() if a.role == "supervisor")
    app = app_for(store, clock, agent=boss.handle)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "all queues" in title(pilot)
        assert app.screen.query_one(QueueList).total == store.queue_count(boss, QueueFilter())


async def test_a_transferred_conversation_stays_findable_under_handed_over(store, clock):
    row = mine(store, "open")[0]
    store.assign(alice(store), row.id, "bob", note="VIP, wants a call back")
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = app.screen.query_one(QueueList)
        assert row.id not in [r.id for r in queue.window[1]]
        await pilot.press("4")
        await settle(pilot)
        assert "handed over" in title(pilot)
        assert [r.id for r in queue.window[1]] == [row.id]
        await pilot.press("enter")
        await settle(pilot)
        # She still reads what she wrote (the transcript is bob's to answer now).
        assert "VIP, wants a call back" in str(app.screen.query_one(HandoverBanner).render())


async def test_an_empty_queue_names_the_filter_that_hides_rows_and_0_clears_them(store, clock):
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        total = app.screen.query_one(QueueList).total
        empty = app.screen.query_one(QueueEmpty)
        assert total > 0 and not empty.display
        await pilot.press("1")  # mine
        await pilot.press("slash")
        await type_text(pilot, "no-such-customer")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one(QueueList).total == 0
        assert empty.display
        said = str(empty.render())
        assert "scope: mine" in said and "“no-such-customer”" in said
        assert "0: clear every filter" in said
        await pilot.press("0")
        await settle(pilot)
        assert app.screen.filter == QueueFilter()
        assert app.screen.query_one(QueueList).total == total
        assert not empty.display
        assert not app.screen.query_one("#queue-filter", Input).display


async def test_an_empty_queue_in_chinese(store, clock):
    app = app_for(store, clock, lang="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "没有这个人")
        await pilot.press("enter")
        await settle(pilot)
        said = str(app.screen.query_one(QueueEmpty).render())
        assert "没有符合此筛选的会话" in said and "0:清除全部筛选" in said


async def test_take_next_names_the_conversation_it_opened(store, clock):
    expected = first_unassigned(store)
    app = app_for(store, clock)
    said_all: list[str] = []
    notify = app.notify

    def record(message, *args, **kwargs):
        # Kept here too: on a busy machine the three-second toast may be gone before we look.
        said_all.append(str(message))
        return notify(message, *args, **kwargs)

    app.notify = record
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.detail.row.id == expected.id
        said = " ".join(said_all)
        assert expected.external_id in said and expected.customer_name[:20] in said


async def test_the_side_panel_forgets_the_last_customers_knowledge_search(store, clock):
    first, second = mine(store, "open")[:2]
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, first)
        await pilot.press("ctrl+k")
        await settle(pilot)
        search = app.screen.query_one("#kb-search", Input)
        await type_text(pilot, "refund")
        assert search.value == "refund"
        await open_row(pilot, second)
        await settle(pilot)
        assert search.value == ""
