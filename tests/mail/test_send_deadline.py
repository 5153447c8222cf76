"""A send never outlasts its delivery's lease (a real SMTP server, aiosmtpd, made slow): one
that hangs before the mail is handed over is tried again; one whose answer never comes after
the whole mail was handed over is failed, saying it may have left, and never sent twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest

from cs_tui.channels.email_config import build_settings
from cs_tui.channels.outbox_worker import DeliveryWorker
from cs_tui.channels.retry import RetrySchedule
from cs_tui.data.store import Store
from tests.mail import mails
from tests.mail.conftest import SMTP_PASSWORD, SMTP_USER
from tests.mail.fetched import store_fetched

pytestmark = pytest.mark.slow
LEASE_S = 3.0  # a send must be over by 2 s after its claim


@pytest.fixture
def live_store(tmp_path) -> Iterator[Store]:
    """On the system's clock: the retries' times must come."""
    s = Store.open(f"sqlite:///{tmp_path / 'live.db'}")
    yield s
    s.dispose()


@asynccontextmanager
async def worker_running(store: Store) -> AsyncIterator[DeliveryWorker]:
    stop = asyncio.Event()
    worker = DeliveryWorker(
        store,
        owner="deadline-w",
        schedule=RetrySchedule(base_s=0.2, cap_s=0.5, give_up_s=60),
        lease_s=LEASE_S,
        total_timeout_s=1.0,
    )
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


def _reply_waiting(store: Store, smtp, tmp_path, monkeypatch) -> int:
    """A customer's mail in the store and an agent's reply to it in the outbox: its delivery."""
    monkeypatch.setenv("CS_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    sup = store.add_agent(None, "sue", "Sue", "supervisor")
    agent = store.add_agent(sup, "alice", "Alice", "agent")
    settings = build_settings(
        imap="imap://service@127.0.0.1:1143",
        smtp=f"smtp://{SMTP_USER}@127.0.0.1:{smtp.port}",
        sender="小店客服 <service@shop.example>",
        password_env="CS_TEST_SMTP_PASSWORD",
        password_file=None,
    )
    channel_id = store.add_channel(
        sup, "email", "mail", channel_type="email", settings=settings.to_json()
    ).channel.id
    raw = mails.raw_mail(
        "utf-8", "在吗", subject="问", message_id="<s1@c.example>", sender="s@c.example"
    )
    store_fetched(store, channel_id, settings, tmp_path, [raw])
    conv = store.conversation_id(f"mail:{channel_id}:<s1@c.example>")
    store.claim(agent, conv)
    store.post_reply(agent, conv, "在的")
    return store.deliveries(sup, conversation_id=conv)[0].delivery_id


async def _until(store: Store, delivery_id: int, test, within: float = 30.0):
    end = time.monotonic() + within
    while True:
        view = await asyncio.to_thread(store.delivery, delivery_id)
        if test(view) or time.monotonic() > end:
            return view
        await asyncio.sleep(0.05)


async def test_no_answer_after_the_whole_mail_fails_it_once_never_twice(
    live_store, smtp, tmp_path, monkeypatch
):
    delivery_id = _reply_waiting(live_store, smtp, tmp_path, monkeypatch)
    # The server keeps the mail, then takes longer to say so than the lease lasts: the old
    # send waited (20 s a command), the lease ran out, the delivery was claimed again and
    # the customer got the reply twice.
    smtp.data_delay_s = 3 * LEASE_S
    async with worker_running(live_store):
        view = await _until(live_store, delivery_id, lambda v: v.status != "queued")
        assert view.status == "failed", view.last_error
        assert "may have been sent" in (view.last_error or "")
        # Long enough for a second claim (the lease) and its slow answer to have come.
        with smtp.arrived:
            smtp.arrived.wait_for(lambda: len(smtp.received) >= 2, LEASE_S * 3 + 2)
    assert len(smtp.received) == 1
    assert live_store.delivery(delivery_id).status == "failed"


async def test_a_hang_before_the_mail_is_handed_over_is_tried_again(
    live_store, smtp, tmp_path, monkeypatch
):
    delivery_id = _reply_waiting(live_store, smtp, tmp_path, monkeypatch)
    smtp.rcpt_delay_s = 3 * LEASE_S  # stuck at RCPT TO: nothing handed over yet
    async with worker_running(live_store):
        view = await _until(live_store, delivery_id, lambda v: v.last_error is not None)
        assert view.status == "queued"
        assert "nothing sent" in (view.last_error or "")
        smtp.rcpt_delay_s = 0.0
        done = await _until(live_store, delivery_id, lambda v: v.status != "queued")
    assert done.status == "sent", done.last_error
    assert len(smtp.received) == 1
