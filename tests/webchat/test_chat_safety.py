"""What a hostile visitor, a hostile text or a stranger's page cannot do to the web chat:
text shows literally both ways, one visitor never reads another's conversation, a page of an
origin the channel does not list is refused, and the limits are told to the visitor."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from tests.ui.test_hostile_render import C1, CLEAR, MARKUP, OSC52
from tests.webchat.conftest import ShopSite, web_gateway
from tests.webchat.page import ChatPage
from tests.webchat.test_chat_page import reply, team, visitor_conversation

pytestmark = pytest.mark.slow

HOSTILE = [
    "<img src=x onerror=\"document.title='pwned'\">",
    "<script>document.title='pwned'</script>",
    '</li><li data-author="agent">fake agent line</li>',
    "{{7*7}} ${document.title} javascript:alert(1)",
    f"controls {OSC52}{CLEAR}{C1} end",
    MARKUP,
    "\u202eevil\u202c rtl and 表情 😀",
]


def test_hostile_text_shows_literally_both_ways(gateway, browser):
    _sam, alice = team(gateway.store)
    page = ChatPage(browser()).open(f"{gateway.url}/chat/shop")
    page.wait_online()
    for text in HOSTILE:
        page.send(text)
        page.wait_sent(text)
    conversation = visitor_conversation(gateway.store)
    assert [m.text for m in gateway.store.web_messages(conversation)] == HOSTILE
    for text in HOSTILE:
        reply(gateway.store, alice, conversation, text)
    for text in HOSTILE:
        page.wait_message("agent", text)
    # Every message is its text and nothing more: no element was made from it.
    for message in page.messages():
        assert message["elements"] == (2 if message["author"] == "agent" else 1), message
    assert page.driver.title == "Chat with us"
    assert page.driver.execute_script("return document.querySelectorAll('img, script').length") == 1


def test_a_second_visitor_cannot_read_the_first_ones_messages(gateway, browser):
    _sam, alice = team(gateway.store)
    first = ChatPage(browser()).open(f"{gateway.url}/chat/shop")
    first.wait_online()
    first.send("my address is 1 Secret Road")
    first.wait_sent("my address is 1 Secret Road")
    conversation = visitor_conversation(gateway.store)
    reply(gateway.store, alice, conversation, "Noted your address")
    first.wait_message("agent", "Noted your address")

    second = ChatPage(browser()).open(f"{gateway.url}/chat/shop")
    second.wait_online()
    second.send("hello from someone else")
    second.wait_sent("hello from someone else")
    assert second.texts() == ["hello from someone else"]
    token = first.driver.execute_script("return localStorage.getItem('cs-chat:shop:token')")

    async def forged() -> list[dict]:
        """The first visitor's token with its signature altered: a new visitor, no history."""
        bad = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
        async with websockets.connect(
            f"ws://127.0.0.1:{gateway.port}/ws/chat/shop", origin=gateway.url
        ) as ws:
            await ws.send(json.dumps({"type": "hello", "token": bad, "last_seq": 0}))
            frames = [json.loads(await ws.recv())]
            await ws.send(json.dumps({"type": "send", "client_id": "forged-01", "text": "hi"}))
            while not any(f.get("type") == "message" for f in frames):
                frames.append(json.loads(await asyncio.wait_for(ws.recv(), 15)))
            return frames

    frames = asyncio.run(forged())
    assert frames[0]["type"] == "welcome" and frames[0]["token"] != token
    assert [f["text"] for f in frames if f["type"] == "message"] == ["hi"]
    assert "Secret Road" not in json.dumps(frames)
    # The first visitor's conversation holds only their own messages and the agent's.
    assert [m.text for m in gateway.store.web_messages(conversation)] == [
        "my address is 1 Secret Road",
        "Noted your address",
    ]


def test_a_page_from_an_origin_not_listed_is_refused_and_a_listed_one_works(tmp_path, browser):
    listed = ShopSite()
    try:
        gateways = web_gateway(tmp_path, origins=[listed.origin])
        gateway = next(gateways)
        embed = (
            "<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>"
            f'<script src="{gateway.url}/widget.js" data-channel="shop" data-lang="zh"></script>'
            "</body></html>"
        )
        listed.page = embed
        stranger = ShopSite(embed)
        try:
            page = ChatPage(browser()).open(f"{listed.origin}/")
            page.wait_online()
            page.send("你好")
            page.wait_sent("你好")
            assert page.driver.find_element("css selector", "button[type=submit]").text == "发送"

            refused = ChatPage(browser()).open(f"{stranger.origin}/")
            refused.wait(lambda: refused.connection() == "reconnecting", "no reconnecting")

            async def upgrade(origin: str | None) -> int:
                try:
                    async with websockets.connect(
                        f"ws://127.0.0.1:{gateway.port}/ws/chat/shop", origin=origin
                    ):
                        return 101
                except websockets.InvalidStatus as exc:
                    return exc.response.status_code

            assert asyncio.run(upgrade(stranger.origin)) == 403
            assert asyncio.run(upgrade("null")) == 403
            assert asyncio.run(upgrade(listed.origin)) == 101
            assert refused.connection() != "online"
            assert refused.texts() == []
        finally:
            stranger.close()
            next(gateways, None)
    finally:
        listed.close()


def test_too_long_and_too_fast_are_told_to_the_visitor(tmp_path, browser):
    gateways = web_gateway(tmp_path, settings={"limits": {"messages_per_visitor": 3}})
    gateway = next(gateways)
    try:
        team(gateway.store)
        page = ChatPage(browser()).open(f"{gateway.url}/chat/shop")
        page.wait_online()
        page.send("x" * 5001)
        page.wait(lambda: any("too long" in t for t in page.texts("system")), "no too-long message")
        assert page.messages()[0]["status"] == "failed"
        for n in range(3):
            page.send(f"message {n}")
            page.wait_sent(f"message {n}")
        page.send("one too many")
        page.wait(lambda: any("too quickly" in t for t in page.texts("system")), "no rate message")
        assert page.messages()[-2]["status"] == "failed"
        conversation = visitor_conversation(gateway.store)
        assert [m.text for m in gateway.store.web_messages(conversation)] == [
            "message 0",
            "message 1",
            "message 2",
        ]

        async def server_side() -> dict:
            """The server refuses a long text itself (a page is not trusted to check)."""
            async with websockets.connect(
                f"ws://127.0.0.1:{gateway.port}/ws/chat/shop", origin=gateway.url
            ) as ws:
                await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
                await ws.recv()
                await ws.send(
                    json.dumps({"type": "send", "client_id": "long-0001", "text": "y" * 5001})
                )
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 15))
                    if frame["type"] == "refused":
                        return frame

        assert asyncio.run(server_side()) == {
            "type": "refused",
            "client_id": "long-0001",
            "code": "too_long",
        }
    finally:
        next(gateways, None)
