"""The gateway (`cs-tui serve`) on SQLite: intake, propagation, webhook delivery, memory.

- inbound, single messages: 16 concurrent keep-alive clients POST one message each request;
  messages stored per second. The reference is the same server answering `GET /healthz` to the
  same clients in the same run (what the HTTP stack alone costs on this machine).
- inbound, batches of 500: 4 concurrent clients; messages stored per second.
- POST accepted -> row visible in a running workstation: a poller runs the workstation's live loop
  (ChangeWatcher every 0.5 s, then the conversation is read) while messages are POSTed one at a
  time; p95 of the time from the 201 to the poller reading the new message.
- drain: 10,000 replies committed while no server ran, then `serve` starts against a local
  receiver; deliveries received per second until the last one.
- reply committed -> webhook received: replies committed one at a time through the store (as the
  workstation commits them); p95 of commit-return to the receiver's arrival.
- peak RSS of each `serve` process (VmHWM).

The clients and the receiver are minimal asyncio HTTP/1.1 over keep-alive connections, so that the
client's own cost (httpx would cost more than the server) does not hide the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import ServeProcess, percentile, print_table

CLIENTS = 16
BATCH = 500
TARGET_SINGLE = 1_000
TARGET_BATCH = 20_000
TARGET_VISIBLE_P95_S = 1.0
TARGET_WEBHOOK_P95_S = 0.5
TARGET_DRAIN = 500
TARGET_RSS_MB = 150


# -- a minimal keep-alive HTTP/1.1 client ------------------------------------------------------


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(
        self, method: str, path: str, body: bytes = b"", token: str | None = None
    ) -> tuple[int, bytes]:
        head = [f"{method} {path} HTTP/1.1", "Host: bench"]
        if token:
            head.append(f"Authorization: Bearer {token}")
        if body or method == "POST":
            head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        header = await self.reader.readuntil(b"\r\n\r\n")
        status = int(header.split(b" ", 2)[1])
        length = 0
        for line in header.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        payload = await self.reader.readexactly(length) if length else b""
        return status, payload

    def close(self) -> None:
        self.writer.close()


# -- a minimal webhook receiver ---------------------------------------------------------------


@dataclass
class Receiver:
    """Answers every POST with 200 and notes when each delivery arrived (monotonic)."""

    arrivals: dict[str, float] = field(default_factory=dict)  # message_id -> arrival
    deliveries: set[str] = field(default_factory=set)
    port: int = 0
    ready: threading.Event = field(default_factory=threading.Event)
    loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()
        self.ready.wait(10)

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024)
        )
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = await reader.readuntil(b"\r\n\r\n")
                length = 0
                delivery = ""
                for line in header.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"x-cs-delivery":
                        delivery = value.strip().decode()
                body = await reader.readexactly(length) if length else b""
                now = time.monotonic()
                try:
                    message_id = json.loads(body)["message_id"]
                except (ValueError, KeyError, TypeError):
                    message_id = ""
                self.arrivals.setdefault(message_id, now)
                self.deliveries.add(delivery)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


# -- the server under test --------------------------------------------------------------------


def start_serve(db: str, *extra: str) -> ServeProcess:
    """Rate limits far above what the clients send: the bench measures the server, not 429s."""
    return ServeProcess("channels", db, "--rate", "1000000/s", "--burst", "1000000", *extra)


# -- the phases -------------------------------------------------------------------------------


def message(n: int, conversation: int) -> dict:
    return {
        "message_id": f"bench-m{n}",
        "conversation_id": f"bench-c{conversation}",
        "customer": f"bench-cust{conversation}",
        "customer_name": f"顾客 {conversation}",
        "author": "customer",
        "text": f"我的订单 {5024549505020500 + n} 还没有发货，请帮我查一下 (message {n})",
        "sent_at": "2026-12-07T09:30:00+08:00",
    }


async def _clients(
    host: str, port: int, jobs: list[tuple[str, str, bytes]], token: str, clients: int
) -> tuple[float, dict[int, int]]:
    """Run the requests over `clients` keep-alive connections; seconds taken, status counts."""
    queue: asyncio.Queue[tuple[str, str, bytes]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    statuses: dict[int, int] = {}

    async def worker() -> None:
        conn = await Connection.open(host, port)
        try:
            while not queue.empty():
                method, path, body = queue.get_nowait()
                status, _ = await conn.request(method, path, body, token)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - start, statuses


def run_clients(
    serve: ServeProcess, jobs: list[tuple[str, str, bytes]], token: str, clients: int
) -> tuple[float, dict[int, int]]:
    return asyncio.run(_clients(serve.host, serve.port, jobs, token, clients))


def visible_latency(
    serve: ServeProcess, store, token: str, samples: int, first: int
) -> list[float]:
    """POST one message at a time; a poller thread runs the workstation's live loop."""
    from cs_tui.data.watch import ChangeWatcher

    posted: dict[int, float] = {}
    seen: dict[int, float] = {}
    stop = threading.Event()
    watcher = ChangeWatcher(store)

    def poll() -> None:
        wanted = {}
        while not stop.is_set():
            watcher.wait(0.5)
            events = watcher.poll()
            conv_ids = {e.conversation_id for e in events if e.conversation_id is not None}
            if not conv_ids:
                continue
            rows = store.queue_rows(sorted(conv_ids))  # what the workstation reloads
            now = time.monotonic()
            for row in rows:
                if row.external_id.startswith("bench-v"):
                    wanted[int(row.external_id[7:])] = now
            seen.update(wanted)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()

    async def post_all() -> None:
        conn = await Connection.open(serve.host, serve.port)
        for i in range(samples):
            body = dict(message(first + i, 0), conversation_id=f"bench-v{i}")
            status, _ = await conn.request(
                "POST", "/api/v1/messages", json.dumps(body).encode(), token
            )
            assert status == 201, status
            posted[i] = time.monotonic()
            await asyncio.sleep(0.05)
        conn.close()

    asyncio.run(post_all())
    deadline = time.monotonic() + 5
    while len(seen) < samples and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(2)
    watcher.close()
    return [max(0.0, seen[i] - posted[i]) for i in posted if i in seen] + [
        float("inf") for i in posted if i not in seen
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench channels")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args(argv)
    singles = 3_000 if args.quick else 20_000
    batches = 10 if args.quick else 100
    drain = 1_000 if args.quick else 10_000
    samples = 40 if args.quick else 200

    import sqlalchemy as sa

    from cs_tui.data.store import Store
    from cs_tui.data.tables import AGENT, CONV

    workdir = Path(tempfile.mkdtemp(prefix="cs-tui-bench-channels-"))
    db = str(workdir / "gateway.db")
    receiver = Receiver()
    receiver.start()
    store = Store.open(db)
    agent = store.sign_in("bench-agent")
    secrets = store.add_channel(
        None, "api", "bench", webhook_url=f"http://127.0.0.1:{receiver.port}/hook"
    )
    token = secrets.token

    # 1. Intake, on a server that does not deliver.
    serve = start_serve(db, "--no-deliver")
    health = [("GET", "/healthz", b"")] * singles
    health_s, _ = run_clients(serve, health, token, CLIENTS)
    jobs = [
        ("POST", "/api/v1/messages", json.dumps(message(n, n // 5)).encode())
        for n in range(singles)
    ]
    single_s, single_status = run_clients(serve, jobs, token, CLIENTS)
    base = singles
    batch_jobs = []
    for b in range(batches):
        items = [message(base + b * BATCH + i, (base + b * BATCH + i) // 5) for i in range(BATCH)]
        batch_jobs.append(("POST", "/api/v1/messages", json.dumps({"messages": items}).encode()))
    batch_s, batch_status = run_clients(serve, batch_jobs, token, 4)
    visible = visible_latency(serve, store, token, samples, base + batches * BATCH)
    intake_rss = serve.peak_rss_mb()
    intake_exit = serve.stop()

    # 2. Replies committed while no server runs: the outbox fills.
    with store._write() as conn:  # bench set-up: hand the channel's conversations to the agent
        agent_id = conn.execute(sa.select(AGENT.c.id).where(AGENT.c.handle == agent.handle))
        conn.execute(
            sa.update(CONV)
            .where(CONV.c.external_id.like("bench-c%"))
            .values(assignee_id=agent_id.scalar_one(), status="open")
        )
        conv_ids = [
            r[0]
            for r in conn.execute(
                sa.select(CONV.c.id).where(CONV.c.external_id.like("bench-c%")).order_by(CONV.c.id)
            )
        ]
    conv_ids = conv_ids[:drain] if len(conv_ids) >= drain else conv_ids
    start = time.perf_counter()
    replies = 0
    for n in range(drain):
        store.post_reply(agent, conv_ids[n % len(conv_ids)], f"您好，已为您查询 (reply {n})")
        replies += 1
    commit_s = time.perf_counter() - start

    # 3. Drain them, then the live reply -> webhook latency.
    start = time.monotonic()
    serve = start_serve(db)
    while len(receiver.deliveries) < replies and time.monotonic() - start < 120:
        time.sleep(0.02)
    drain_s = time.monotonic() - start
    drained = len(receiver.deliveries)
    latencies = []
    for n in range(samples):
        view = store.post_reply(agent, conv_ids[n % len(conv_ids)], f"实时回复 {n}")
        committed = time.monotonic()
        public = view.external_id or f"cs-{view.id}"
        deadline = committed + 5
        while public not in receiver.arrivals and time.monotonic() < deadline:
            time.sleep(0.002)
        latencies.append(receiver.arrivals.get(public, float("inf")) - committed)
        time.sleep(0.05)
    deliver_rss = serve.peak_rss_mb()
    deliver_exit = serve.stop()
    store.dispose()

    single_rate = singles / single_s
    health_rate = singles / health_s
    batch_rate = batches * BATCH / batch_s
    drain_rate = drained / drain_s
    rss = max(intake_rss, deliver_rss)
    ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
    print(
        f"store: SQLite, {singles:,} single + {batches * BATCH:,} batched messages; "
        f"{replies:,} replies committed in {commit_s:.1f} s before the drain"
    )
    print(
        f"statuses: single {single_status}, batch {batch_status}; "
        f"serve exits {intake_exit}, {deliver_exit}"
    )
    print_table(
        [
            (
                "inbound, single POSTs, 16 clients",
                f"{single_rate:,.0f} msg/s",
                f">= {TARGET_SINGLE:,} msg/s {ok(single_rate >= TARGET_SINGLE)}",
                f"GET /healthz {health_rate:,.0f} req/s ({single_rate / health_rate:.2f}x)",
            ),
            (
                "inbound, batches of 500, 4 clients",
                f"{batch_rate:,.0f} msg/s",
                f">= {TARGET_BATCH:,} msg/s {ok(batch_rate >= TARGET_BATCH)}",
                "",
            ),
            (
                "POST -> visible in a workstation, p95",
                f"{percentile(visible, 95) * 1000:.0f} ms",
                f"<= {TARGET_VISIBLE_P95_S * 1000:.0f} ms "
                f"{ok(percentile(visible, 95) <= TARGET_VISIBLE_P95_S)}",
                f"live loop polls every 0.5 s; p50 {percentile(visible, 50) * 1000:.0f} ms",
            ),
            (
                "reply committed -> webhook, p95",
                f"{percentile(latencies, 95) * 1000:.0f} ms",
                f"<= {TARGET_WEBHOOK_P95_S * 1000:.0f} ms "
                f"{ok(percentile(latencies, 95) <= TARGET_WEBHOOK_P95_S)}",
                f"p50 {percentile(latencies, 50) * 1000:.0f} ms",
            ),
            (
                f"drain {replies:,} due deliveries",
                f"{drain_rate:,.0f} deliveries/s",
                f">= {TARGET_DRAIN} /s {ok(drain_rate >= TARGET_DRAIN and drained == replies)}",
                f"{drained:,} of {replies:,} received in {drain_s:.1f} s (incl. start-up)",
            ),
            (
                "peak RSS of serve",
                f"{rss:.0f} MB",
                f"<= {TARGET_RSS_MB} MB {ok(rss <= TARGET_RSS_MB)}",
                f"intake {intake_rss:.0f} MB, delivering {deliver_rss:.0f} MB",
            ),
        ]
    )
    if not os.environ.get("CS_TUI_BENCH_KEEP"):
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 0
