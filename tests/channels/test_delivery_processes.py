"""Delivery across real `cs-tui serve` processes: killed mid-delivery, and two on one store.

The replies are committed by this process, as a workstation would; the servers deliver them
to a real receiver that records each request's X-CS-Delivery and when it was in flight.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest

from cs_tui.data.store import Store
from tests.channels.receiver import Receiver, Reply
from tests.channels.test_outbox_worker import Desk, make_desk
from tests.server.conftest import BACKENDS, ServeProcess, backend_url

pytestmark = pytest.mark.slow

LEASE_S = 60.0  # the worker's lease: a killed server's claims are free again after it


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request.param, tmp_path)


def wait_for(condition, within: float, what: str) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + within
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_a_server_killed_during_the_post_leaves_the_delivery_to_the_next_one(
    db: str, tmp_path: Path
) -> None:
    # The receiver holds the first POST (the server is killed while it waits for the answer),
    # then answers the next one.
    with Receiver(script=[Reply(200, delay_s=20), Reply(200)]) as rx:
        store = Store.open(db)
        try:
            desk: Desk = make_desk(store, rx.url)
            rx.secret = desk.secret
            first = ServeProcess(db, tmp_path, "--retry-base", "0.2s")
            try:
                delivery = desk.reply(live=True)
                wait_for(lambda: len(rx.arrivals) == 1, 30, "the first POST")
                first.proc.send_signal(signal.SIGKILL)
            finally:
                assert first.terminate() == -signal.SIGKILL
            killed_at = time.monotonic()
            assert store.delivery(delivery.delivery_id).status == "queued"

            second = ServeProcess(db, tmp_path, "--retry-base", "0.2s")
            try:
                wait_for(
                    lambda: store.delivery(delivery.delivery_id).status == "sent",
                    LEASE_S + 30,
                    "the delivery after the restart",
                )
            finally:
                assert second.terminate() == 0
            view = store.delivery(delivery.delivery_id)
        finally:
            store.dispose()
    # At least once: the killed server's POST may have reached the receiver, so the receiver
    # sees the same X-CS-Delivery again and can tell the repeat.
    assert [d for d, _ in rx.arrivals] == [str(delivery.delivery_id)] * 2
    assert rx.arrivals[1][1] >= killed_at  # not sent again before the lease ran out
    assert view.attempts == 2
    assert [r.verified for r in rx.requests if r.answered == 200][-1]


def test_two_servers_on_one_store_never_send_a_delivery_twice(db: str, tmp_path: Path) -> None:
    count = 120
    with Receiver(script=[Reply(200, delay_s=0.03)]) as rx:
        store = Store.open(db)
        try:
            desk = make_desk(store, rx.url)
            rx.secret = desk.secret
            servers = [ServeProcess(db, tmp_path), ServeProcess(db, tmp_path)]
            try:
                ids: list[int] = []

                def write() -> None:
                    ids.extend(desk.reply(f"回复 {i}", live=True).delivery_id for i in range(count))

                writer = threading.Thread(target=write)
                writer.start()
                writer.join(120)
                wait_for(lambda: len(rx.requests) >= count, 60, "every delivery")
                time.sleep(0.5)  # a second POST of any of them would arrive now
            finally:
                codes = [s.terminate() for s in servers]
            statuses = {store.delivery(i).status for i in ids}
        finally:
            store.dispose()
    assert codes == [0, 0]
    assert statuses == {"sent"}
    per_delivery: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for r in rx.requests:
        per_delivery[r.headers["X-CS-Delivery"]].append((r.started, r.ended))
    assert sorted(per_delivery) == sorted(str(i) for i in ids)
    assert all(len(spans) == 1 for spans in per_delivery.values())
    assert all(r.verified for r in rx.requests)
