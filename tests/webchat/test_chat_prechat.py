"""The pre-chat form in a real browser: a channel that asks for it shows a name and an order
number above the message box before the first message; the name becomes the customer's name,
the order number the conversation's `order:` tag; bad input is refused with a message; once the
conversation exists (a reload) the form is not asked again. Off by default."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from cs_tui.data.views import QueueFilter
from tests.webchat.conftest import web_gateway
from tests.webchat.page import ChatPage
from tests.webchat.test_chat_page import team, visitor_conversation

pytestmark = pytest.mark.slow


def form_shown(page: ChatPage) -> bool:
    return bool(
        page.driver.execute_script(
            "var f = document.querySelector('.cs-chat-prechat');"
            "return !!f && !f.hidden && f.offsetParent !== null;"
        )
    )


def fill(page: ChatPage, field: str, value: str) -> None:
    box = page.driver.find_element(By.CSS_SELECTOR, f"input[name={field}]")
    page.driver.execute_script("arguments[0].value = arguments[1];", box, value)


def test_the_pre_chat_form_names_the_customer_and_tags_the_order(tmp_path, browser):
    gateways = web_gateway(tmp_path, settings={"pre_chat": True})
    gateway = next(gateways)
    try:
        team(gateway.store)
        page = ChatPage(browser()).open(f"{gateway.url}/chat/shop?lang=en")
        page.wait_online()
        page.wait(lambda: form_shown(page), "the pre-chat form is not shown")

        # No name: the page asks for it and sends nothing; the typed message stays in the box.
        page.send("my parcel is late")
        page.wait(
            lambda: "Please tell us your name first." in page.texts("system"), "no ask for a name"
        )
        assert page.texts("customer") == []
        box = page.driver.find_element(By.CSS_SELECTOR, "textarea[name=message]")
        assert box.get_attribute("value") == "my parcel is late"

        # A hostile order number is refused by the server with a message, not stored.
        fill(page, "name", "王芳")
        fill(page, "order", "<img src=x onerror=alert(1)>")
        page.send("my parcel is late")
        page.wait(
            lambda: any(m["status"] == "failed" for m in page.messages()), "never marked failed"
        )
        assert any("order number holds only" in t for t in page.texts("system"))
        sam = gateway.store.get_agent("sam")
        assert gateway.store.queue(sam, QueueFilter(scope="all"), limit=10) == []

        fill(page, "order", "2026111100001")
        page.send("where is order 2026111100001?")
        page.wait_sent("where is order 2026111100001?")
        page.wait(lambda: not form_shown(page), "the form stayed after the first message")

        row = gateway.store.queue_row(visitor_conversation(gateway.store))
        assert row.customer_name == "王芳"
        assert "order:2026111100001" in row.tags
        assert [m.text for m in gateway.store.web_messages(row.id)] == [
            "where is order 2026111100001?"
        ]

        # A reload continues the conversation: the form is not asked again.
        page.driver.refresh()
        page.wait_online()
        page.wait_message("customer", "where is order 2026111100001?")
        assert not form_shown(page)
    finally:
        next(gateways, None)


def test_without_the_setting_no_form_is_shown(gateway, browser):
    team(gateway.store)
    page = ChatPage(browser()).open(f"{gateway.url}/chat/shop")
    page.wait_online()
    page.send("hello")
    page.wait_sent("hello")
    assert not form_shown(page)
    row = gateway.store.queue_row(visitor_conversation(gateway.store))
    assert row.customer_name.startswith("web-shop-") and row.tags == ()
