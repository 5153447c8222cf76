"""Delivery status where the agent looks: the transcript, the queue row, and the resend key.

A conversation is opened by an API channel with a webhook (through the store, as `cs-tui serve`
would), the agent claims it and replies by keys, and the `serve` worker's part (claiming the
delivery, giving up on it) is played by this test on the same SQLite store. What the agent sees
is read from the rendered widgets, in English and Chinese, at 80 and 120 columns.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.geometry import Region

from cs_tui.app import make_app
from cs_tui.data.views import QueueFilter
from cs_tui.i18n import set_language
from cs_tui.screens.fullmessage import FullMessageScreen
from cs_tui.widgets.composer import Composer
from cs_tui.widgets.message_view import Transcript
from cs_tui.widgets.queue_list import QueueList
from tests.conftest import START
from tests.ui.pilot_helpers import alice, open_row, settle, type_text, until

WORKER = "test-worker"
REASON = "HTTP 400: [/] token \x1b[2J rejected [@click=app.quit]x[/]"
"""A receiver's answer as the worker records it: markup-looking brackets and an escape code."""

TEXTS = {
    "en": {
        "customer": "Hello, where is my parcel? Order 2026111100001",
        "reply": "Thank you for waiting, your parcel left the warehouse today.",
        "queued": "- queued",
        "failed": "✗ failed",
        "undelivered": "✗ undelivered",
        "not_delivered": "Not delivered",
        "resent": "queued again",
        "nothing": "Nothing to resend",
        "toast": "did not reach the customer (u: resend)",
    },
    "zh": {
        "customer": "您好,我的包裹到哪里了?订单号2026111100001",
        "reply": "您好,感谢您的耐心等待,您的包裹今天已经从仓库发出。",
        "queued": "- 已排队",
        "failed": "✗ 发送失败",
        "undelivered": "✗ 未送达",
        "not_delivered": "未送达",
        "resent": "已重新排队",
        "nothing": "没有需要重发",
        "toast": "未送达客户(u:重发)",
    },
}


@pytest.fixture(autouse=True)
def _english_after():
    yield
    set_language("en")


def screen(pilot):
    return pilot.app.screen


def shown(widget) -> str:
    """What the widget draws, line by line, as plain text."""
    width, height = widget.size
    lines = widget.render_lines(Region(0, 0, width, min(max(height, 1), 400)))
    return "\n".join(strip.text for strip in lines)


def squeezed(text: str) -> str:
    """Text with every space and line break taken out: the transcript wraps Chinese anywhere."""
    return "".join(text.split())


def transcript_text(pilot) -> str:
    """The transcript as drawn, its wrapped lines joined (compare with `squeezed` words)."""
    body = screen(pilot).query_one(Transcript).query_one("#transcript-body")
    return squeezed(shown(body))


def in_transcript(pilot, text: str) -> bool:
    return squeezed(text) in transcript_text(pilot)


def channel_conversation(store, lang: str, name: str = "shop") -> int:
    """An API channel with a webhook, and a conversation it opened; returns its id."""
    secrets = store.add_channel(
        store.get_agent("sam"), "api", name, webhook_url="http://127.0.0.1:9/hook"
    )
    sent = (START - timedelta(seconds=20)).isoformat().replace("+00:00", "Z")
    items = store.ingest_from_channel(
        secrets.channel.id,
        [
            {
                "message_id": f"{name}-m1",
                "conversation_id": f"{name}-c1",
                "customer": f"{name}-customer-1",
                "customer_name": "Dana" if lang == "en" else "王小明",
                "author": "customer",
                "text": TEXTS[lang]["customer"],
                "sent_at": sent,
            }
        ],
    )
    assert [i.status for i in items] == ["stored"], items
    rows = store.queue(store.get_agent("sam"), QueueFilter(scope="all", text=f"{name}-c1"))
    assert len(rows) == 1
    return rows[0].id


def fail_delivery(store, conversation_id: int) -> None:
    """The worker's part: claim the due delivery and give up on it (a 400 from the receiver)."""
    jobs = store.claim_deliveries(WORKER, 10, 30.0)
    assert len(jobs) == 1
    store.delivery_failed(jobs[0].delivery_id, WORKER, REASON, 400)
    views = store.deliveries(alice(store), conversation_id=conversation_id)
    assert [v.status for v in views] == ["failed"]


def queue_text(pilot) -> str:
    return shown(screen(pilot).query_one(QueueList))


def first_row_text(pilot) -> str:
    queue = screen(pilot).query_one(QueueList)
    lines = queue.lines_per_row
    return "\n".join(queue.render_line(y).text for y in range(lines))


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_reply_status_follows_its_delivery_and_resend_sends_again(store, clock, lang):
    words = TEXTS[lang]
    conversation_id = channel_conversation(store, lang)
    app = make_app(store, "alice", clock=clock, lang=lang, live=True)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        row = store.queue_row(conversation_id)
        await open_row(pilot, row)
        # The customer's message has no delivery: nothing is drawn beside it.
        assert not in_transcript(pilot, words["queued"])
        await pilot.press("c")
        await settle(pilot)
        assert store.queue_row(conversation_id).assignee == "alice"
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.focused, Composer)
        await type_text(pilot, words["reply"])
        await pilot.press("enter")
        await settle(pilot)

        # The reply is stored with its delivery in the outbox, and it reads "queued".
        views = store.deliveries(alice(store), conversation_id=conversation_id)
        assert [v.status for v in views] == ["queued"]
        await until(pilot, lambda: in_transcript(pilot, words["queued"]))
        assert in_transcript(pilot, words["reply"][:20])

        # The worker (another process in real life) gives up on it; the next event poll
        # brings the status to the transcript and the conversation to the top of the queue.
        fail_delivery(store, conversation_id)
        screen(pilot)._live._poll()
        await settle(pilot)
        await until(pilot, lambda: in_transcript(pilot, words["failed"]))
        assert in_transcript(pilot, words["not_delivered"])
        # The reason, drawn safe: brackets stay brackets, the escape code is a visible symbol.
        assert in_transcript(pilot, "[/] token ␛[2J rejected [@click=app.quit]x[/]")
        assert "\x1b" not in transcript_text(pilot)
        queue = screen(pilot).query_one(QueueList)
        await until(pilot, lambda: queue.window[1] and queue.window[1][0].id == conversation_id)
        assert queue.window[1][0].undelivered
        # Wherever the agent looks, a toast names the conversation whose reply did not arrive.
        assert any(words["toast"] in str(n.message) for n in app._notifications)
        assert queue.scroll_offset.y == 0
        assert words["undelivered"] in first_row_text(pilot)

        # u sends it again for real: the store has it queued, with a new attempt to come.
        queue.focus()
        await pilot.pause()
        assert "resend" in {b.binding.action for b in screen(pilot).active_bindings.values()}
        assert "resend" in [action for _t, _k, action in screen(pilot).palette_commands()]
        help_keys = [b.id for _title, keys in app.help_sections() for b in keys]
        assert "ws.resend" in help_keys
        await pilot.press("u")
        await settle(pilot)
        views = store.deliveries(alice(store), conversation_id=conversation_id)
        assert [v.status for v in views] == ["queued"]
        assert store.queue_row(conversation_id).undelivered is False
        await until(pilot, lambda: not in_transcript(pilot, words["failed"]))
        assert in_transcript(pilot, words["queued"])
        assert any(words["resent"] in str(n.message) for n in app._notifications)
        await until(pilot, lambda: not queue.window[1][0].undelivered)
        assert words["undelivered"] not in queue_text(pilot)
        jobs = store.claim_deliveries(WORKER, 10, 30.0)
        assert [j.attempts for j in jobs] == [2]  # the worker picks it up again: attempt two

        # Nothing failed any more: the key says so instead of doing nothing.
        await pilot.press("u")
        await settle(pilot)
        assert any(words["nothing"] in str(n.message) for n in app._notifications)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)])
async def test_failed_delivery_reads_without_colour(store, clock, lang, size):
    """A failed reply and its undelivered conversation, as the agent finds them on opening the
    workstation: words on the row and under the reply, at 80 and 120 columns (two lines a
    row) and 200 (one line a row)."""
    words = TEXTS[lang]
    conversation_id = channel_conversation(store, lang)
    me = alice(store)
    assert store.claim(me, conversation_id)
    store.post_reply(me, conversation_id, words["reply"])
    fail_delivery(store, conversation_id)
    app = make_app(store, "alice", clock=clock, lang=lang, live=False)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        queue = screen(pilot).query_one(QueueList)
        assert queue.window[1][0].id == conversation_id
        assert queue.lines_per_row == (1 if size[0] >= 200 else 2)
        assert words["undelivered"] in first_row_text(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert screen(pilot).detail.row.id == conversation_id
        assert in_transcript(pilot, words["failed"])
        assert in_transcript(pilot, words["not_delivered"])
        assert in_transcript(pilot, "(u:")
        # v: the failed reply's detail, with its status and the whole reason, drawn safe.
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, FullMessageScreen)
        detail = squeezed(shown(app.screen.query_one(".delivery")))
        assert squeezed(words["failed"]) in detail
        assert squeezed("[/] token ␛[2J rejected [@click=app.quit]x[/]") in detail
        assert "\x1b" not in detail


async def test_a_conversation_without_deliveries_shows_no_status(store, clock):
    """An imported conversation (no channel, no webhook): its agent replies carry no status."""
    me = alice(store)
    row = next(
        r
        for r in store.queue(me, QueueFilter(scope="mine"), limit=50)
        if any(m.author_kind == "agent" for m in store.conversation(r.id).messages)
    )
    app = make_app(store, "alice", clock=clock, lang="en", live=False)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await open_row(pilot, row)
        for word in ("queued", "✓", "✗", "failed", "Not delivered"):
            assert not in_transcript(pilot, word)
        assert "resend" not in {b.binding.action for b in screen(pilot).active_bindings.values()}
        screen(pilot).query_one(QueueList).focus()
        await pilot.press("u")
        await settle(pilot)
        assert any("Nothing to resend" in str(n.message) for n in app._notifications)


async def test_resend_of_another_agents_conversation_is_refused_in_the_agents_language(
    store, clock
):
    """The conversation was transferred while it stood open here: u is refused by the store's
    rule, said by its code in Chinese, and the delivery stays failed."""
    conversation_id = channel_conversation(store, "zh")
    me = alice(store)
    assert store.claim(me, conversation_id)
    store.post_reply(me, conversation_id, TEXTS["zh"]["reply"])
    fail_delivery(store, conversation_id)
    app = make_app(store, "alice", clock=clock, lang="zh", live=False)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await open_row(pilot, store.queue_row(conversation_id))
        store.assign(store.get_agent("sam"), conversation_id, "bob")
        await pilot.press("u")
        await settle(pilot)
        told = " ".join(str(n.message) for n in app._notifications)
        assert "这条回复属于其他客服的会话" in told
        views = store.deliveries(store.get_agent("sam"), conversation_id=conversation_id)
        assert [v.status for v in views] == ["failed"]


async def test_resend_sends_every_failed_reply_of_the_conversation(store, clock):
    """Two replies failed: u sends both again, and the toast counts them."""
    conversation_id = channel_conversation(store, "en")
    me = alice(store)
    assert store.claim(me, conversation_id)
    store.post_reply(me, conversation_id, "Thank you for waiting, I am checking your parcel now.")
    store.post_reply(me, conversation_id, TEXTS["en"]["reply"])
    jobs = store.claim_deliveries(WORKER, 10, 30.0)
    assert len(jobs) == 2
    for job in jobs:
        store.delivery_failed(job.delivery_id, WORKER, REASON, 400)
    app = make_app(store, "alice", clock=clock, lang="en", live=False)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await open_row(pilot, store.queue_row(conversation_id))
        assert transcript_text(pilot).count(squeezed("✗ failed")) == 2
        await pilot.press("u")
        await settle(pilot)
        views = store.deliveries(me, conversation_id=conversation_id)
        assert [v.status for v in views] == ["queued", "queued"]
        assert any("Resending 2 replies" in str(n.message) for n in app._notifications)
        await until(pilot, lambda: transcript_text(pilot).count(squeezed("- queued")) == 2)


async def test_a_failed_acknowledgement_is_not_offered_for_resending(store, clock, tmp_path):
    """The channel's own acknowledgement that failed is shown as not delivered, but `u` does
    not send it again (its "we will answer by ..." would be stale) and offers no key for it."""
    from tests.mail import mails
    from tests.mail.fetched import email_channel, store_fetched

    channel_id, settings = email_channel(
        store, actor=store.get_agent("sam"), acknowledge=True, ack_language="en"
    )
    raw = mails.raw_mail("utf-8", "Where is my order?", subject="Order", message_id="<a1@c.ex>")
    store_fetched(store, channel_id, settings, tmp_path, [raw])
    conv = store.conversation_id(f"mail:{channel_id}:<a1@c.ex>")
    assert store.claim(alice(store), conv)
    [ack] = store.deliveries(alice(store), conversation_id=conv)
    [job] = store.claim_deliveries(WORKER, 10, 30.0)
    store.delivery_failed(job.delivery_id, WORKER, "SMTP 550: mailbox unavailable", 550)
    app = make_app(store, "alice", clock=clock, lang="en", live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, store.queue_row(conv))
        await until(pilot, lambda: in_transcript(pilot, "Not delivered"))
        assert not in_transcript(pilot, "(u: resend)")
        await pilot.press("u")
        await settle(pilot)
        await until(
            pilot, lambda: any("Nothing to resend" in str(n.message) for n in app._notifications)
        )
    assert store.delivery(ack.delivery_id).status == "failed"
