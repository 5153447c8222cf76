"""The chat page in a real browser against a real `cs-tui serve`: a visitor's message lands in
the store, an agent's reply lands in the page (with the agent's display name, never the handle),
a reload continues the same conversation, and a reply sent while the server was down arrives
exactly once after it comes back. The round trip and the replay run on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pytest

from cs_tui.data.views import QueueFilter
from tests.webchat.page import ChatPage

pytestmark = pytest.mark.slow


def visitor_conversation(store, name: str = "shop") -> int:
    """The one conversation the web channel opened (found as an agent would, in the queue)."""
    boss = store.get_agent("sam")
    rows = store.queue(boss, QueueFilter(scope="all", text=f"web-{name}-"), limit=10)
    assert len(rows) == 1, rows
    return rows[0].id


def team(store):
    sam = store.add_agent(None, "sam", "Sam Supervisor", "supervisor")
    alice = store.add_agent(sam, "alice", "Alice Chen", "agent")
    store.heartbeat(alice.id)  # her workstation runs: the page offers no auto-reply menu
    return sam, alice


def reply(store, agent, conversation_id: int, text: str) -> None:
    """The agent's side as the workstation does it: claim if needed, then post the reply."""
    if store.queue_row(conversation_id).assignee != agent.handle:
        assert store.claim(agent, conversation_id)
    store.post_reply(agent, conversation_id, text)


def wait_for(condition, what: str, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(what)


def test_visitor_and_agent_talk_and_a_reload_continues_the_conversation(any_gateway, browser):
    gateway = any_gateway
    _sam, alice = team(gateway.store)
    page = ChatPage(browser()).open(f"{gateway.url}/chat/shop")
    page.wait_online()
    page.send("Hello, where is my parcel?")
    page.wait(lambda: page.messages()[0]["seq"], "the message never got its sequence number")
    assert [m["author"] for m in page.messages()] == ["customer"]

    conversation = visitor_conversation(gateway.store)
    stored = gateway.store.web_messages(conversation)
    assert [(m.author, m.text) for m in stored] == [("customer", "Hello, where is my parcel?")]
    assert gateway.store.queue_row(conversation).channel == "chat"

    reply(gateway.store, alice, conversation, "It left the warehouse today.")
    shown = page.wait_message("agent", "It left the warehouse today.")
    assert shown["name"] == "Alice Chen"
    assert "alice" not in shown["all"].replace("Alice", "")
    # The page showed it: the delivery reads `read` for the agent.
    wait_for(
        lambda: (
            [d.status for d in gateway.store.deliveries(alice, conversation_id=conversation)]
            == ["read"]
        ),
        "the reply's delivery never became read",
    )

    page.driver.refresh()
    page.wait_online()
    page.wait_message("agent", "It left the warehouse today.")
    assert page.texts() == ["Hello, where is my parcel?", "It left the warehouse today."]
    page.send("Thanks!")
    page.wait_sent("Thanks!")
    assert visitor_conversation(gateway.store) == conversation
    assert [m.text for m in gateway.store.web_messages(conversation)][-1] == "Thanks!"


def test_a_reply_sent_while_serve_was_down_arrives_once_after_restart(any_gateway, browser):
    gateway = any_gateway
    _sam, alice = team(gateway.store)
    page = ChatPage(browser()).open(f"{gateway.url}/chat/shop")
    page.wait_online()
    page.send("Is anyone there?")
    page.wait_sent("Is anyone there?")
    conversation = visitor_conversation(gateway.store)
    reply(gateway.store, alice, conversation, "Yes, one moment.")
    page.wait_message("agent", "Yes, one moment.")

    gateway.kill()
    page.wait(lambda: page.connection() == "reconnecting", "the page never said reconnecting")
    reply(gateway.store, alice, conversation, "Your refund was approved.")
    gateway.start()
    page.wait_online()
    page.wait_message("agent", "Your refund was approved.")
    # A moment for anything sent twice to arrive too: the page still shows each message once.
    page.send("Great")
    page.wait_sent("Great")
    assert page.texts() == [
        "Is anyone there?",
        "Yes, one moment.",
        "Your refund was approved.",
        "Great",
    ]


def test_a_message_sent_while_disconnected_is_sent_on_reconnect_and_stored_once(gateway, browser):
    team(gateway.store)
    page = ChatPage(browser()).open(f"{gateway.url}/chat/shop")
    page.wait_online()
    page.send("first")
    page.wait_sent("first")
    gateway.kill()
    page.wait(lambda: page.connection() == "reconnecting", "the page never said reconnecting")
    page.send("written while offline")
    assert page.messages()[-1]["status"] == "sending"
    gateway.start()
    page.wait_online()
    page.wait_sent("written while offline")
    conversation = visitor_conversation(gateway.store)
    assert [m.text for m in gateway.store.web_messages(conversation)] == [
        "first",
        "written while offline",
    ]
