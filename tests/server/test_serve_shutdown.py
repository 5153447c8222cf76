"""SIGTERM: `cs-tui serve` stops accepting, finishes what is in flight (a request, a webhook
POST), and exits 0."""

from __future__ import annotations

import json
import signal
import time

import httpx
import pytest

from tests.channels.receiver import Receiver, Reply
from tests.server.conftest import message, start_gateway

pytestmark = pytest.mark.slow


def test_sigterm_finishes_the_request_in_flight_and_exits_0(tmp_path, backend):
    gateway_gen = start_gateway(tmp_path, backend, {"shop": True})
    gateway = next(gateway_gen)
    try:
        proc = gateway.server.proc
        body = json.dumps(message(1, conversation="late")).encode()

        def slowly():
            yield body[:20]
            time.sleep(0.3)  # the server has the request's head
            proc.send_signal(signal.SIGTERM)  # and half its body
            time.sleep(1.0)
            yield body[20:]

        with gateway.client() as client:
            answer = client.post(
                "/api/v1/messages",
                content=slowly(),
                headers={"Content-Type": "application/json", **gateway.auth("shop")},
            )
        assert answer.status_code == 201
        assert proc.wait(20) == 0, gateway.server.log()
        assert gateway.store.conversation_id("late")  # committed, not lost
        with pytest.raises(httpx.TransportError), httpx.Client() as client:
            client.get(gateway.server.url + "/healthz")  # no longer accepting
        assert "Traceback" not in gateway.server.log()
    finally:
        gateway_gen.close()


def test_sigterm_lets_a_webhook_post_in_flight_finish(tmp_path, backend):
    with Receiver(script=[Reply(200, delay_s=1.5)]) as receiver:
        gateway_gen = start_gateway(tmp_path, backend, {"shop": True}, webhook_url=receiver.url)
        gateway = next(gateway_gen)
        try:
            store = gateway.store
            with gateway.client() as client:
                posted = client.post(
                    "/api/v1/messages",
                    json=message(1, conversation="reply-me"),
                    headers=gateway.auth("shop"),
                )
            assert posted.status_code == 201
            conversation_id = store.conversation_id("reply-me")
            agent = store.sign_in("ann")
            assert store.claim(agent, conversation_id)
            store.post_reply(agent, conversation_id, "您好,已为您加急处理")
            (delivery,) = store.deliveries(agent, conversation_id=conversation_id)
            deadline = time.monotonic() + 20
            while store.delivery(delivery.delivery_id).attempts == 0:
                assert time.monotonic() < deadline, "the worker never claimed the delivery"
                time.sleep(0.05)
            # Claimed: the POST is on its way and the receiver holds it for 1.5 s.
            assert gateway.server.terminate() == 0, gateway.server.log()
            assert store.delivery(delivery.delivery_id).status == "sent"
            assert len(receiver.requests) == 1
        finally:
            gateway_gen.close()


def test_a_webhook_that_never_answers_does_not_hold_shutdown_past_its_bound(tmp_path):
    with Receiver(script=[Reply(200, delay_s=60)]) as receiver:
        gateway_gen = start_gateway(tmp_path, "sqlite", {"shop": True}, webhook_url=receiver.url)
        gateway = next(gateway_gen)
        try:
            store = gateway.store
            with gateway.client() as client:
                posted = client.post(
                    "/api/v1/messages",
                    json=message(1, conversation="stuck"),
                    headers=gateway.auth("shop"),
                )
            assert posted.status_code == 201
            conversation_id = store.conversation_id("stuck")
            agent = store.sign_in("ann")
            assert store.claim(agent, conversation_id)
            store.post_reply(agent, conversation_id, "您好,马上为您处理")
            (delivery,) = store.deliveries(agent, conversation_id=conversation_id)
            deadline = time.monotonic() + 20
            while store.delivery(delivery.delivery_id).attempts == 0:
                assert time.monotonic() < deadline, "the worker never claimed the delivery"
                time.sleep(0.05)
            # The 10 s bound ends the POST; the watchdog (status 1) is never needed.
            assert gateway.server.terminate(timeout=30) == 0, gateway.server.log()
            after = store.delivery(delivery.delivery_id)
            assert after.status in ("queued", "sent"), after  # queued: sent again later
        finally:
            gateway_gen.close()
