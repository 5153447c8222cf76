"""The workstation on a store of 100,000 open conversations (headless Textual).

Figures, each with the reference it compares to:

* cold start to the first interactive frame (a fresh interpreter: the command line parsed and
  the store and agent taken as `cs-tui --db STORE --agent HANDLE` takes them, the app imported
  and started, the first queue window on screen, timed when that frame is written to the
  driver; an SQLite store opens behind that frame, `cs_tui/data/opening.py`) against a bare
  Textual app measured the same way (its first frame with its label): one warm-up start of
  each first (page cache, compiled bytecode), then the two started in turn, so that a change in
  the machine's load moves both alike; the target is a ratio to the bare app;
* queue cursor key-to-screen: from a `j`/`k` key to the end of the frame that shows it (the
  compositor's update and the terminal bytes it would write; only the write itself is skipped);
* the per-second countdown refresh at 120x40: main-thread CPU time of the tick and the frame it
  causes;
* peak RSS of the process running the workstation;
* reference: Textual's own DataTable filled with the same rows (its fill freezes the UI).

The store is generated once with `seed.synthetic` (~35 s) and cached in the bench directory
(`$CS_TUI_BENCH_DIR`, default a temp dir). `--quick` uses 10,000 conversations.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bench.common import cache_dir, child_env, median, percentile, print_table

TARGET_START_S = 1.0
TARGET_START_RATIO = 2.0  # cold start <= 2x the bare Textual app's, measured in the same run
TARGET_KEY_MS = 16.0
TARGET_TICK_MS = 5.0
TARGET_RSS_MB = 200.0
KEY_INTERVAL_S = 0.04  # keyboard auto-repeat pace
HANDLE = "bench-supervisor"  # a supervisor sees every open conversation in one queue


def build_store(conversations: int, messages_per: int) -> tuple[Path, float]:
    """The cached synthetic store (built in a child process so its memory is not ours)."""
    path = cache_dir() / f"ui-{conversations}-{messages_per}.db"
    if path.exists():
        return path, float("nan")
    tmp = path.with_name(path.name + ".building")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    code = (
        "import sys\n"
        "from cs_tui.data.store import Store\n"
        "from cs_tui.data import seed\n"
        f"store = Store.open({str(tmp)!r})\n"
        f"seed.synthetic(store, conversations={conversations}, messages_per={messages_per})\n"
        f"store.ensure_agent({HANDLE!r}, 'Bench Supervisor', role='supervisor')\n"
        "store.dispose()\n"
    )
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    elapsed = time.perf_counter() - start
    conn = sqlite3.connect(tmp)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    tmp.rename(path)
    return path, elapsed


# -- child processes: cold start ------------------------------------------------------------

_START_CHILD = """
import asyncio, sys, time
t0 = float(sys.argv[1])
kind, db = sys.argv[2], sys.argv[3]
shown = {}


def note_first_frame(app_class, ready):
    # The moment the first frame that shows what was asked for goes to the terminal (here
    # the headless driver): measured where the frame is written, the same way for both apps,
    # not when this coroutine next gets a turn (work queued right after that frame, such as
    # the side panel's tabs, would be counted too).
    display = app_class._display

    def _display(self, screen, renderable):
        display(self, screen, renderable)
        if "t" not in shown and renderable is not None and ready(self):
            shown["t"] = time.time() - t0
            shown["cpu"] = time.process_time()  # this process's CPU so far, every thread

    app_class._display = _display


async def wait_for_frame():
    while "t" not in shown:
        await asyncio.sleep(0.002)


async def main():
    if kind == "bare":
        from textual.app import App
        from textual.widgets import Footer, Label

        class Bare(App):
            def compose(self):
                yield Label("hello")
                yield Footer()

        note_first_frame(Bare, lambda app: bool(app.screen.query(Label)))
        app = Bare()
        async with app.run_test(size=(120, 40)):
            await wait_for_frame()
            print(shown["t"], 0, 0, shown["cpu"], flush=True)
        return
    # The way `cs-tui --db DB --agent HANDLE` gets there: the command line parsed, then the
    # store and the agent as the workstation command takes them.
    from cs_tui.cli import build_parser, read_command
    from cs_tui.commands.app_cmd import workstation_store
    from cs_tui.commands.common import settings_for

    argv = ["--db", db, "--agent", %(handle)r]
    args = build_parser(read_command(argv)).parse_args(argv)
    store, agent = workstation_store(args, settings_for(args))
    t_store = time.time() - t0
    from cs_tui.app import CsApp
    from cs_tui.widgets.queue_list import QueueList
    t_app = time.time() - t0

    def rows_drawn(app):
        queues = app.screen.query(QueueList)
        return bool(queues) and queues.first().painted

    note_first_frame(CsApp, rows_drawn)
    app = CsApp(store, agent, store.clock, lang="en", live=False)
    async with app.run_test(size=(120, 40)):
        await wait_for_frame()
        print(shown["t"], t_store, t_app, shown["cpu"], flush=True)
    store.dispose()

asyncio.run(main())
""".replace("%(handle)r", repr(HANDLE))


def cold_start(kind: str, db: Path) -> tuple[float, float, float, float]:
    """(first frame, data layer imported, app imported, CPU to the first frame): seconds from
    launching an interpreter; the first frame is the first one with conversation rows drawn.
    The CPU time (every thread of the child) grows far less than the wall time when the
    machine is busy."""
    t0 = time.time()
    result = subprocess.run(
        [sys.executable, "-c", _START_CHILD, repr(t0), kind, str(db)],
        capture_output=True,
        text=True,
        check=True,
        env=child_env(),
    )
    total, store_s, app_s, cpu = result.stdout.strip().splitlines()[-1].split()
    return float(total), float(store_s), float(app_s), float(cpu)


def cold_starts(
    db: Path, runs: int
) -> tuple[list[tuple[float, float, float, float]], list[tuple[float, float, float, float]]]:
    """The bare app's first frames and the workstation's, started in turn after a warm-up."""
    cold_start("bare", db)
    cold_start("workstation", db)
    bare, ours = [], []
    for _ in range(runs):
        bare.append(cold_start("bare", db))
        ours.append(cold_start("workstation", db))
    return bare, ours


# -- in-process: keys, tick, memory -------------------------------------------------------


def interactive(db: Path, keys: int) -> dict:
    from textual import events

    from cs_tui.app import CsApp
    from cs_tui.data.store import Store
    from cs_tui.widgets.queue_list import QueueList

    store = Store.open(str(db))
    agent = store.get_agent(HANDLE)
    app = CsApp(store, agent, store.clock, lang="en", live=False)
    frames: list[tuple[float, float, float]] = []  # (end wall time, wall s, main-thread cpu s)

    async def run() -> dict:
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(200):
                await pilot.pause(0.01)
                queue = app.screen.query_one(QueueList)
                if queue.loaded and queue.total:
                    break
            await app.workers.wait_for_complete()
            await pilot.pause(0.2)
            screen = app.screen
            console = app.console

            def timed_refresh() -> None:
                start, cpu = time.perf_counter(), time.thread_time()
                update = screen._compositor.render_update(screen_stack=app._background_screens)
                if update is not None:
                    # What the terminal write would cost, short of the write itself.
                    update.render_segments(console)
                screen._dirty_widgets.clear()
                frames.append(
                    (time.perf_counter(), time.perf_counter() - start, time.thread_time() - cpu)
                )

            screen._compositor_refresh = timed_refresh
            queue = screen.query_one(QueueList)
            queue.focus()
            await pilot.pause(0.1)

            # Key to screen: post a key as the driver would (at key-repeat pace, 25 a second),
            # and wait for the end of the frame that shows it.
            latencies, key_cpu = [], []
            windows_before = queue.window[0]
            for n in range(keys):
                key = "j" if (n // 50) % 2 == 0 else "k"
                frames.clear()
                cpu = time.thread_time()
                start = time.perf_counter()
                app.post_message(events.Key(key, key))
                for _ in range(400):
                    await asyncio.sleep(0.0005)
                    if frames:
                        break
                if frames:
                    latencies.append(frames[0][0] - start)
                    key_cpu.append(time.thread_time() - cpu)
                await asyncio.sleep(max(0.0, KEY_INTERVAL_S - (time.perf_counter() - start)))
            # Paging far down: windows are read in a worker, never the whole queue.
            for _ in range(20):
                await pilot.press("pagedown")
            await app.workers.wait_for_complete()
            await pilot.pause(0.05)
            deep = queue.cursor

            # The per-second tick at 120x40: its handler plus the frame it causes.
            ticks = []
            for _ in range(60):
                await app.workers.wait_for_complete()
                await pilot.pause(0.02)
                frames.clear()
                cpu = time.thread_time()
                screen.tick()
                handler = time.thread_time() - cpu
                for _ in range(400):
                    await asyncio.sleep(0.0005)
                    if frames:
                        break
                ticks.append(handler + sum(f[2] for f in frames))
            # Worst case: every visible countdown changed this second (all of them repainted).
            worst = []
            for _ in range(30):
                await app.workers.wait_for_complete()
                await pilot.pause(0.02)
                frames.clear()
                queue._drawn.clear()
                cpu = time.thread_time()
                screen.tick()
                handler = time.thread_time() - cpu
                for _ in range(400):
                    await asyncio.sleep(0.0005)
                    if frames:
                        break
                worst.append(handler + sum(f[2] for f in frames))
            return {
                "latencies": latencies,
                "key_cpu": key_cpu,
                "ticks": ticks,
                "worst_ticks": worst,
                "rows": queue.total,
                "deep": deep,
                "window_moved": queue.window[0] != windows_before,
            }

    result = asyncio.run(run())
    store.dispose()
    return result


# -- reference: Textual's DataTable with the same rows ------------------------------------

_DATATABLE_CHILD = """
import asyncio, sys, time
from rich.text import Text
from textual.app import App
from textual.widgets import DataTable
from cs_tui.data.store import Store
from cs_tui.data.views import QueueFilter
from cs_tui.safe_text import safe

store = Store.open(sys.argv[1])
agent = store.get_agent(%(handle)r)
rows = store.queue(agent, QueueFilter(), limit=int(sys.argv[2]))

class Ref(App):
    def compose(self):
        yield DataTable()

async def main():
    app = Ref()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(DataTable)
        table.add_columns("due", "ch", "customer", "preview", "tags", "assignee")
        start = time.perf_counter()
        table.add_rows(
            (str(r.due_at)[11:19], r.channel, safe(r.customer_name, single_line=True),
             safe(r.preview, single_line=True), " ".join(r.tags), r.assignee or "-")
            for r in rows
        )
        await pilot.pause()
        fill = time.perf_counter() - start
        start = time.perf_counter()
        await pilot.press("down")
        key = time.perf_counter() - start
        print(fill, key, flush=True)

asyncio.run(main())
""".replace("%(handle)r", repr(HANDLE))


def datatable_reference(db: Path, rows: int) -> tuple[float, float]:
    result = subprocess.run(
        [sys.executable, "-c", _DATATABLE_CHILD, str(db), str(rows)],
        capture_output=True,
        text=True,
        check=True,
    )
    fill, key = result.stdout.strip().splitlines()[-1].split()
    return float(fill), float(key)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench ui", description=__doc__)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-per", type=int, default=10)
    parser.add_argument("--keys", type=int, default=200, help="cursor keys measured")
    parser.add_argument("--starts", type=int, default=5, help="cold starts measured")
    parser.add_argument(
        "--no-reference", action="store_true", help="skip the DataTable reference (~15 s)"
    )
    parser.add_argument("--quick", action="store_true", help="10,000 conversations, fewer runs")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)
    if args.quick:
        args.conversations = min(args.conversations, 10_000)
        args.keys, args.starts = min(args.keys, 60), 1

    os.environ.setdefault("TEXTUAL_COLOR_SYSTEM", "256")
    db, built_s = build_store(args.conversations, args.messages_per)
    rows: list[tuple[str, str, str, str]] = []
    if built_s == built_s:  # not NaN: built now
        rows.append(
            (f"seed {args.conversations:,} conversations (cached)", f"{built_s:.1f} s", "-", "-")
        )

    bare, ours = cold_starts(db, args.starts)
    start_s = median([r[0] for r in ours])
    store_s = median([r[1] for r in ours])
    app_s = median([r[2] - r[1] for r in ours])
    bare_s = median([r[0] for r in bare])
    ratio = start_s / bare_s
    cpu_s, bare_cpu_s = median([r[3] for r in ours]), median([r[3] for r in bare])
    rows.append(
        (
            "cold start to first interactive frame",
            f"{start_s:.2f} s ({ratio:.1f}x the bare app)",
            f"<= {TARGET_START_S:.1f} s and <= {TARGET_START_RATIO:.0f}x",
            f"bare Textual app {bare_s:.2f} s; "
            + ("ok" if start_s <= TARGET_START_S and ratio <= TARGET_START_RATIO else "MISSED"),
        )
    )
    rows.append(
        (
            "  same, CPU time to the first frame",
            f"{cpu_s:.2f} s ({cpu_s / bare_cpu_s:.1f}x the bare app)",
            "-",
            f"bare Textual app {bare_cpu_s:.2f} s (every thread, user + system)",
        )
    )
    rows.append(
        (
            "  of which: command line, settings, first look at the store",
            f"{store_s:.2f} s",
            "-",
            "before the app starts (no SQLAlchemy: the store opens behind the first frame)",
        )
    )
    rows.append(("  of which: import the app (Textual)", f"{app_s:.2f} s", "-", "-"))
    rows.append(
        (
            "  of which: app start to rows drawn",
            f"{start_s - store_s - app_s:.2f} s",
            "-",
            "compose, first window read (sqlite3), paint",
        )
    )

    figures = interactive(db, args.keys)
    latency_ms = median(figures["latencies"]) * 1000
    key_cpu_ms = median(figures["key_cpu"]) * 1000
    p95_ms = percentile(figures["latencies"], 95) * 1000
    tick_ms = median(figures["ticks"]) * 1000
    tick_p95 = percentile(figures["ticks"], 95) * 1000

    reference = ""
    if not args.no_reference:
        fill_s, ref_key_s = datatable_reference(db, figures["rows"])
        reference = f"DataTable of the same {figures['rows']:,} rows: fill froze {fill_s:.1f} s"
        ref_key = f"DataTable key {ref_key_s * 1000:.0f} ms (pilot, incl. idle wait)"
    else:
        ref_key = "DataTable: not measured (--no-reference)"

    rows.append(
        (
            f"queue cursor key-to-screen, median of {len(figures['latencies'])}",
            f"{latency_ms:.1f} ms",
            f"<= {TARGET_KEY_MS:.0f} ms",
            f"p95 {p95_ms:.1f} ms (half-page jumps); CPU {key_cpu_ms:.1f} ms; {ref_key}; "
            + ("ok" if latency_ms <= TARGET_KEY_MS else "MISSED"),
        )
    )
    rows.append(
        (
            "countdown tick at 120x40 (main-thread CPU)",
            f"{tick_ms:.2f} ms",
            f"<= {TARGET_TICK_MS:.0f} ms",
            f"p95 {tick_p95:.2f} ms; no store reads; "
            + ("ok" if tick_ms <= TARGET_TICK_MS else "MISSED"),
        )
    )
    worst_ms = median(figures["worst_ticks"]) * 1000
    rows.append(
        (
            "  same, every visible countdown changing",
            f"{worst_ms:.2f} ms",
            f"<= {TARGET_TICK_MS:.0f} ms",
            "all visible rows repainted; " + ("ok" if worst_ms <= TARGET_TICK_MS else "MISSED"),
        )
    )
    rows.append(
        (
            "queue rows in view (one window of 200 read)",
            f"{figures['rows']:,}",
            "-",
            reference or "-",
        )
    )
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(
        (
            "peak RSS (workstation process)",
            f"{rss:.0f} MB",
            f"<= {TARGET_RSS_MB:.0f} MB",
            "ok" if rss <= TARGET_RSS_MB else "MISSED",
        )
    )
    print_table(rows)
    if args.json:
        print(
            json.dumps(
                {
                    "cold_start_s": start_s,
                    "bare_start_s": bare_s,
                    "cold_start_ratio": ratio,
                    "cold_start_cpu_s": cpu_s,
                    "bare_start_cpu_s": bare_cpu_s,
                    "key_ms": latency_ms,
                    "tick_ms": tick_ms,
                    "rss_mb": rss,
                    "rows": figures["rows"],
                }
            )
        )
    missed = (
        start_s > TARGET_START_S
        or ratio > TARGET_START_RATIO
        or latency_ms > TARGET_KEY_MS
        or tick_ms > TARGET_TICK_MS
        or rss > TARGET_RSS_MB
    )
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
