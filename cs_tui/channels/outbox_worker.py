"""The delivery worker: POSTs the outbox's due deliveries to their channels' webhooks.

The reply and its delivery row are committed together by the workstation (the transactional
outbox); this worker, inside `cs-tui serve`, only moves rows from `queued` to `sent` or `failed`.

- **Claims with a lease.** `claim_deliveries` marks a batch as ours until now + `lease_s` (longer
  than a POST may take). A process killed with SIGKILL leaves its claims behind; they become due
  again when the lease runs out, so every delivery is POSTed at least once (the receiver
  de-duplicates on `X-CS-Delivery`, the same on every attempt). Two processes never hold the same
  row at the same time: the claim is one write transaction (SKIP LOCKED on PostgreSQL).
- **Concurrency.** Up to `concurrency` POSTs at once over a few small httpx connection pools
  made once per run (HTTP keep-alive to each receiver, no cookies kept; see `_lanes`).
  Store calls block, so they run in threads; the results of many POSTs are written back in one
  thread hop, the sent ones in one transaction.
- **Noticing new work.** Idle, the worker sleeps until the next due delivery, at most
  `max_sleep_s`, and looks at the store's change feed every `idle_tick_s` (SQLite's data_version
  costs microseconds; on PostgreSQL the LISTEN thread wakes it), so a reply committed by a
  workstation is POSTed within a fraction of a second without hammering the store.
  `wake()` makes it look at once (a reply written by this process).
- **Outcomes.** 2xx: sent. Timeouts (connect `connect_timeout_s`, whole request
  `total_timeout_s`), connection errors, 429 and 5xx: tried again on the RetrySchedule (honouring
  Retry-After) until the give-up age, then failed. Redirects are not followed: a receiver that
  moved must be reconfigured, so 3xx and any other 4xx fail at once with "HTTP <status>: <first
  200 bytes of the answer>" as the reason. Reasons are printable, at most 300 characters, and never
  hold the channel's secret.
- **Stopping.** When `stop` is set: no new claims, in-flight POSTs finish and their results are
  written; the caller bounds how long that may take and cancels the run after that: the POSTs
  still in flight are abandoned (each keeps its lease and is sent again later, never lost) and
  the results already in are still written.

Nothing a customer or agent wrote is logged: log lines name delivery ids and status codes only.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx

from cs_tui import __version__
from cs_tui.channels.retry import RetrySchedule, parse_retry_after
from cs_tui.channels.signing import sign
from cs_tui.data.errors import StoreError
from cs_tui.data.views import DeliveryJob
from cs_tui.data.watch import ChangeWatcher
from cs_tui.safe_text import clean

if TYPE_CHECKING:
    from cs_tui.channels.email_send import MailSender
    from cs_tui.data.store import Store

log = logging.getLogger("cs_tui.channels.outbox")
T = TypeVar("T")

REASON_LIMIT = 300  # the store keeps at most this many characters of a reason
BODY_EXCERPT = 200  # bytes of a refusing receiver's answer kept in the reason
USER_AGENT = f"cs-tui/{__version__}"
LANE_SIZE = 2  # connections per pool (see DeliveryWorker._lanes)
FLUSH_GATHER_S = 0.02  # results wait this long to be written together
RETRY_STATUSES = frozenset({429})  # plus every 5xx; any other 4xx will not get better
MAIL_SHARE_OF_LEASE = 2 / 3
"""An e-mail send must be over by this share of its lease, counted from the claim (40 s of
60): the rest leaves time to write its outcome before anyone may claim it again."""


Lane = httpx.AsyncClient | httpx.AsyncHTTPTransport


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to, waiting to be written to the store."""

    delivery_id: int
    kind: Literal["sent", "retry", "failed"]
    status_code: int | None
    error: str | None = None
    at: datetime | None = None  # retry: when to try again


@dataclass
class WorkerStats:
    """Counters for `serve`'s health line and the benchmark."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    store_errors: int = 0


class DeliveryWorker:
    def __init__(
        self,
        store: Store,
        *,
        owner: str,
        client: httpx.AsyncClient | None = None,
        schedule: RetrySchedule | None = None,
        concurrency: int = 32,
        lease_s: float = 60.0,
        connect_timeout_s: float = 5.0,
        total_timeout_s: float = 10.0,
        idle_tick_s: float = 0.1,
        max_sleep_s: float = 1.0,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if lease_s <= total_timeout_s:
            raise ValueError("the lease must outlast a POST, or two processes could send it")
        self.store = store
        self.owner = owner
        self.schedule = schedule or RetrySchedule()
        self.concurrency = concurrency
        self.lease_s = lease_s
        self.connect_timeout_s = connect_timeout_s
        self.total_timeout_s = total_timeout_s
        self.idle_tick_s = idle_tick_s
        self.max_sleep_s = max_sleep_s
        self.stats = WorkerStats()
        self._claim_min = max(1, concurrency // 2)
        self._timeouts = {
            "connect": connect_timeout_s,
            "read": total_timeout_s,
            "write": total_timeout_s,
            "pool": total_timeout_s,
        }
        self._client = client
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._woken_early = False
        self._outcomes: list[Outcome] = []
        self._outcomes_ready: asyncio.Event | None = None
        self._closing = False
        self._came_back_empty = False
        self._mail: MailSender | None = None  # made at the first e-mail delivery

    # -- public ---------------------------------------------------------------------------

    def wake(self) -> None:
        """Look for due deliveries now (a reply was just written). Safe from any thread."""
        loop, event = self._loop, self._wake
        if loop is None or event is None:
            self._woken_early = True
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            event.set()
        else:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nothing to wake
                loop.call_soon_threadsafe(event.set)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set, then let in-flight POSTs finish and record them."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._outcomes_ready = asyncio.Event()
        self._closing = False
        if self._woken_early:
            self._wake.set()
        lanes, pools = self._lanes()
        watcher = await self._watcher()
        pending: set[asyncio.Task[None]] = set()
        writer = asyncio.create_task(self._write_outcomes(), name="cs-tui-outbox-results")
        try:
            more = True  # look once at start: a previous run may have left due rows
            while not stop.is_set():
                pending = {t for t in pending if not t.done()}
                free = self.concurrency - len(pending)
                if free == 0 or (more and free < self._claim_min):
                    # Busy: claim again when a good part of the slots is free, not per slot
                    # (a claim is a write transaction; one per finished POST halves throughput).
                    await _first_of([*pending], stop)
                    continue
                if more:
                    none: list[DeliveryJob] = []
                    claimed_at = time.monotonic()
                    jobs = await self._blocking(
                        self.store.claim_deliveries, self.owner, free, self.lease_s, default=none
                    )
                    self.stats.claimed += len(jobs)
                    self._came_back_empty = not jobs
                    for job in jobs:
                        pending.add(asyncio.create_task(self._deliver(lanes, job, claimed_at)))
                    more = len(jobs) == free
                    if more:
                        continue
                more = await self._idle(stop, watcher)
        except asyncio.CancelledError:
            # The caller's bound ran out: the POSTs in flight are abandoned (their leases run
            # out and another run sends them again); the results already in are written below.
            for task in pending:
                task.cancel()
            raise
        finally:
            try:
                if pending:
                    await asyncio.gather(*pending, return_exceptions=True)
            finally:
                # The writer is told to finish, not cancelled: a cancelled thread hop would
                # return while its write still runs.
                self._closing = True
                self._outcomes_ready.set()
                try:
                    await writer
                finally:
                    await asyncio.gather(*(pool.aclose() for pool in pools))
                    if watcher is not None:
                        await asyncio.to_thread(watcher.close)
                    if self._mail is not None:  # the SMTP connections kept open
                        mail, self._mail = self._mail, None
                        await asyncio.to_thread(mail.close)
                    self._loop = None
                    self._wake = None

    # -- one delivery -----------------------------------------------------------------------

    async def _deliver(
        self, lanes: asyncio.Queue[Lane], job: DeliveryJob, claimed_at: float
    ) -> None:
        lane = await lanes.get()  # never waits: there are as many lanes as POSTs at once
        try:
            if job.channel_kind == "email":
                deadline = claimed_at + self.lease_s * MAIL_SHARE_OF_LEASE
                outcome = await self._send_mail(job, deadline)
            else:
                outcome = await self._attempt(lane, job)
        except Exception as exc:  # a bug must not kill the worker; the lease brings it back
            log.error("delivery %d: unexpected %s", job.delivery_id, type(exc).__name__)
            return
        finally:
            lanes.put_nowait(lane)
        self._record(outcome)

    async def _attempt(self, lane: Lane, job: DeliveryJob) -> Outcome:
        body = json.dumps(job.payload, ensure_ascii=False, separators=(",", ":"), default=_iso)
        raw = body.encode("utf-8")
        timestamp = int(self.store.clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-CS-Delivery": str(job.delivery_id),
            "X-CS-Timestamp": str(timestamp),
            "X-CS-Signature": sign(job.secret, timestamp, raw),
        }
        try:
            async with asyncio.timeout(self.total_timeout_s):
                request = httpx.Request(
                    "POST",
                    job.webhook_url,
                    content=raw,
                    headers=headers,
                    extensions={"timeout": self._timeouts},
                )
                if isinstance(lane, httpx.AsyncClient):
                    response = await lane.send(request, stream=True, follow_redirects=False)
                else:
                    response = await lane.handle_async_request(request)
                try:
                    excerpt = await _read_some(response, BODY_EXCERPT)
                finally:
                    await response.aclose()
                status = response.status_code
                retry_after = response.headers.get("Retry-After")
        except (TimeoutError, httpx.TimeoutException) as exc:
            return self._retry(job, None, _timeout_reason(exc, self))
        except (httpx.UnsupportedProtocol, httpx.InvalidURL):
            return self._failed(job, None, "the webhook URL cannot be used: check the channel")
        except httpx.TransportError as exc:
            return self._retry(job, None, f"connection failed: {_exc_line(exc)}")
        if 200 <= status < 300:
            return Outcome(job.delivery_id, "sent", status)
        reason = f"HTTP {status}: {_printable(excerpt)}".rstrip(": ")
        if status >= 500 or status in RETRY_STATUSES:
            seconds = parse_retry_after(retry_after, self.store.clock.now())
            return self._retry(job, status, reason, retry_after_s=seconds)
        return self._failed(job, status, reason)

    # -- e-mail channels ----------------------------------------------------------------------

    async def _send_mail(self, job: DeliveryJob, deadline: float) -> Outcome:
        """An e-mail channel's delivery leaves by SMTP (cs_tui.channels.email_send, in a
        thread); its result maps onto a POST's outcomes: sent, retried on the same schedule
        (4xx, connection lost), or failed with the server's reply (5xx). The whole send ends
        by `deadline` (time.monotonic()), well inside the lease: the delivery cannot be
        claimed again while this send is still talking to the server."""
        if self._mail is None:
            from cs_tui.channels.email_send import MailSender

            self._mail = MailSender(self.store)
        result = await asyncio.to_thread(self._mail.send, job.delivery_id, deadline)
        if result.kind == "sent":
            return Outcome(job.delivery_id, "sent", result.status)
        reason = result.reason or "SMTP failed"
        if result.kind == "retry":
            return self._retry(job, result.status, reason)
        return self._failed(job, result.status, reason)

    def _retry(
        self,
        job: DeliveryJob,
        status: int | None,
        reason: str,
        *,
        retry_after_s: float | None = None,
    ) -> Outcome:
        now = self.store.clock.now()
        at = self.schedule.next_attempt(
            now=now, created_at=job.created_at, attempts=job.attempts, retry_after_s=retry_after_s
        )
        if at is None:
            why = f"gave up after {job.attempts} attempts: {reason}"
            return self._failed(job, status, why)
        return Outcome(job.delivery_id, "retry", status, _bounded(reason, job.secret), at)

    def _failed(self, job: DeliveryJob, status: int | None, reason: str) -> Outcome:
        return Outcome(job.delivery_id, "failed", status, _bounded(reason, job.secret))

    # -- writing results -----------------------------------------------------------------------

    def _record(self, outcome: Outcome) -> None:
        self._outcomes.append(outcome)
        if outcome.kind == "sent":
            self.stats.sent += 1
        elif outcome.kind == "retry":
            self.stats.retried += 1
            log.info(
                "delivery %d: will retry (status %s)", outcome.delivery_id, outcome.status_code
            )
        else:
            self.stats.failed += 1
            log.warning("delivery %d: failed (status %s)", outcome.delivery_id, outcome.status_code)
        if self._outcomes_ready is not None:
            self._outcomes_ready.set()

    async def _write_outcomes(self) -> None:
        """Write results as they come, many per thread hop (one per POST would cost a hop
        and a transaction each)."""
        assert self._outcomes_ready is not None
        while True:
            await self._outcomes_ready.wait()
            if not self._closing:
                await asyncio.sleep(FLUSH_GATHER_S)  # let a few more POSTs finish: one txn
            self._outcomes_ready.clear()
            await self._flush()
            if self._closing:
                return

    async def _flush(self) -> None:
        while self._outcomes:
            batch, self._outcomes = self._outcomes, []
            await asyncio.to_thread(self._store_outcomes, batch)

    def _store_outcomes(self, batch: list[Outcome]) -> None:
        """Record a batch of results: all the sent ones in one transaction, the rest (retries
        and failures, rarer) one by one. A store that is away gets one more try; after that
        the leases run out and the deliveries are POSTed again (at least once, never lost)."""
        sent = [(o.delivery_id, o.status_code or 200) for o in batch if o.kind == "sent"]
        if sent:
            self._twice(lambda: self.store.deliveries_sent(self.owner, sent), sent[0][0])
        for outcome in batch:
            if outcome.kind != "sent":
                self._twice(functools.partial(self._store_outcome, outcome), outcome.delivery_id)

    def _twice(self, write: Callable[[], object], delivery_id: int) -> None:
        for attempt in range(2):
            try:
                write()
                return
            except StoreError as exc:
                if attempt == 1:
                    self.stats.store_errors += 1
                    log.warning("delivery %d: result not recorded (%s)", delivery_id, exc.code)
                else:
                    time.sleep(0.2)

    def _store_outcome(self, outcome: Outcome) -> None:
        if outcome.kind == "retry":
            assert outcome.at is not None and outcome.error is not None
            self.store.delivery_retry_later(
                outcome.delivery_id, self.owner, outcome.at, outcome.error, outcome.status_code
            )
        else:
            assert outcome.error is not None
            self.store.delivery_failed(
                outcome.delivery_id, self.owner, outcome.error, outcome.status_code
            )

    # -- waiting ------------------------------------------------------------------------------

    async def _idle(self, stop: asyncio.Event, watcher: ChangeWatcher | None) -> bool:
        """Sleep until something may be due; True when a claim is worth trying."""
        assert self._loop is not None and self._wake is not None
        loop, wake = self._loop, self._wake
        while not stop.is_set():
            if wake.is_set():
                wake.clear()
                return True
            due = await self._blocking(self.store.next_delivery_due, default=None)
            now = self.store.clock.now()
            if due is not None and due <= now:
                if not self._came_back_empty:
                    return True
                # Due, yet the last claim found nothing (another worker was claiming it):
                # look again after a tick rather than spin on write transactions.
                self._came_back_empty = False
                await _first_of([], stop, wake, timeout=self.idle_tick_s)
                continue
            limit = self.max_sleep_s
            if due is not None:
                limit = min(limit, (due - now).total_seconds())
            end = loop.time() + limit
            changed = False
            while not changed and not stop.is_set() and not wake.is_set():
                left = end - loop.time()
                if left <= 0:
                    break
                await _first_of([], stop, wake, timeout=min(self.idle_tick_s, left))
                if watcher is not None and not wake.is_set() and not stop.is_set():
                    changed = await self._blocking(_changed, watcher, default=False)
        return False

    async def _watcher(self) -> ChangeWatcher | None:
        try:
            return await asyncio.to_thread(ChangeWatcher, self.store)
        except StoreError as exc:
            log.warning("change feed unavailable (%s): polling the outbox each second", exc.code)
            return None

    async def _blocking(self, fn: Callable[..., T], *args: Any, default: T) -> T:
        """A store call in a thread; a store that is away costs a pause, not the worker."""
        try:
            return await asyncio.to_thread(fn, *args)
        except StoreError as exc:  # anything else is a bug: it ends run() (serve reports it)
            self.stats.store_errors += 1
            log.warning("outbox: store unavailable (%s)", exc.code)
            await asyncio.sleep(min(1.0, self.max_sleep_s))
            return default

    def _lanes(self) -> tuple[asyncio.Queue[Lane], list[httpx.AsyncHTTPTransport]]:
        """One slot per concurrent POST, each naming the connection pool to use.

        Several small pools rather than one of `concurrency` connections: httpcore walks every
        connection of a pool at each request's start and end, so a POST's CPU cost grows with
        the pool (measured draining to a local receiver: 4.6 ms of CPU a delivery with one pool
        of 32 connections, 1.7 ms with pools of two). Each pool keeps its connections alive
        between POSTs. The pools are httpx transports, without a client around them: a client
        would keep cookies a receiver sets and send them to the next receiver on that host, and
        its redirect, auth and cookie layers cost a fifth of a POST's CPU for nothing here.
        A client given by the caller is used alone (and not closed here). Returns the slots and
        the pools to close at the end."""
        lanes: asyncio.Queue[Lane] = asyncio.Queue()
        pools: list[httpx.AsyncHTTPTransport] = []
        if self._client is not None:
            for _ in range(self.concurrency):
                lanes.put_nowait(self._client)
            return lanes, pools
        size = min(LANE_SIZE, self.concurrency)
        count = -(-self.concurrency // size)
        ssl_context = httpx.create_ssl_context()  # one for all: building one costs ~80 ms
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        pools = [httpx.AsyncHTTPTransport(verify=ssl_context, limits=limits) for _ in range(count)]
        for i in range(self.concurrency):
            lanes.put_nowait(pools[i % count])
        return lanes, pools


def _changed(watcher: ChangeWatcher) -> bool:
    return bool(watcher.poll())


async def _first_of(
    tasks: list[asyncio.Task[None]], *events: asyncio.Event, timeout: float | None = None
) -> None:
    """Wait until one task ends, one event is set, or the timeout passes."""
    waiters = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait([*tasks, *waiters], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


async def _read_some(response: httpx.Response, limit: int) -> bytes:
    """The first `limit` bytes of the answer; a small answer is read whole, so the connection
    goes back to the pool, a big one is cut and its connection closed."""
    got = b""
    async for chunk in response.aiter_bytes():
        got += chunk
        if len(got) >= limit:
            break
    return got[:limit]


def _printable(raw: bytes) -> str:
    return clean(raw.decode("utf-8", errors="replace"), single_line=True).strip()


def _bounded(reason: str, secret: str) -> str:
    if secret:
        reason = reason.replace(secret, "[secret]")
    reason = clean(reason, single_line=True)
    return reason if len(reason) <= REASON_LIMIT else reason[: REASON_LIMIT - 1] + "…"


def _exc_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _timeout_reason(exc: BaseException, worker: DeliveryWorker) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no connection within {worker.connect_timeout_s:g} s"
    return f"no answer within {worker.total_timeout_s:g} s"


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
