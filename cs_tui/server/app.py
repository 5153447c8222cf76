"""create_app(store, settings): the gateway's Starlette application.

Routes: `GET /healthz`, the integration API (cs_tui.server.inbound) and the web chat
(cs_tui.server.webchat). The lifespan runs the
outbox delivery worker (cs_tui.channels.outbox_worker) beside the routes unless
`settings.deliver` is off, and on shutdown gives it what is left of the shutdown bound to finish
its in-flight POSTs. It also fails the web chat replies whose visitor did not come back within
`settings.web_give_up_s` (cs_tui.channels.web_give_up). Unknown paths and methods get JSON
errors like every other answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import anyio
from anyio import to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cs_tui.safe_text import one_line
from cs_tui.server.access_log import AccessLog
from cs_tui.server.forwarded import ForwardedFor, parse_network
from cs_tui.server.inbound import ROUTES
from cs_tui.server.responses import JsonResponse, error
from cs_tui.server.settings import ServerSettings
from cs_tui.server.state import GatewayState
from cs_tui.server.webchat import ROUTES as WEBCHAT_ROUTES

if TYPE_CHECKING:
    from cs_tui.data.store import Store

HEALTH_TIMEOUT_S = 2.0
WORKER_RESTART_S = 5.0
CANCEL_GRACE_S = 1.0
WEB_GIVE_UP_EVERY_S = 60.0


async def healthz(request: Request) -> Response:
    state: GatewayState = request.app.state.gateway
    try:
        with anyio.fail_after(HEALTH_TIMEOUT_S):
            reachable = await to_thread.run_sync(state.store.ping, abandon_on_cancel=True)
    except Exception:  # noqa: BLE001 - any failure means "not reachable", said without details
        reachable = False
    if reachable:
        return JsonResponse({"status": "ok", "store": "reachable"})
    return JsonResponse({"status": "unavailable", "store": "unreachable"}, status_code=503)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error(404, "not_found", "no such endpoint")
    if exc.status_code == 405:
        return error(
            405,
            "method_not_allowed",
            "this endpoint does not take that method",
            dict(exc.headers or {}),
        )
    return error(exc.status_code, "http_error", "the request was refused")


def worker_owner() -> str:
    """Who holds a delivery's lease: host, process and a random part (two `serve` processes
    on one host, or one restarted with the same pid, never share a name)."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def _run_worker(state: GatewayState) -> None:
    """Run the delivery worker until shutdown. Should it fail, a crash report is written (no
    messages, no locals), one line says so, and it starts again after a pause: a server that
    accepts messages but has silently stopped delivering replies would be the worst case."""
    from cs_tui.channels.outbox_worker import DeliveryWorker
    from cs_tui.channels.retry import RetrySchedule

    settings = state.settings
    schedule = RetrySchedule(base_s=settings.retry_base_s, give_up_s=settings.give_up_s)
    while not state.stop.is_set():
        worker = DeliveryWorker(state.store, owner=worker_owner(), schedule=schedule)
        try:
            await worker.run(state.stop)
            return
        except Exception as exc:  # noqa: BLE001 - reported without text, then started again
            _report_worker(exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.stop.wait(), WORKER_RESTART_S)


async def _run_web_give_up(state: GatewayState) -> None:
    """Fail the web chat replies whose visitor did not come back within the web give-up time
    (cs_tui.channels.web_give_up), looking every minute (more often for a short give-up time,
    so a reply fails at most a quarter of it late). A store that is away is tried again."""
    from cs_tui.channels.web_give_up import give_up_reason
    from cs_tui.data.errors import StoreError

    after_s = state.settings.web_give_up_s
    reason = give_up_reason(after_s)
    pause = min(WEB_GIVE_UP_EVERY_S, max(0.1, after_s / 4))
    while not state.stop.is_set():
        with contextlib.suppress(StoreError):
            while await to_thread.run_sync(state.store.give_up_web_deliveries, after_s, reason):
                pass  # a full batch: there may be more
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.stop.wait(), pause)


async def _run_mail(state: GatewayState) -> None:
    """The e-mail channels' fetchers (cs_tui.channels.email_service), until shutdown."""
    from cs_tui.channels.email_service import run_mail_fetchers
    from cs_tui.config import data_dir

    await run_mail_fetchers(state.store, state.stop, data_dir())


def _report_worker(exc: Exception) -> None:
    import sys

    from cs_tui import crash

    kind = type(exc).__name__
    try:
        where = str(crash.write_report(exc, where="serve: delivery worker"))
    except OSError as problem:
        where = f"none written ({crash.describe_os_error(problem)})"
    print(
        f"cs-tui serve: the delivery worker stopped ({kind}), starting it again in "
        f"{WORKER_RESTART_S:g} s; report: {one_line(where)}",
        file=sys.stderr,
        flush=True,
    )


def create_app(store: Store, settings: ServerSettings) -> Starlette:
    state = GatewayState.build(store, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        worker: asyncio.Task[None] | None = None
        if settings.deliver:
            worker = asyncio.create_task(_run_worker(state), name="delivery-worker")
        mail = asyncio.create_task(_run_mail(state), name="mail-fetchers")
        web = asyncio.create_task(_run_web_give_up(state), name="web-give-up")
        try:
            yield
        finally:
            state.begin_shutdown()
            if worker is not None:
                await _finish(worker, state.time_left())
            await _finish(mail, state.time_left())
            await _finish(web, state.time_left())

    app = Starlette(
        routes=[Route("/healthz", healthz, methods=["GET"]), *ROUTES, *WEBCHAT_ROUTES],
        middleware=[
            Middleware(
                ForwardedFor,
                trusted=tuple(parse_network(net) for net in settings.trusted_proxies),
            ),
            Middleware(AccessLog, enabled=settings.access_log),
        ],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.gateway = state
    return app


async def _finish(worker: asyncio.Task[None], seconds: float) -> None:
    """Wait for the worker to wind down; past the bound, cancel it (its leases expire and
    another run takes those deliveries again: at least once, never lost) and wait a moment
    more for the cancellation; what is still running then is left to the process's exit."""
    done, _ = await asyncio.wait({worker}, timeout=seconds)
    if not done:
        worker.cancel()
        done, _ = await asyncio.wait({worker}, timeout=CANCEL_GRACE_S)
    if done:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            worker.result()  # retrieved: its errors were reported by _run_worker
