"""The delivery worker against a real receiving HTTP server, on SQLite and PostgreSQL.

Each test writes replies the way a workstation does (post_reply in a conversation a channel
opened, which queues the delivery in the same transaction), runs the worker, and looks at what the
receiver got and what the store says. Retries run on a schedule of tenths of a second, so the
tests take seconds; the store uses the real clock, since the receiver's answers are real.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from cs_tui.channels.outbox_worker import DeliveryWorker
from cs_tui.channels.retry import RetrySchedule
from cs_tui.data.store import Store
from cs_tui.data.views import AgentInfo, DeliveryView
from tests.channels.receiver import Received, Receiver, Reply

FAST = RetrySchedule(base_s=0.1, cap_s=0.4, give_up_s=30)


@dataclass
class Desk:
    """A team with one API channel, and an agent who owns the channel's conversations."""

    store: Store
    supervisor: AgentInfo
    agent: AgentInfo
    channel_id: int
    secret: str
    seq: int = 0

    def reply(
        self, text: str = "您好,您的退款已经成功,会在24小时内到账", *, live: bool = False
    ) -> DeliveryView:
        """A customer writes through the channel; the agent claims and answers. With `live`
        servers working the outbox, the delivery may already be on its way when it is read."""
        self.seq += 1
        conv = f"shop-{self.seq}"
        items = self.store.ingest_from_channel(
            self.channel_id,
            [
                {
                    "message_id": f"in-{self.seq}",
                    "conversation_id": conv,
                    "customer": "carol",
                    "author": "customer",
                    "text": "我的退款呢?",
                    "sent_at": datetime.now(UTC).isoformat(),
                }
            ],
        )
        assert items[0].status == "stored", items
        conversation_id = self.store.conversation_id(conv)
        self.store.claim(self.agent, conversation_id)
        self.store.post_reply(self.agent, conversation_id, text)
        (delivery,) = self.store.deliveries(self.supervisor, conversation_id=conversation_id)
        assert delivery.status in ({"queued", "sent"} if live else {"queued"})
        return delivery


@pytest.fixture
def store_real_time(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    yield s
    s.dispose()


def make_desk(store: Store, webhook_url: str) -> Desk:
    sup = store.add_agent(None, "sue", "Sue", "supervisor")
    agent = store.add_agent(sup, "alice", "Alice", "agent")
    secrets = store.add_channel(sup, "api", "shop", webhook_url=webhook_url)
    return Desk(store, sup, agent, secrets.channel.id, secrets.secret)


_RUNNING: list[asyncio.Task[None]] = []


@asynccontextmanager
async def running(worker: DeliveryWorker) -> AsyncIterator[asyncio.Event]:
    """The worker runs in the test's loop; leaving the block stops it and waits for it."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    _RUNNING.append(task)
    try:
        yield stop
    finally:
        _RUNNING.remove(task)
        stop.set()
        await asyncio.wait_for(task, 15)


async def settled(store: Store, delivery_id: int, *, within: float = 20.0) -> DeliveryView:
    """The delivery once it is no longer queued (waits, does not time the worker); a worker
    that crashed ends the wait with its error."""
    end = time.monotonic() + within
    while True:
        view = await asyncio.to_thread(store.delivery, delivery_id)
        if view.status != "queued" or time.monotonic() > end:
            return view
        for task in _RUNNING:
            if task.done():
                task.result()
        await asyncio.sleep(0.05)


def most_at_once(requests: list[Received]) -> int:
    """The most requests the receiver had in flight at one instant."""
    edges = sorted([(r.started, 1) for r in requests] + [(r.ended, -1) for r in requests])
    most = now = 0
    for _, step in edges:  # at equal times an end (-1) sorts before a start
        now += step
        most = max(most, now)
    return most


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


async def test_two_500s_then_200_is_one_sent_delivery_after_three_signed_attempts(
    store_real_time: Store,
) -> None:
    with Receiver(script=[Reply(500, b"oops"), Reply(500, b"oops"), Reply(200)]) as rx:
        desk = make_desk(store_real_time, rx.url)
        rx.secret = desk.secret
        delivery = desk.reply()
        async with running(DeliveryWorker(store_real_time, owner="w1", schedule=FAST)):
            view = await settled(store_real_time, delivery.delivery_id)
    assert view.status == "sent"
    assert view.attempts == 3
    assert [r.answered for r in rx.requests] == [500, 500, 200]
    assert {r.headers["X-CS-Delivery"] for r in rx.requests} == {str(delivery.delivery_id)}
    assert all(r.verified for r in rx.requests)
    payload = json.loads(rx.requests[-1].body)
    assert payload["text"] == "您好,您的退款已经成功,会在24小时内到账"
    assert payload["delivery_id"] == delivery.delivery_id
    assert payload["message_id"] == delivery.public_message_id
    assert payload["conversation_id"] == "shop-1"
    assert (payload["customer"], payload["agent"], payload["author"]) == ("carol", "alice", "agent")
    assert set(payload) == {
        "delivery_id",
        "message_id",
        "conversation_id",
        "customer",
        "agent",
        "author",
        "text",
        "sent_at",
    }
    headers = rx.requests[-1].headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("cs-tui/")


async def test_400_fails_at_once_with_the_answer_as_reason_and_never_the_secret(
    store_real_time: Store,
) -> None:
    with Receiver() as rx:
        desk = make_desk(store_real_time, rx.url)
        rx.secret = desk.secret
        # A careless receiver echoes the secret and a terminal escape in its error page.
        echo = f"bad payload \x1b[2J secret={desk.secret} " + "x" * 300
        rx.script = [Reply(400, echo.encode())]
        delivery = desk.reply()
        async with running(DeliveryWorker(store_real_time, owner="w1", schedule=FAST)):
            view = await settled(store_real_time, delivery.delivery_id)
    assert view.status == "failed"
    assert view.attempts == 1
    assert len(rx.requests) == 1
    assert view.last_error is not None
    assert view.last_error.startswith("HTTP 400: bad payload")
    assert desk.secret not in view.last_error
    assert "\x1b" not in view.last_error
    assert len(view.last_error) <= 300
    top = store_real_time.queue(desk.agent)[0]  # back on top of its owner's queue
    assert (top.external_id, top.undelivered) == ("shop-1", True)


async def test_a_redirect_is_not_followed_and_fails_the_delivery(store_real_time: Store) -> None:
    with Receiver() as rx:
        desk = make_desk(store_real_time, rx.url)
        rx.secret = desk.secret
        rx.script = [Reply(301, b"moved", (("Location", rx.url + "/new"),))]
        delivery = desk.reply()
        async with running(DeliveryWorker(store_real_time, owner="w1", schedule=FAST)):
            view = await settled(store_real_time, delivery.delivery_id)
    assert view.status == "failed"
    assert view.last_error == "HTTP 301: moved"
    assert [r.path for r in rx.requests] == ["/hook"]


async def test_429_waits_as_long_as_retry_after_asks(store_real_time: Store) -> None:
    with Receiver(script=[Reply(429, b"slow down", (("Retry-After", "1"),)), Reply(200)]) as rx:
        desk = make_desk(store_real_time, rx.url)
        rx.secret = desk.secret
        delivery = desk.reply()
        async with running(DeliveryWorker(store_real_time, owner="w1", schedule=FAST)):
            view = await settled(store_real_time, delivery.delivery_id)
    assert view.status == "sent"
    assert view.attempts == 2
    first, second = rx.requests
    # Without Retry-After the schedule would have come back within 0.1 s.
    assert second.started - first.ended >= 0.95


async def test_an_unreachable_receiver_is_retried_then_failed_at_the_give_up_age(
    store_real_time: Store,
) -> None:
    desk = make_desk(store_real_time, closed_port_url())
    delivery = desk.reply()
    schedule = RetrySchedule(base_s=0.1, cap_s=0.3, give_up_s=1.5)
    async with running(DeliveryWorker(store_real_time, owner="w1", schedule=schedule)):
        view = await settled(store_real_time, delivery.delivery_id)
    assert view.status == "failed"
    assert view.attempts >= 3
    assert view.last_error is not None
    assert view.last_error.startswith(f"gave up after {view.attempts} attempts: connection failed")
    assert desk.secret not in view.last_error


async def test_a_slow_receiver_times_out_and_is_tried_again(store_real_time: Store) -> None:
    with Receiver(script=[Reply(200, delay_s=1.5), Reply(200)]) as rx:
        desk = make_desk(store_real_time, rx.url)
        rx.secret = desk.secret
        delivery = desk.reply()
        worker = DeliveryWorker(
            store_real_time, owner="w1", schedule=FAST, total_timeout_s=0.5, lease_s=5
        )
        async with running(worker):
            view = await settled(store_real_time, delivery.delivery_id)
    assert view.status == "sent"
    assert view.attempts == 2


async def test_many_replies_are_each_sent_once_with_posts_in_parallel(
    store_real_time: Store,
) -> None:
    with Receiver(script=[Reply(200, delay_s=0.05)]) as rx:
        desk = make_desk(store_real_time, rx.url)
        rx.secret = desk.secret
        deliveries = [desk.reply(f"reply {i}") for i in range(40)]
        async with running(DeliveryWorker(store_real_time, owner="w1", concurrency=8)):
            views = [await settled(store_real_time, d.delivery_id) for d in deliveries]
    assert {v.status for v in views} == {"sent"}
    ids = [r.headers["X-CS-Delivery"] for r in rx.requests]
    assert sorted(ids) == sorted(str(d.delivery_id) for d in deliveries)
    assert all(r.verified for r in rx.requests)
    assert 1 < most_at_once(rx.requests) <= 8


async def test_a_reply_written_while_the_worker_idles_is_delivered(
    store_real_time: Store,
) -> None:
    with Receiver() as rx:
        desk = make_desk(store_real_time, rx.url)
        rx.secret = desk.secret
        async with running(DeliveryWorker(store_real_time, owner="w1", schedule=FAST)):
            await asyncio.sleep(0.3)  # the worker has found nothing and sleeps
            delivery = await asyncio.to_thread(desk.reply)
            view = await settled(store_real_time, delivery.delivery_id)
    assert view.status == "sent"
    assert len(rx.requests) == 1


async def test_stopping_lets_the_post_in_flight_finish_and_records_it(
    store_real_time: Store,
) -> None:
    with Receiver(script=[Reply(200, delay_s=0.8)]) as rx:
        desk = make_desk(store_real_time, rx.url)
        rx.secret = desk.secret
        delivery = desk.reply()
        worker = DeliveryWorker(store_real_time, owner="w1", schedule=FAST)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        while worker.stats.claimed == 0:
            await asyncio.sleep(0.02)
        stop.set()  # the POST is on its way: the receiver holds it 0.8 s
        await asyncio.wait_for(task, 10)
    view = store_real_time.delivery(delivery.delivery_id)
    assert view.status == "sent"
    assert len(rx.requests) == 1


async def test_a_cookie_set_by_a_receiver_is_never_sent_back(store_real_time: Store) -> None:
    cookie = (("Set-Cookie", "session=abc123; Path=/"),)
    with Receiver(script=[Reply(200, b"ok", cookie)]) as rx:
        desk = make_desk(store_real_time, rx.url)
        rx.secret = desk.secret
        async with running(DeliveryWorker(store_real_time, owner="w1", concurrency=1)):
            for _ in range(3):
                delivery = await asyncio.to_thread(desk.reply)
                assert (await settled(store_real_time, delivery.delivery_id)).status == "sent"
    assert len(rx.requests) == 3
    assert all("Cookie" not in r.headers for r in rx.requests)


async def test_a_worker_cancelled_mid_post_leaves_the_delivery_to_the_next_run(
    store_real_time: Store,
) -> None:
    with Receiver(script=[Reply(200, delay_s=0.8), Reply(200)]) as rx:
        desk = make_desk(store_real_time, rx.url)
        rx.secret = desk.secret
        delivery = desk.reply()

        def worker(owner: str) -> DeliveryWorker:
            return DeliveryWorker(
                store_real_time, owner=owner, schedule=FAST, total_timeout_s=1.0, lease_s=1.5
            )

        first = worker("w1")
        task = asyncio.create_task(first.run(asyncio.Event()))
        while not rx.arrivals:
            await asyncio.sleep(0.02)
        task.cancel()  # serve's bound on shutdown ran out while the receiver held the POST
        with pytest.raises(asyncio.CancelledError):
            await task
        assert store_real_time.delivery(delivery.delivery_id).status == "queued"
        async with running(worker("w2")):
            view = await settled(store_real_time, delivery.delivery_id)
    assert view.status == "sent"
    assert [d for d, _ in rx.arrivals] == [str(delivery.delivery_id)] * 2
