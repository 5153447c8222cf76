"""A web chat reply given up on (the visitor never came back to the page) reads, in the agent's
language, why and what to do: the transcript gives the reason, the conversation header says to
reach the customer another way, and the queue row carries the ✗ undelivered mark."""

from __future__ import annotations

import pytest

from cs_tui.app import make_app
from cs_tui.channels.web_give_up import give_up_reason
from cs_tui.clock import FakeClock
from cs_tui.data.store import Store
from cs_tui.i18n import set_language
from cs_tui.widgets.message_view import ConversationHeader
from tests.conftest import START
from tests.ui.pilot_helpers import open_row, settle
from tests.ui.test_delivery_status import first_row_text, in_transcript, shown
from tests.webchat.test_web_give_up import team, web_conversation

DAY_S = 24 * 3600.0
WORDS = {
    "en": {
        "reason": "visitor did not return within 24 h: reach the customer another way",
        "header": "✗ a reply did not reach the customer: reach them another way",
        "row": "✗ undelivered",
    },
    "zh": {
        "reason": "访客 24 小时内未回到聊天页面,请通过其他方式联系客户",
        "header": "✗ 有回复未送达客户,请通过其他方式联系",
        "row": "✗ 未送达",
    },
}


@pytest.fixture(autouse=True)
def _english_after():
    yield
    set_language("en")


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_web_reply_given_up_on_tells_the_agent_to_reach_the_customer_otherwise(
    tmp_path, lang
):
    clock = FakeClock(START)
    with Store.open(str(tmp_path / "store.db"), clock=clock) as store:
        _sam, alice = team(store)
        conversation = web_conversation(store)
        assert store.claim(alice, conversation)
        store.post_reply(alice, conversation, "It left the warehouse today.")
        clock.advance(hours=25)
        assert store.give_up_web_deliveries(DAY_S, give_up_reason(DAY_S)) == 1

        words = WORDS[lang]
        app = make_app(store, "alice", clock=clock, lang=lang, live=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert words["row"] in first_row_text(pilot)
            await open_row(pilot, store.queue_row(conversation))
            assert in_transcript(pilot, words["reason"])
            header = shown(pilot.app.screen.query_one(ConversationHeader))
            assert words["header"] in header.replace("\n", "")
