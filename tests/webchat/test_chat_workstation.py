"""The whole way round: a visitor writes in the browser, the conversation appears in a running
workstation (Pilot, live change feed), the agent claims it and replies by keys, and the reply
appears in the visitor's page under the agent's display name. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from cs_tui.app import make_app
from cs_tui.widgets.queue_list import QueueList
from tests.ui.pilot_helpers import open_row, settle, type_text, until
from tests.webchat.page import ChatPage
from tests.webchat.test_chat_page import team

pytestmark = pytest.mark.slow


def web_rows(pilot) -> list:
    queue = pilot.app.screen.query_one(QueueList)
    return [r for r in queue.window[1] if r.external_id.startswith("web-shop-")]


async def test_a_visitor_message_reaches_the_workstation_and_the_reply_reaches_the_page(
    any_gateway, browser
):
    gateway = any_gateway
    team(gateway.store)
    page = ChatPage(browser()).open(f"{gateway.url}/chat/shop")
    page.wait_online()
    app = make_app(gateway.store, "alice", lang="en", live=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert web_rows(pilot) == []
        page.send("Hi, is the blue jacket in stock?")
        page.wait_sent("Hi, is the blue jacket in stock?")
        await until(pilot, lambda: web_rows(pilot))
        row = web_rows(pilot)[0]
        await open_row(pilot, row)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        await type_text(pilot, "Yes, sizes M and L.")
        await pilot.press("enter")
        await settle(pilot)
        shown = page.wait_message("agent", "Yes, sizes M and L.")
        assert shown["name"] == "Alice Chen"
