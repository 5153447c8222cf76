"""Round trip against real servers: a customer's mail (Dovecot) becomes a conversation, the
agent's reply leaves through the outbox by SMTP (aiosmtpd), well-formed and threaded, and the
customer's answer to it joins the same conversation. SMTP refusals and bounces reach the
delivery's status with the server's words."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parseaddr

import pytest

from cs_tui.channels.email_config import build_settings
from cs_tui.channels.email_fetch import MailFetcher
from cs_tui.channels.outbox_worker import DeliveryWorker
from cs_tui.channels.retry import RetrySchedule
from cs_tui.data.store import Store
from cs_tui.data.views import DeliveryView
from tests.mail import mails
from tests.mail.conftest import IMAP_PASSWORD, IMAP_USER, SMTP_PASSWORD, SMTP_USER

pytestmark = pytest.mark.slow
FAST = RetrySchedule(base_s=0.1, cap_s=0.3, give_up_s=30)


@pytest.fixture
def live_store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    yield s
    s.dispose()


@asynccontextmanager
async def worker_running(store: Store) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(DeliveryWorker(store, owner="mail-w", schedule=FAST).run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def settled(
    store: Store, delivery_id: int, want: set[str], within: float = 20
) -> DeliveryView:
    end = time.monotonic() + within
    while True:
        view = await asyncio.to_thread(store.delivery, delivery_id)
        if view.status in want or time.monotonic() > end:
            return view
        await asyncio.sleep(0.05)


class Desk:
    def __init__(self, store: Store, dovecot, smtp, folder: str, tmp_path) -> None:
        imap = dovecot.client(IMAP_USER)
        try:
            imap.create(folder)
        finally:
            imap.logout()
        self.store, self.dovecot, self.folder, self.tmp = store, dovecot, folder, tmp_path
        self.sup = store.add_agent(None, "sue", "Sue", "supervisor")
        self.agent = store.add_agent(self.sup, "alice", "Alice", "agent")
        self.settings = build_settings(
            imap=dovecot.url(IMAP_USER),
            smtp=f"smtp://{SMTP_USER}@127.0.0.1:{smtp.port}",
            sender="小店客服 <service@shop.example>",
            password_env="CS_TEST_SMTP_PASSWORD",
            password_file=None,
            folder=folder,
        )
        made = store.add_channel(
            self.sup, "email", "mail", channel_type="email", settings=self.settings.to_json()
        )
        self.channel_id = made.channel.id

    def fetch(self) -> None:
        fetcher = MailFetcher(self.store, self.channel_id, self.settings, IMAP_PASSWORD, self.tmp)
        try:
            fetcher.fetch_once()
        finally:
            fetcher.close()

    def answer(self, conversation_id: int, text: str) -> DeliveryView:
        self.store.claim(self.agent, conversation_id)
        self.store.post_reply(self.agent, conversation_id, text)
        deliveries = self.store.deliveries(self.sup, conversation_id=conversation_id)
        return deliveries[0]


@pytest.fixture
def desk(live_store, dovecot, smtp, tmp_path, monkeypatch) -> Desk:
    monkeypatch.setenv("CS_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    return Desk(live_store, dovecot, smtp, f"RT{time.monotonic_ns() % 10**9}", tmp_path)


async def test_mail_reply_and_the_customers_answer_make_one_conversation(desk: Desk, smtp):
    first = mails.raw_mail(
        "utf-8",
        "我的订单还没到",
        subject="订单 1001",
        name="王五",
        message_id="<c1@customer.example>",
        sender="wang@customer.example",
    )
    desk.dovecot.append(IMAP_USER, first, desk.folder)
    desk.fetch()
    conv = desk.store.conversation_id(f"mail:{desk.channel_id}:<c1@customer.example>")
    delivery = desk.answer(conv, "您好,您的包裹明天到达。\n\n祝好")
    async with worker_running(desk.store):
        done = await settled(desk.store, delivery.delivery_id, {"sent", "failed"})
    assert done.status == "sent", done.last_error
    [sent] = smtp.wait_for(1)
    assert smtp.received[0][1] == ["wang@customer.example"]
    assert parseaddr(str(sent["From"])) == ("小店客服", "service@shop.example")
    assert "=?utf-8?" in smtp.received[0][2].split(b"\r\n\r\n")[0].decode().lower()
    assert str(sent["Subject"]) == f"Re: [#{conv}] 订单 1001"
    assert sent["In-Reply-To"] == "<c1@customer.example>"
    assert "<c1@customer.example>" in sent["References"]
    assert str(sent["Message-ID"]).endswith("@shop.example>")
    plain = sent.get_body(("plain",))
    html = sent.get_body(("html",))
    assert plain.get_content_charset() == "utf-8"
    assert plain.get_content().replace("\r\n", "\n").strip() == "您好,您的包裹明天到达。\n\n祝好"
    assert "您好,您的包裹明天到达。" in html.get_content()
    # The customer answers the reply: their client keeps the thread's headers.
    answer = mails.raw_mail(
        "utf-8",
        "收到,谢谢!\n\nOn Mon, 小店客服 wrote:\n> 您好,您的包裹明天到达。",
        subject=str(sent["Subject"]),
        message_id="<c2@customer.example>",
        sender="wang@customer.example",
        date=format_datetime(datetime.now(UTC) + timedelta(seconds=1)),
        extra=f"In-Reply-To: {sent['Message-ID']}\r\nReferences: <c1@customer.example> "
        f"{sent['Message-ID']}\r\n",
    )
    desk.dovecot.append(IMAP_USER, answer, desk.folder)
    desk.fetch()
    detail = desk.store.conversation(conv)
    assert [m.body for m in detail.messages] == [
        "我的订单还没到",
        "您好,您的包裹明天到达。\n\n祝好",
        "收到,谢谢!\n\n(quoted text not shown)",  # our reply, quoted below it: `v` shows it
    ]


async def test_a_5xx_fails_with_the_servers_reply_and_a_4xx_is_tried_again(desk: Desk, smtp):
    desk.dovecot.append(
        IMAP_USER,
        mails.raw_mail(
            "utf-8",
            "在吗",
            subject="问",
            message_id="<r1@customer.example>",
            sender="ren@customer.example",
        ),
        desk.folder,
    )
    desk.fetch()
    conv = desk.store.conversation_id(f"mail:{desk.channel_id}:<r1@customer.example>")
    smtp.reply = "451 4.3.0 greylisted, try later"
    delivery = desk.answer(conv, "在的")
    async with worker_running(desk.store):
        for _ in range(200):
            view = await asyncio.to_thread(desk.store.delivery, delivery.delivery_id)
            if view.attempts >= 2:
                break
            await asyncio.sleep(0.05)
        assert view.status == "queued" and "451" in (view.last_error or "")
        smtp.reply = None
        done = await settled(desk.store, delivery.delivery_id, {"sent", "failed"})
    assert done.status == "sent" and len(smtp.wait_for(1)) == 1
    smtp.reply = "550 5.1.1 mailbox unavailable"
    second = desk.store.post_reply(desk.agent, conv, "还有问题吗?")
    [newest, _] = desk.store.deliveries(desk.sup, conversation_id=conv)
    assert newest.message_id == second.id
    async with worker_running(desk.store):
        failed = await settled(desk.store, newest.delivery_id, {"sent", "failed"})
    assert failed.status == "failed"
    assert "550" in (failed.last_error or "") and "mailbox unavailable" in failed.last_error


async def test_a_bounce_fails_the_reply_it_refers_to(desk: Desk, smtp):
    desk.dovecot.append(
        IMAP_USER,
        mails.raw_mail(
            "utf-8",
            "地址可能错了",
            subject="问",
            message_id="<b1@customer.example>",
            sender="gone@customer.example",
        ),
        desk.folder,
    )
    desk.fetch()
    conv = desk.store.conversation_id(f"mail:{desk.channel_id}:<b1@customer.example>")
    delivery = desk.answer(conv, "您好")
    async with worker_running(desk.store):
        done = await settled(desk.store, delivery.delivery_id, {"sent", "failed"})
    assert done.status == "sent"
    [sent] = smtp.wait_for(1)
    desk.dovecot.append(IMAP_USER, mails.bounce(str(sent["Message-ID"])), desk.folder)
    desk.fetch()
    view = desk.store.delivery(delivery.delivery_id)
    assert view.status == "failed"
    assert "5.1.1" in (view.last_error or "") and "no such user" in view.last_error
    # The report is in the conversation as a system message: no SLA clock, no answer owed.
    detail = desk.store.conversation(conv)
    assert detail.messages[-1].author_kind == "system"
    assert detail.row.undelivered is True


async def test_an_smtp_server_that_is_down_is_tried_again(
    live_store, dovecot, tmp_path, monkeypatch
):
    import socket
    from types import SimpleNamespace

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    monkeypatch.setenv("CS_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    desk = Desk(
        live_store,
        dovecot,
        SimpleNamespace(port=closed),
        f"Down{time.monotonic_ns() % 10**9}",
        tmp_path,
    )
    desk.dovecot.append(
        IMAP_USER,
        mails.raw_mail(
            "utf-8",
            "在吗",
            subject="问",
            message_id="<d1@customer.example>",
            sender="down@customer.example",
        ),
        desk.folder,
    )
    desk.fetch()
    conv = desk.store.conversation_id(f"mail:{desk.channel_id}:<d1@customer.example>")
    delivery = desk.answer(conv, "在的")
    async with worker_running(desk.store):
        for _ in range(200):
            view = await asyncio.to_thread(desk.store.delivery, delivery.delivery_id)
            if view.attempts >= 2:
                break
            await asyncio.sleep(0.05)
    assert view.status == "queued" and view.attempts >= 2
    assert "SMTP connection failed" in (view.last_error or "")
