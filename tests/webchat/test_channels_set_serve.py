"""`cs-tui channels set` on a web channel while `cs-tui serve` runs: the page shows the pre-chat
form from its next load on, and an origin added may open the chat while one removed may not
(403), without restarting the server."""

from __future__ import annotations

import asyncio
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from cs_tui.cli import main
from tests.webchat.conftest import WAIT_S
from tests.webchat.page import ChatPage
from tests.webchat.test_chat_page import team
from tests.webchat.test_chat_prechat import form_shown
from tests.webchat.test_chat_sockets import ws_url

pytestmark = pytest.mark.slow


def channels_set(gateway, *argv: str) -> None:
    assert main(["channels", "set", "shop", *argv, "--db", gateway.db, "--agent", "sam"]) == 0


def eventually(check, what: str, pause: float = 0.3):
    """A running server reads a changed channel again within a second: try until it has."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(pause)
    raise AssertionError(what)


def test_the_pre_chat_form_switched_on_shows_on_the_next_load(gateway, browser):
    team(gateway.store)
    page = ChatPage(browser()).open(f"{gateway.url}/chat/shop?lang=en")
    page.wait_online()
    assert not form_shown(page)

    channels_set(gateway, "--pre-chat", "on")

    def reloaded_with_form() -> bool:
        page.driver.refresh()
        page.wait_online()
        return form_shown(page)

    eventually(reloaded_with_form, "the page never showed the pre-chat form")

    channels_set(gateway, "--pre-chat", "off")
    eventually(lambda: not reloaded_with_form(), "the pre-chat form never went away")


def opens(gateway, origin: str) -> bool:
    """Whether a page of `origin` may open the chat socket (else the upgrade gets 403)."""

    async def attempt() -> bool:
        try:
            ws = await connect(ws_url(gateway), origin=origin, ping_interval=None)  # type: ignore[arg-type]
        except InvalidStatus as refused:
            assert refused.response.status_code == 403
            return False
        await ws.close()
        return True

    return asyncio.run(attempt())


def test_origins_added_and_removed_apply_to_a_running_server(gateway):
    team(gateway.store)
    assert opens(gateway, "http://shop.example")
    assert not opens(gateway, "https://m.shop.example")

    channels_set(gateway, "--add-origin", "https://m.shop.example")
    eventually(lambda: opens(gateway, "https://m.shop.example"), "the added origin was refused")

    channels_set(gateway, "--remove-origin", "http://shop.example")
    eventually(lambda: not opens(gateway, "http://shop.example"), "the removed origin still opens")
    assert opens(gateway, "https://m.shop.example")
