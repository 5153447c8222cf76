"""The workstation acts on the conversation on screen, and never sends by accident.

Real keys through Pilot on a copy of the demo store; every test asserts what the store holds
afterwards (which conversation got escalated, snoozed or tagged; whether a reply was stored).
"""

from __future__ import annotations

from cs_tui.data.views import QueueFilter
from cs_tui.screens.workstation import WorkstationScreen
from cs_tui.widgets.queue_list import QueueList
from tests.ui import test_workstation as ws
from tests.ui.test_workstation import app_for, mine, select, settle, type_text

# The demo-store fixtures of the workstation tests (a copy of the demo store per test, a fixed
# clock, local time UTC).
_utc, clock, demo_template, store = ws._utc, ws.clock, ws.demo_template, ws.store


def screen(pilot) -> WorkstationScreen:
    return pilot.app.screen


def queue(pilot) -> QueueList:
    return screen(pilot).query_one(QueueList)


def toasts(pilot) -> str:
    return " ".join(str(n.message) for n in pilot.app._notifications)


def border_title(pilot) -> str:
    box = pilot.app.screen.query_one(".box")
    return str(box.border_title)


async def open_row(pilot, row) -> None:
    await select(pilot, row)
    await pilot.press("enter")
    await settle(pilot)
    assert screen(pilot).detail.row.id == row.id


# -- 1. the open conversation is the target -----------------------------------------------------


async def test_escalate_acts_on_the_open_conversation_not_the_cursor(store, clock):
    row = mine(store, "open")[0]
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, row)
        await pilot.press("escape")  # the queue filter box: back to the whole queue
        await settle(pilot)
        screen(pilot).set_filter(QueueFilter())
        await settle(pilot)
        queue(pilot).focus()
        await pilot.press("j", "j")  # the cursor wanders while the conversation stays open
        await settle(pilot)
        cursor_row = queue(pilot).current_row
        assert cursor_row.id != row.id and screen(pilot).detail.row.id == row.id
        await pilot.press("e")
        await settle(pilot)
        assert row.external_id in border_title(pilot)
        await type_text(pilot, "needs a refund above policy")
        await pilot.press("enter")
        await settle(pilot)
        assert store.queue_row(row.id).status == "escalated"
        assert store.queue_row(cursor_row.id).status != "escalated"
