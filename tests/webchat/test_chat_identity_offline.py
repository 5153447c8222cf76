"""Who the visitor is (a shop's signed-in customer, verified by the channel's secret) and what
the page says when no agent is online: the auto-reply menu, answers from the knowledge base,
and an honest word on when a person answers; the conversation is in the queue all the same."""

from __future__ import annotations

import pytest

from cs_tui.channels.web_identity import identifier_hash
from cs_tui.data.views import QueueFilter
from cs_tui.kb import sample_articles
from tests.webchat.conftest import ShopSite, web_gateway
from tests.webchat.page import ChatPage
from tests.webchat.test_chat_page import team, visitor_conversation

pytestmark = pytest.mark.slow


def embed(gateway, identifier: str, signed: str, lang: str = "en") -> str:
    return (
        "<!doctype html><html><head><title>Shop</title></head><body>"
        f'<script src="{gateway.url}/widget.js" data-channel="shop" data-lang="{lang}" '
        f'data-identifier="{identifier}" data-identifier-hash="{signed}"></script></body></html>'
    )


def test_an_identified_visitor_is_that_customer_on_every_device(tmp_path, browser):
    site = ShopSite()
    gateways = web_gateway(tmp_path, origins=[site.origin])
    gateway = next(gateways)
    try:
        team(gateway.store)
        site.page = embed(gateway, "wang.fang", identifier_hash(gateway.secret, "wang.fang"))
        laptop = ChatPage(browser()).open(f"{site.origin}/")
        laptop.wait_online()
        laptop.send("order 2026111100001 has not arrived")
        laptop.wait_sent("order 2026111100001 has not arrived")
        conversation = visitor_conversation(gateway.store)
        assert gateway.store.queue_row(conversation).customer_handle == "wang.fang"

        phone = ChatPage(browser()).open(f"{site.origin}/")
        phone.wait_online()
        phone.wait_message("customer", "order 2026111100001 has not arrived")

        # A hash that does not match: an anonymous visitor, who sees nothing of wang.fang's.
        site.page = embed(gateway, "wang.fang", "0" * 64)
        stranger = ChatPage(browser()).open(f"{site.origin}/")
        stranger.wait_online()
        stranger.send("who am I")
        stranger.wait_sent("who am I")
        assert stranger.texts() == ["who am I"]
        rows = gateway.store.queue(
            gateway.store.get_agent("sam"), QueueFilter(scope="all", text="web-shop-"), limit=10
        )
        handles = sorted(r.customer_handle for r in rows)
        assert len(handles) == 2 and handles[0] == "wang.fang"
        assert handles[1].startswith("web-shop-")
    finally:
        next(gateways, None)
        site.close()


@pytest.mark.parametrize(
    ("lang", "item", "word"), [("en", "2", "Talk to a person"), ("zh", "2", "转人工")]
)
def test_with_no_agent_online_the_menu_answers_from_the_knowledge_base(
    gateway, browser, lang, item, word
):
    gateway.store.upsert_articles(sample_articles())
    gateway.store.add_agent(None, "sam", "Sam", "supervisor")  # on the team, not online
    page = ChatPage(browser()).open(f"{gateway.url}/chat/shop?lang={lang}")
    page.wait_online()
    menu = page.wait(lambda: page.texts("system"), "no menu")[0]
    assert f"4. {word}" in menu
    page.send(item)
    page.wait_sent(item)
    answer = page.wait(
        lambda: [m for m in page.messages() if m["author"] == "system"][1:], "no answer"
    )[0]
    titles = page.driver.execute_script(
        "return Array.from(document.querySelectorAll('.cs-kb li')).map(n => n.textContent)"
    )
    assert 1 <= len(titles) <= 3
    known = {a.title for a in sample_articles() if a.lang == lang}
    assert set(titles) <= known
    assert titles[0] in answer["all"]
    best = page.driver.execute_script("return document.querySelector('.cs-kb-best').textContent")
    assert len(best) > 10

    page.send("4")
    page.wait_sent("4")
    honest = "when the team is back" if lang == "en" else "上班后"
    page.wait(lambda: any(honest in t for t in page.texts("system")), "no word on a person")
    # The conversation is in the queue, with its SLA clock, like any chat.
    conversation = visitor_conversation(gateway.store)
    row = gateway.store.queue_row(conversation)
    assert row.channel == "chat" and row.status == "new" and row.due_at is not None
    assert [m.text for m in gateway.store.web_messages(conversation)] == [item, "4"]
