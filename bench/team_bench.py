"""Team mode: 8 agent processes on one store, SQLite and PostgreSQL.

- change propagation: every agent process runs the workstation's live loop (`ChangeWatcher.wait`
  up to 0.5 s, then `poll`) and posts a reply about once a second; latency is the time from the
  event's timestamp (taken when the writer starts its transaction) to another agent's poll
  returning it. Target p95 <= 1 s.
- take-next: 8 processes race `Store.take_next` until the pool is empty; claims per second.
- idle polling cost: one workstation's live loop with nothing changing: CPU % of one core and
  statements per second sent to the store (SQLite: data_version checks; PostgreSQL: listener
  pings and the safety re-read).
- write contention (SQLite): 8 processes write (reply, save a draft) as fast as they can; how
  often a write had to try again for the write lock (per 1,000 writes), the longest any write
  waited for it, and how many writes failed with "database is locked" (target: none).

PostgreSQL runs when CS_TUI_BENCH_PG or CS_TUI_TEST_PG names a server; each run uses a fresh
schema that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import percentile, print_table

AGENTS = 8
LOOP_WAIT_S = 0.5  # the workstation's live loop: wait up to this long, then poll


# -- stores -------------------------------------------------------------------------------


def pg_base() -> str | None:
    return os.environ.get("CS_TUI_BENCH_PG") or os.environ.get("CS_TUI_TEST_PG")


class Backend:
    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.workdir = workdir
        self._schemas: list[str] = []

    def fresh(self) -> str:
        if self.name == "sqlite":
            return str(self.workdir / f"team-{uuid.uuid4().hex[:8]}.db")
        import sqlalchemy as sa

        base = pg_base()
        assert base
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        engine = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        engine.dispose()
        self._schemas.append(schema)
        sep = "&" if "?" in base else "?"
        return f"{base}{sep}options=-csearch_path%3D{schema}"

    def cleanup(self) -> None:
        if not self._schemas:
            return
        import sqlalchemy as sa

        engine = sa.create_engine(pg_base().replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            for schema in self._schemas:
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        engine.dispose()


def seed(url: str, conversations: int, handles: list[str], *, assign: bool) -> None:
    from cs_tui.data.store import Store
    from cs_tui.data.views import IngestRecord

    with Store.open(url) as store:
        agents = [store.ensure_agent(h) for h in handles]
        now = datetime.now(UTC)
        store.ingest(
            IngestRecord(
                message_id=f"m{i}",
                conversation_id=f"B{i:06d}",
                channel="chat",
                customer=f"cust{i}",
                author="customer",
                text=f"订单 {i} 什么时候到?",
                sent_at=now - timedelta(seconds=conversations - i),
            )
            for i in range(conversations)
        )
        if assign:
            for i, agent in enumerate(agents):
                store.claim(agent, store.conversation_id(f"B{i:06d}"))


# -- worker processes ---------------------------------------------------------------------


def run_workers(url: str, mode: str, handles: list[str], extra: dict) -> tuple[list, float]:
    """Start one process per handle, release them together, return their reports and wall time."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.team_bench", "_worker", mode, url, h, json.dumps(extra)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        for h in handles
    ]
    for p in procs:
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError(f"a {mode} worker did not start")
    start = time.perf_counter()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    reports = []
    for p in procs:
        out, _ = p.communicate(timeout=600)
        if p.returncode != 0:
            raise RuntimeError(f"a {mode} worker failed")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return reports, time.perf_counter() - start


def _worker(mode: str, url: str, handle: str, extra: dict) -> None:
    from cs_tui.data.store import Store
    from cs_tui.data.watch import ChangeWatcher

    store = Store.open(url)
    me = store.get_agent(handle)
    print("ready", flush=True)
    sys.stdin.readline()
    if mode == "take":
        n = 0
        while store.take_next(me) is not None:
            n += 1
        print(json.dumps({"taken": n}), flush=True)
        return
    if mode == "write":
        _hammer(store, me, extra["seconds"])
        return

    # mode == "live": watch like a workstation, and reply about once a second.
    watcher = ChangeWatcher(store)
    latencies: list[float] = []
    stop = threading.Event()

    def live_loop() -> None:
        while not stop.is_set():
            watcher.wait(LOOP_WAIT_S)
            try:
                events = watcher.poll()
            except Exception:
                continue
            seen = time.time()
            for ev in events:
                if ev.kind == "reply" and ev.actor != handle:
                    latencies.append(seen - ev.at.timestamp())

    thread = threading.Thread(target=live_loop, daemon=True)
    thread.start()
    mine = next(r.id for r in store.queue(me) if r.assignee == handle)
    rng = random.Random(handle)
    end = time.monotonic() + extra["seconds"]
    sent = 0
    while time.monotonic() < end:
        time.sleep(rng.uniform(0.5, 1.5))
        store.post_reply(me, mine, f"reply {sent} from {handle}")
        sent += 1
    time.sleep(1.5)  # let the last replies arrive
    stop.set()
    thread.join(2)
    watcher.close()
    print(json.dumps({"sent": sent, "latencies": latencies}), flush=True)


def _hammer(store, me, seconds: float) -> None:
    from cs_tui.data.errors import StoreUnavailable

    mine = next(r.id for r in store.queue(me) if r.assignee == me.handle)
    locked = n = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if n % 2:
                store.save_draft(me.id, mine, f"draft {n}")
            else:
                store.post_reply(me, mine, f"reply {n}")
        except StoreUnavailable:
            locked += 1
        n += 1
    stats = store.write_stats
    report = {"writes": stats.writes, "retries": stats.retries, "worst": stats.worst_wait_s}
    print(json.dumps(report | {"locked": locked}), flush=True)


# -- measurements ----------------------------------------------------------------------------


def measure_live(backend: Backend, seconds: float) -> dict:
    url = backend.fresh()
    handles = [f"agent{i}" for i in range(AGENTS)]
    seed(url, AGENTS, handles, assign=True)
    reports, _ = run_workers(url, "live", handles, {"seconds": seconds})
    lat = [x for r in reports for x in r["latencies"]]
    sent = sum(r["sent"] for r in reports)
    return {
        "p50": percentile(lat, 50),
        "p95": percentile(lat, 95),
        "max": max(lat) if lat else float("nan"),
        "deliveries": len(lat),
        "expected": sent * (AGENTS - 1),
    }


def measure_take(backend: Backend, conversations: int) -> dict:
    url = backend.fresh()
    handles = [f"racer{i}" for i in range(AGENTS)]
    seed(url, conversations, handles, assign=False)
    reports, wall = run_workers(url, "take", handles, {})
    taken = sum(r["taken"] for r in reports)
    return {"taken": taken, "per_s": taken / wall, "wall": wall}


def measure_writes(backend: Backend, seconds: float) -> dict:
    url = backend.fresh()
    handles = [f"writer{i}" for i in range(AGENTS)]
    seed(url, AGENTS, handles, assign=True)
    reports, wall = run_workers(url, "write", handles, {"seconds": seconds})
    writes = sum(r["writes"] for r in reports)
    return {
        "writes": writes,
        "per_s": writes / wall,
        "retries_per_1000": 1000 * sum(r["retries"] for r in reports) / max(writes, 1),
        "worst": max(r["worst"] for r in reports),
        "locked": sum(r["locked"] for r in reports),
    }


def measure_idle(backend: Backend, seconds: float) -> dict:
    from cs_tui.data.store import Store
    from cs_tui.data.watch import ChangeWatcher

    url = backend.fresh()
    seed(url, 10, ["idle"], assign=False)
    store = Store.open(url)
    counted = {"n": 0}
    import sqlalchemy as sa

    for engine in {store._engines.read, store._engines.write}:
        sa.event.listen(
            engine, "before_cursor_execute", lambda *a: counted.__setitem__("n", counted["n"] + 1)
        )
    watcher = ChangeWatcher(store)
    time.sleep(1.0)  # let the PostgreSQL listener connect
    watcher.poll()
    counted["n"] = 0
    checks0 = watcher.version_checks
    listener = watcher._listener
    pings0 = listener.statements if listener else 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        watcher.wait(LOOP_WAIT_S)
        watcher.poll()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    # data_version checks go through the watcher's own sqlite3 connection, event reads through
    # the store's SQLAlchemy engines, pings through the listener's psycopg connection.
    pings = (listener.statements - pings0) if listener else 0
    statements = (watcher.version_checks - checks0) + counted["n"] + pings
    watcher.close()
    store.dispose()
    return {"cpu_pct": 100 * cpu / wall, "qps": statements / wall}


def write_rows(w: dict) -> list[tuple[str, str, str, str]]:
    return [
        (
            f"sqlite: write-lock retries, {AGENTS} busy writers",
            f"{w['retries_per_1000']:.0f} per 1,000 writes",
            "",
            f"{w['writes']:,} writes, {w['per_s']:,.0f}/s",
        ),
        (
            "sqlite: longest wait for the write lock",
            f"{w['worst'] * 1000:.0f} ms",
            "< 10 s",
            "ok" if w["worst"] < 10 else "SLOW",
        ),
        (
            "sqlite: 'database is locked' seen by a user",
            f"{w['locked']}",
            "0",
            "ok" if w["locked"] == 0 else "FAILED",
        ),
    ]


# -- main --------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench team")
    parser.add_argument("--seconds", type=float, default=15, help="live-update run per backend")
    parser.add_argument("--conversations", type=int, default=2000, help="take-next pool")
    parser.add_argument("--idle-seconds", type=float, default=10)
    parser.add_argument("--write-seconds", type=float, default=15, help="SQLite write contention")
    parser.add_argument("--quick", action="store_true", help="5 s runs, 400 conversations")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.conversations, args.idle_seconds, args.write_seconds = 5, 400, 4, 5

    backends = ["sqlite"] + (["postgresql"] if pg_base() else [])
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="cs-tui-team-") as tmp:
        for name in backends:
            backend = Backend(name, Path(tmp))
            try:
                live = measure_live(backend, args.seconds)
                take = measure_take(backend, args.conversations)
                idle = measure_idle(backend, args.idle_seconds)
            finally:
                backend.cleanup()
            lost = live["expected"] - live["deliveries"]
            rows += [
                (
                    f"{name}: propagation p50 ({AGENTS} agents)",
                    f"{live['p50'] * 1000:.0f} ms",
                    "",
                    f"{live['deliveries']:,} deliveries, {lost} missed",
                ),
                (
                    f"{name}: propagation p95",
                    f"{live['p95'] * 1000:.0f} ms",
                    "<= 1000 ms",
                    "ok" if live["p95"] <= 1.0 else "SLOW",
                ),
                (f"{name}: propagation max", f"{live['max'] * 1000:.0f} ms", "", ""),
                (
                    f"{name}: take-next, {AGENTS} processes",
                    f"{take['per_s']:,.0f} claims/s",
                    "",
                    f"{take['taken']:,} of {args.conversations:,} taken in {take['wall']:.1f} s",
                ),
                (
                    f"{name}: idle workstation CPU",
                    f"{idle['cpu_pct']:.2f} %",
                    "",
                    f"live loop: wait {LOOP_WAIT_S} s, poll",
                ),
                (f"{name}: idle workstation statements", f"{idle['qps']:.1f} /s", "", ""),
            ]
            if name == "sqlite":
                rows += write_rows(measure_writes(backend, args.write_seconds))
    if not pg_base():
        rows.append(("postgresql", "skipped", "", "set CS_TUI_BENCH_PG=postgresql://..."))
    print_table(rows)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        _worker(sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5]))
    else:
        raise SystemExit(main(sys.argv[1:]))
