"""KPIs over a million messages, and the dashboard's main-thread cost per refresh.

    python -m bench report [--quick] [--conversations N] [--messages-per M] [--db URL]

Seeds 100,000 conversations x ~10 messages (1M messages) with `seed.synthetic` into a cached
SQLite file (reused by later runs), then times:

* the `cs-tui report` computation (SQL aggregations, percentiles, next-response window
  function, a 2,000-message compliance sample) for 1, 7 and 30 days;
* the dashboard: the worker's reads (off the main thread) and, separately, the main-thread part
  of a refresh (drawing the live snapshot and the KPI table), headless through Textual's Pilot.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import timedelta

from bench.common import cache_dir, median, ms, percentile, print_table


def _store(args):
    from cs_tui.data import seed
    from cs_tui.data.store import Store

    if args.db:
        store = Store.open(args.db)
        if store.counts()["conversation"] == 0:
            seed.synthetic(store, conversations=args.conversations, messages_per=args.messages_per)
        return store
    path = cache_dir() / f"report-{args.conversations}x{args.messages_per}.db"
    fresh = not path.exists()
    store = Store.open(str(path))
    if fresh:
        started = time.perf_counter()
        print(f"seeding {args.conversations:,} conversations into {path} ...", flush=True)
        seed.synthetic(store, conversations=args.conversations, messages_per=args.messages_per)
        print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)
    return store


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench report")
    parser.add_argument("--quick", action="store_true", help="10,000 conversations")
    parser.add_argument("--conversations", type=int, default=None)
    parser.add_argument("--messages-per", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", help="a store URL to use instead of the cached SQLite file")
    args = parser.parse_args(argv)
    if args.conversations is None:
        args.conversations = 10_000 if args.quick else 100_000

    from cs_tui.metrics import kpis_for

    store = _store(args)
    counts = store.counts()
    print(
        f"store: {store.location}: {counts['conversation']:,} conversations, "
        f"{counts['message']:,} messages"
    )
    # The synthetic data is dated relative to when it was seeded: report as of the newest
    # arrival so a cached store measures the same windows on every run.
    now = store.clock.now()
    rows: list[tuple[str, str, str, str]] = []
    for days in (1, 7, 30):
        samples = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            kpis = kpis_for(store, now - timedelta(days=days), now)
            samples.append(time.perf_counter() - started)
        rows.append(
            (
                f"report KPIs, {days} d ({kpis.conversations:,} conv.)",
                f"{median(samples):.3f} s",
                "<= 2 s",
                f"max {max(samples):.3f} s",
            )
        )
    sql_only = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        store.kpi_counts(now - timedelta(days=30), now)
        sql_only.append(time.perf_counter() - started)
    rows.append(("  of which SQL, 30 d", f"{median(sql_only):.3f} s", "", "no compliance sample"))

    live_reads, kpi_reads, live_main, kpi_main = asyncio.run(_dashboard(store, args.repeat))
    rows.append(
        ("dashboard live reads (worker)", ms(median(live_reads)), "", "every 5 s, off main")
    )
    rows.append(("dashboard KPI reads (worker)", f"{median(kpi_reads):.3f} s", "", "every 60 s"))
    for label, samples in (("live", live_main), ("KPI", kpi_main)):
        rows.append(
            (
                f"dashboard {label} refresh, main thread",
                ms(median(samples)),
                "<= 50 ms",
                f"p90 {ms(percentile(samples, 90))}",
            )
        )
    print_table(rows)
    store.dispose()
    return 0


async def _dashboard(store, repeat: int):
    from textual.app import App

    from cs_tui.screens.dashboard import DashboardScreen

    boss = store.ensure_agent("bench-boss", role="supervisor")

    class BenchApp(App):
        def on_mount(self) -> None:
            self.push_screen(DashboardScreen(store, boss, store.clock, live_every=0, kpi_every=0))

    live_reads: list[float] = []
    kpi_reads: list[float] = []
    live_main: list[float] = []
    kpi_main: list[float] = []
    app = BenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        for _ in range(repeat):
            started = time.perf_counter()
            live = await asyncio.to_thread(screen.read_live)
            live_reads.append(time.perf_counter() - started)
            started = time.perf_counter()
            kpis = await asyncio.to_thread(screen.read_kpis)
            kpi_reads.append(time.perf_counter() - started)
            # What the main thread does with a refresh: apply the snapshot, then lay out and
            # paint. CPU time of this thread only (thread_time), so time spent waiting in the
            # event loop is not counted.
            for apply, snapshot, samples in (
                (screen.apply_live, live, live_main),
                (screen.apply_kpis, kpis, kpi_main),
            ):
                await pilot.pause()
                started = time.thread_time()
                apply(snapshot)
                await pilot.pause()
                samples.append(time.thread_time() - started)
    return live_reads, kpi_reads, live_main, kpi_main
