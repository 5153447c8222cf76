"""`cs-tui serve --web-give-up` fails, on its own, a reply whose visitor has not come back to the
page in time, with the reason the agent reads; the visitor who comes back later still gets it,
exactly once, and the conversation is no longer undelivered once the page has shown it."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import connect

from tests.webchat.conftest import web_gateway
from tests.webchat.test_chat_page import reply, team, visitor_conversation
from tests.webchat.test_chat_sockets import ORIGIN, frame, ws_url

pytestmark = pytest.mark.slow

WAIT_S = 15.0


def wait_for(condition, what: str):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(what)


def test_serve_gives_up_on_a_visitor_who_left_and_the_visitor_still_gets_it_later(
    tmp_path, backend
):
    gateways = web_gateway(tmp_path, options=("--web-give-up", "2s"), backend=backend)
    gateway = next(gateways)
    try:
        _sam, alice = team(gateway.store)

        async def visit(token: str | None, last_seq: int, send: str | None) -> dict:
            """One visit of the page: hello, maybe a message; what the server sent."""
            async with connect(ws_url(gateway), origin=ORIGIN, ping_interval=None) as ws:  # type: ignore[arg-type]
                hello = {"type": "hello", "token": token, "last_seq": last_seq, "lang": "en"}
                await ws.send(json.dumps(hello))
                welcome = await frame(ws)
                assert welcome["type"] == "welcome"
                messages = []
                if send is not None:
                    await ws.send(
                        json.dumps({"type": "send", "client_id": "first-message", "text": send})
                    )
                    while (got := await frame(ws))["type"] != "ack":
                        assert got["type"] != "refused", got
                        messages.append(got)
                else:
                    while not any(m.get("author") == "agent" for m in messages):
                        got = await frame(ws)
                        if got["type"] == "message":
                            messages.append(got)
                    seqs = [m["seq"] for m in messages if m["author"] == "agent"]
                    await ws.send(json.dumps({"type": "seen", "seqs": seqs}))
                    await asyncio.sleep(0.3)  # let the server read the frame before closing
                return {"token": welcome["token"], "messages": messages}

        first = asyncio.run(visit(None, 0, "Is my refund on its way?"))
        conversation = visitor_conversation(gateway.store)
        customer_seq = gateway.store.web_messages(conversation)[0].seq
        # The tab is closed; the agent answers; nobody is there to receive it.
        reply(gateway.store, alice, conversation, "Yes, it was approved this morning.")

        def deliveries():
            return gateway.store.deliveries(alice, conversation_id=conversation)

        failed = wait_for(
            lambda: [d for d in deliveries() if d.status == "failed"],
            "serve never gave up on the reply",
        )
        assert [d.last_error for d in failed] == ["visitor did not return within 2 s"]
        assert gateway.store.queue_row(conversation).undelivered

        later = asyncio.run(visit(first["token"], customer_seq, None))
        agent = [m for m in later["messages"] if m["author"] == "agent"]
        assert [m["text"] for m in agent] == ["Yes, it was approved this morning."]
        wait_for(
            lambda: [d.status for d in deliveries()] == ["read"],
            "the reply shown after all never read `read`",
        )
        assert not gateway.store.queue_row(conversation).undelivered
    finally:
        gateways.close()
