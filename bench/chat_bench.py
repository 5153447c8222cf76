"""`python -m bench chat`: the web chat's WebSockets held by one `cs-tui serve` process.

Figures (issue: Channels II):
- idle WebSocket connections held: >= 2,000, with the server's RSS <= 300 MB and its CPU while
  they idle <= 5 % of one core (measured over 10 s from /proc);
- customer message -> workstation: the time from a visitor's send to the moment a workstation's
  live loop (a ChangeWatcher and queue_rows, as the workstation does) has the conversation:
  p95 <= 1 s;
- agent reply -> page: from Store.post_reply returning to the frame arriving in the visitor's
  socket, with 500 visitors connected: p95 <= 1 s.

The clients are `websockets` (the library uvicorn serves them with), all in this process; the
server is a real `cs-tui serve` on an ephemeral port and an SQLite store.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import ServeProcess, percentile, print_table

IDLE_TARGET = 2_000
RSS_TARGET_MB = 300
CPU_TARGET = 5.0
LATENCY_TARGET_S = 1.0
VISITORS = 500
NO_LIMITS = {
    "messages_per_visitor": 1e6,
    "messages_per_ip": 1e9,
    "conversations_per_ip": 1e9,
    "conversations_per_visitor": 1e6,
    "sockets_per_ip": 1e9,  # every simulated visitor connects from 127.0.0.1
}


class Visitor:
    """One page's socket: says hello, then records when each agent text arrives."""

    def __init__(self, url: str, origin: str) -> None:
        self.url, self.origin = url, origin
        self.ws: Any = None
        self.key = ""
        self.arrivals: dict[str, float] = {}
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        import websockets

        self.ws = await websockets.connect(self.url, origin=self.origin, ping_interval=None)
        await self.ws.send(json.dumps({"type": "hello", "last_seq": 0}))
        while True:
            frame = json.loads(await self.ws.recv())
            if frame.get("type") == "welcome":
                self.key = "a" + frame["token"].split(".")[1]
                break
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                if frame.get("type") == "message" and frame.get("author") == "agent":
                    self.arrivals[frame["text"]] = time.monotonic()
        except Exception:  # noqa: BLE001 - the bench closes sockets under its readers
            return

    async def send(self, text: str) -> None:
        await self.ws.send(
            json.dumps({"type": "send", "client_id": secrets.token_hex(8), "text": text})
        )

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        await self.ws.close()


async def open_many(url: str, origin: str, count: int) -> list[Visitor]:
    visitors = [Visitor(url, origin) for _ in range(count)]
    for start in range(0, count, 100):
        await asyncio.gather(*(v.open() for v in visitors[start : start + 100]))
    return visitors


def watch_conversations(store: Any, stop: threading.Event, seen: dict[str, float]) -> None:
    """The workstation's live loop: events since the last poll, then the changed rows."""
    from cs_tui.data.watch import ChangeWatcher

    watcher = ChangeWatcher(store)
    while not stop.is_set():
        watcher.wait(0.5)
        events = watcher.poll()
        ids = sorted({e.conversation_id for e in events if e.conversation_id is not None})
        if ids:
            now = time.monotonic()
            for row in store.queue_rows(ids):
                seen.setdefault(row.external_id, now)
    watcher.close()


async def run(store: Any, serve: ServeProcess, idle: int, visitors_n: int, samples: int) -> dict:
    origin = f"http://127.0.0.1:{serve.port}"
    url = f"ws://127.0.0.1:{serve.port}/ws/chat/bench"
    rss_before = serve.rss_mb()
    visitors = await open_many(url, origin, idle)
    await asyncio.sleep(2.0)
    cpu0, wall0 = serve.cpu_s(), time.monotonic()
    await asyncio.sleep(10.0)
    idle_cpu = 100 * (serve.cpu_s() - cpu0) / (time.monotonic() - wall0)
    idle_rss = serve.rss_mb()
    for extra in visitors[visitors_n:]:
        await extra.close()
    visitors = visitors[:visitors_n]

    # customer message -> workstation
    seen: dict[str, float] = {}
    stop = threading.Event()
    thread = threading.Thread(target=watch_conversations, args=(store, stop, seen), daemon=True)
    thread.start()
    await asyncio.sleep(0.5)
    sent: dict[str, float] = {}
    for v in visitors[:samples]:
        sent[f"web-bench-{v.key}"] = time.monotonic()
        await v.send("您好，我的订单什么时候发货？")
        await asyncio.sleep(0.02)
    deadline = time.monotonic() + 10
    while any(k not in seen for k in sent) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    stop.set()
    inbound = [seen.get(k, float("inf")) - t for k, t in sent.items()]

    # agent reply -> page, 500 visitors connected
    agent = store.sign_in("bench-agent")
    by_key = {f"web-bench-{v.key}": v for v in visitors[:samples]}
    conv = {}
    for external_id in by_key:
        conv_id = store.conversation_id(external_id)
        store.claim(agent, conv_id)
        conv[external_id] = conv_id
    outbound = []
    for n, (external_id, v) in enumerate(by_key.items()):
        text = f"已为您查询 {n}"
        await asyncio.to_thread(store.post_reply, agent, conv[external_id], text)
        committed = time.monotonic()
        deadline = committed + 5
        while text not in v.arrivals and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        outbound.append(v.arrivals.get(text, float("inf")) - committed)
        await asyncio.sleep(0.02)
    busy_rss = serve.rss_mb()
    for v in visitors:
        await v.close()
    return {
        "idle": len(visitors) + (idle - visitors_n),
        "rss_before": rss_before,
        "idle_rss": idle_rss,
        "idle_cpu": idle_cpu,
        "busy_rss": busy_rss,
        "inbound": inbound,
        "outbound": outbound,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench chat")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args(argv)
    idle = 300 if args.quick else IDLE_TARGET
    visitors_n = 100 if args.quick else VISITORS
    samples = 40 if args.quick else 200

    from cs_tui.data.store import Store

    workdir = Path(tempfile.mkdtemp(prefix="cs-tui-bench-chat-"))
    db = str(workdir / "chat.db")
    store = Store.open(db)
    store.add_channel(
        None, "web", "bench", settings={"origins": ["http://127.0.0.1"], "limits": NO_LIMITS}
    )
    serve = ServeProcess("chat", db, "--max-connections", "10000")
    try:
        found = asyncio.run(run(store, serve, idle, visitors_n, samples))
    finally:
        exit_code = serve.stop()
        store.dispose()
    p95_in = percentile(found["inbound"], 95)
    p95_out = percentile(found["outbound"], 95)

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    print_table(
        [
            (
                "idle WebSockets held",
                f"{found['idle']:,}",
                f">= {IDLE_TARGET:,}",
                verdict(found["idle"] >= IDLE_TARGET),
            ),
            (
                "serve RSS with them",
                f"{found['idle_rss']:.0f} MB",
                f"<= {RSS_TARGET_MB} MB",
                f"{verdict(found['idle_rss'] <= RSS_TARGET_MB)}; "
                f"{found['rss_before']:.0f} MB before",
            ),
            (
                "serve CPU while idle (10 s)",
                f"{found['idle_cpu']:.1f} %",
                f"<= {CPU_TARGET:g} %",
                verdict(found["idle_cpu"] <= CPU_TARGET),
            ),
            (
                "message -> workstation p95",
                f"{p95_in * 1000:.0f} ms",
                f"<= {LATENCY_TARGET_S * 1000:.0f} ms",
                f"{verdict(p95_in <= LATENCY_TARGET_S)}; {len(found['inbound'])} samples",
            ),
            (
                f"reply -> page p95 ({visitors_n} connected)",
                f"{p95_out * 1000:.0f} ms",
                f"<= {LATENCY_TARGET_S * 1000:.0f} ms",
                f"{verdict(p95_out <= LATENCY_TARGET_S)}; {len(found['outbound'])} samples",
            ),
            ("serve RSS after replies", f"{found['busy_rss']:.0f} MB", "", ""),
            ("serve exit status", str(exit_code), "0", verdict(exit_code == 0)),
        ]
    )
    return 0
