"""The e-mail channel against local servers: a Dovecot of its own and aiosmtpd (as the tests).

- fetch: N mails of 5-50 KB (text, some HTML, some with an attachment) appended over IMAP,
  then one fetch pass stores them all (headers first, whole mails, parse, ingest, \\Seen,
  cursor); mails stored per second.
- new mail -> queue row: a fetcher runs (polling every 2 s, then IMAP IDLE); one mail at a time
  is appended and the store is watched until its conversation exists; p95 of append-return to
  the row being readable.
- replies: N agent replies are committed while no worker runs, then the delivery worker sends
  them by SMTP to aiosmtpd; replies sent per second until the last one.

Needs Dovecot (`.ci/install-system-deps`) and aiosmtpd (the `test` extra).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from bench.common import percentile, print_table

TARGET_FETCH = 100.0
TARGET_POLL_P95_S = 5.0
TARGET_IDLE_P95_S = 1.0
TARGET_SEND = 50.0
USER, PASSWORD = "service", "bench-pass"


def _mail(n: int, rng: random.Random, tag: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"客户{n % 50} <c{n % 50}@customer.example>"
    msg["To"] = "service@shop.example"
    msg["Subject"] = f"订单 {n} 的问题"
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = f"<{tag}.{n}@customer.example>"
    size = rng.randint(5_000, 50_000)
    text = ("您好，我的订单还没有到，请帮我查一下物流。" * (size // 60 + 1))[: size // 3]
    msg.set_content(text + "\n\n在 2026年11月10日，客服 写道：\n> 已发货")
    if n % 4 == 1:
        msg.add_alternative(f"<p>{text}</p>", subtype="html")
    if n % 5 == 2:
        msg.add_attachment(
            os.urandom(size // 4), maintype="image", subtype="jpeg", filename=f"照片{n}.jpg"
        )
    return bytes(msg)


def _append(dovecot, folder: str, raws: list[bytes]) -> None:
    imap = dovecot.client(USER)
    try:
        imap.create(folder)
        for raw in raws:
            imap.append(folder, "", None, raw)
    finally:
        imap.logout()


def _settings(dovecot, smtp_port: int, folder: str, poll: str = "2s"):
    from cs_tui.channels.email_config import build_settings

    return build_settings(
        imap=dovecot.url(USER),
        smtp=f"smtp://{USER}@127.0.0.1:{smtp_port}",
        sender="小店客服 <service@shop.example>",
        password_env="CS_BENCH_MAIL_PASSWORD",
        password_file=None,
        folder=folder,
        poll=poll,
    )


def bench_fetch(store, dovecot, smtp_port: int, count: int, work: Path) -> tuple[float, int, float]:
    """Mails stored per second of wall time, how many, and per CPU second of this process
    (on a busy machine the wall figure falls with the load, the CPU figure far less)."""
    from cs_tui.channels.email_fetch import MailFetcher

    rng = random.Random(7)
    folder = "Fetch"
    _append(dovecot, folder, [_mail(n, rng, "f") for n in range(count)])
    settings = _settings(dovecot, smtp_port, folder)
    made = store.add_channel(
        None, "email", "fetch", channel_type="email", settings=settings.to_json()
    )
    fetcher = MailFetcher(store, made.channel.id, settings, PASSWORD, work)
    start, cpu = time.perf_counter(), time.process_time()
    try:
        stats = fetcher.fetch_once()
    finally:
        fetcher.close()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return stats.stored / elapsed, stats.stored, stats.stored / cpu


def bench_latency(store, dovecot, smtp_port: int, samples: int, idle: bool, work: Path) -> float:
    from cs_tui.channels.email_fetch import MailFetcher
    from cs_tui.data.mail_store import mail_key

    folder = "Idle" if idle else "Poll"
    _append(dovecot, folder, [])
    settings = _settings(dovecot, smtp_port, folder, "2s")
    made = store.add_channel(
        None, "email", folder.lower(), channel_type="email", settings=settings.to_json()
    )
    fetcher = MailFetcher(store, made.channel.id, settings, PASSWORD, work, use_idle=idle)
    halt = threading.Event()
    thread = threading.Thread(target=fetcher.run, args=(halt,), daemon=True)
    thread.start()
    rng = random.Random(11)
    waits: list[float] = []
    try:
        time.sleep(1.0)
        for n in range(samples):
            raw = _mail(n, rng, folder.lower())
            key = mail_key(made.channel.id, f"<{folder.lower()}.{n}@customer.example>")
            imap = dovecot.client(USER)
            try:
                imap.append(folder, "", None, raw)
                start = time.perf_counter()
            finally:
                imap.logout()
            while True:
                with store._read() as conn:
                    found = conn.exec_driver_sql(
                        "SELECT 1 FROM conversation WHERE external_id = ?", (key,)
                    ).first()
                if found:
                    break
                time.sleep(0.01)
            waits.append(time.perf_counter() - start)
            time.sleep(rng.uniform(0.0, 0.5))  # mails arrive at random points of the cycle
    finally:
        halt.set()
        thread.join(10)
    return percentile(waits, 95)


def bench_send(store, smtp, count: int) -> float:
    from cs_tui.channels.outbox_worker import DeliveryWorker

    sup = store.ensure_agent("sue", "Sue", role="supervisor")
    agent = store.ensure_agent("alice", "Alice")
    with store._read() as conn:
        ids = [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT id FROM conversation WHERE source_id IS NOT NULL ORDER BY id LIMIT ?",
                (count,),
            )
        ]
    for cid in ids:
        store.claim(agent, cid)
        store.post_reply(agent, cid, "您好,您的包裹明天到达。\n\n祝好")
    assert sup is not None
    before = len(smtp.received)
    stop = asyncio.Event()

    async def run() -> float:
        worker = DeliveryWorker(store, owner="bench-mail", concurrency=8)
        task = asyncio.create_task(worker.run(stop))
        start = time.perf_counter()
        while len(smtp.received) - before < len(ids):
            await asyncio.sleep(0.01)
            if task.done():
                task.result()
        elapsed = time.perf_counter() - start
        stop.set()
        await task
        return elapsed

    elapsed = asyncio.run(run())
    return len(ids) / elapsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench email")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args(argv)
    count = 100 if args.quick else args.mails
    samples = 5 if args.quick else args.samples

    from cs_tui.clock import SystemClock
    from cs_tui.data.store import Store
    from tests.mail.mailserver import dovecot_available, smtp_sink, start_dovecot

    if not dovecot_available():
        print("bench email: Dovecot is not installed (.ci/install-system-deps installs it)")
        return 1
    os.environ["CS_BENCH_MAIL_PASSWORD"] = PASSWORD
    dovecot = start_dovecot({USER: PASSWORD})
    work = Path(tempfile.mkdtemp(prefix="cs-tui-bench-email-"))
    rows: list[tuple[str, str, str, str]] = []
    try:
        with smtp_sink({USER: PASSWORD}) as smtp:
            store = Store.open(f"sqlite:///{work / 'store.db'}", clock=SystemClock())
            try:
                rate, stored, per_cpu = bench_fetch(store, dovecot, smtp.port, count, work)
                rows.append(
                    (
                        f"fetch and store ({stored} mails, 5-50 KB)",
                        f"{rate:.0f} mails/s",
                        f">= {TARGET_FETCH:.0f}/s",
                        f"{per_cpu:.0f} per CPU second; load {os.getloadavg()[0]:.1f}",
                    )
                )
                poll = bench_latency(store, dovecot, smtp.port, samples, False, work)
                rows.append(
                    (
                        "new mail -> queue row p95, polling 2 s",
                        f"{poll:.2f} s",
                        f"<= {TARGET_POLL_P95_S:g} s",
                        f"{samples} mails",
                    )
                )
                idle = bench_latency(store, dovecot, smtp.port, samples, True, work)
                rows.append(
                    (
                        "new mail -> queue row p95, IDLE",
                        f"{idle:.2f} s",
                        f"<= {TARGET_IDLE_P95_S:g} s",
                        f"{samples} mails",
                    )
                )
                sent = bench_send(store, smtp, min(count, 500))
                rows.append(
                    (
                        f"replies sent by SMTP ({min(count, 500)})",
                        f"{sent:.0f} /s",
                        f">= {TARGET_SEND:.0f}/s",
                        "aiosmtpd, same machine",
                    )
                )
            finally:
                store.dispose()
    finally:
        dovecot.stop()
    print_table(rows)
    return 0
