"""Store figures on a generated store of 100,000 conversations / 1,000,000 messages.

    python -m bench store [--conversations N] [--ingest-messages N] [--quick]

Targets (issue #2): ingest >= 50,000 messages/s; queue window and conversation open p95 <= 5 ms
at 100,000 open conversations. The reference ceiling for ingest is raw sqlite3.executemany of
the same message rows into a bare table.

Find anything (issue #14): `Store.find` and the queue filter's text p95 <= 50 ms at 100,000
conversations, next to one scan of the message text (`--find-only [--pg URL]` runs just that; see
bench/find_bench.py).

Service hours (issue #15): a deadline on a calendar with 40 holidays, p95 <= 20 µs a call; the
reference is the same deadline around the clock, in the same run. Recomputing the stored deadlines
of 100,000 open conversations after a policy change <= 5 s (`--recompute-only [--pg URL]` runs just
that, on a copy of the cached SQLite store or on a fresh PostgreSQL schema).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta

from bench import find_bench
from bench.common import cache_dir, ms, peak_rss_mb, percentile, print_table, time_calls
from cs_tui.data import seed
from cs_tui.data.io import ingest_lines
from cs_tui.data.store import Store
from cs_tui.data.views import QueueFilter
from cs_tui.jsonl_lines import check_chunk


def build_store(conversations: int, messages_per: int) -> tuple[str, float]:
    path = cache_dir() / f"store-{conversations}-{messages_per}.db"
    if path.exists():
        return str(path), float("nan")
    tmp = path.with_suffix(".building")
    for suffix in ("", "-wal", "-shm"):
        (tmp.parent / (tmp.name + suffix)).unlink(missing_ok=True)
    store = Store.open(str(tmp))
    start = time.perf_counter()
    seed.synthetic(store, conversations=conversations, messages_per=messages_per)
    store.refresh_find_index()
    elapsed = time.perf_counter() - start
    store.dispose()
    conn = sqlite3.connect(tmp)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    tmp.rename(path)
    return str(path), elapsed


def jsonl_lines(n_messages: int, per_conv: int = 10) -> list[str]:
    rng = random.Random(3)
    t0 = datetime(2026, 11, 11, 8, 0, tzinfo=UTC)
    lines = []
    for i in range(n_messages):
        conv = i // per_conv
        author = "customer" if i % 2 == 0 else "agent"
        row = {
            "message_id": f"ing-{i}",
            "conversation_id": f"ING-{conv}",
            "channel": ("chat", "email", "phone", "social", "ticket")[conv % 5],
            "customer": f"ing-cust-{conv // 3}",
            "customer_name": "王小明" if conv % 2 else "Alice Chen",
            "author": author,
            "text": rng.choice(seed.ZH_LINES if conv % 2 else seed.EN_LINES).format(o=conv),
            "sent_at": (t0 + timedelta(seconds=i)).isoformat(),
        }
        if author == "agent":
            row["agent"] = f"agent{conv % 20:03d}"
        lines.append(json.dumps(row, ensure_ascii=False) + "\n")
    return lines


def raw_reference(lines: list[str], path) -> float:
    """Raw sqlite3 executemany of the same message rows into a bare table: the ceiling."""
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE message (id INTEGER PRIMARY KEY, conversation TEXT, author TEXT, body TEXT, "
        "sent_at TEXT, external_id TEXT UNIQUE)"
    )
    start = time.perf_counter()
    rows = []
    for line in lines:
        obj = json.loads(line)
        rows.append(
            (obj["conversation_id"], obj["author"], obj["text"], obj["sent_at"], obj["message_id"])
        )
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO message (conversation, author, body, sent_at, external_id) VALUES (?,?,?,?,?)",
        rows,
    )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


WORKDAYS = ("2026-02-14", "2026-09-27", "2026-10-10")
CALENDAR_POLICY = """
[calendars.office]
timezone = "Asia/Shanghai"
holidays = [HOLIDAYS]
workdays = [WORKDAYS]

[calendars.office.week]
mon = ["09:00-12:00", "13:30-18:30"]
tue = ["09:00-12:00", "13:30-18:30"]
wed = ["09:00-12:00", "13:30-18:30"]
thu = ["09:00-12:00", "13:30-18:30"]
fri = ["09:00-12:00", "13:30-18:30"]

[channels.email]
calendar = "office"
"""


def deadline_figures(samples: int = 20_000) -> list[tuple[str, str, str, str]]:
    """Per-call time of sla.deadline for e-mails on a calendar with 40 holidays, next to the
    same deadlines around the clock; a year's intervals are built once (timed on its own)."""
    from cs_tui.calendars import add_open_time
    from cs_tui.sla import ConversationFacts, deadline, parse_policy

    rng = random.Random(15)
    day0 = datetime(2026, 1, 1, tzinfo=UTC)
    days = [(day0 + timedelta(days=d)).date().isoformat() for d in range(730)]
    picked = sorted(rng.sample([d for d in days if d not in WORKDAYS], 40))
    text = CALENDAR_POLICY.replace("HOLIDAYS", ", ".join(f'"{d}"' for d in picked)).replace(
        "WORKDAYS", ", ".join(f'"{d}"' for d in WORKDAYS)
    )
    on_calendar = parse_policy(text, "bench")
    around = parse_policy("", "bench")
    calendar = on_calendar.calendars["office"]
    start = time.perf_counter()
    add_open_time(calendar, day0, 1)  # builds 2026's intervals
    build_s = time.perf_counter() - start
    facts = []
    for _ in range(samples):
        at = day0 + timedelta(seconds=rng.randrange(365 * 86400))
        facts.append(
            ConversationFacts(
                channel="email",
                category="order",
                priority="normal",
                status="open",
                created_at=at,
                assigned=True,
                assigned_at=at,
                first_customer_at=at,
                last_customer_at=at,
                pauses=((at + timedelta(hours=1), at + timedelta(hours=5)),)
                if rng.random() < 0.2
                else (),
            )
        )
    for f in facts[:2000]:  # warm: every year the deadlines reach is built
        deadline(on_calendar, f)
    it = iter(facts)
    timed = time_calls(lambda: deadline(on_calendar, next(it)), samples)
    it = iter(facts)
    plain = time_calls(lambda: deadline(around, next(it)), samples)
    us = lambda seconds: f"{seconds * 1e6:.1f} µs"  # noqa: E731
    return [
        (
            "deadline on a calendar p50/p95",
            f"{us(percentile(timed, 50))} / {us(percentile(timed, 95))}",
            "p95 <= 20 µs",
            f"around the clock {us(percentile(plain, 50))} / {us(percentile(plain, 95))}",
        ),
        ("calendar year built", ms(build_s), "", "once per calendar and year, 40 holidays"),
    ]


def _changed_policy_text() -> str:
    """The shipped policy with 40 holidays on the office calendar and slower IM targets, so the
    deadlines of every channel move."""
    from importlib import resources

    rng = random.Random(16)
    day0 = datetime(2026, 1, 1, tzinfo=UTC)
    days = [(day0 + timedelta(days=d)).date().isoformat() for d in range(730)]
    picked = ", ".join(f'"{d}"' for d in sorted(rng.sample(days, 40)))
    text = resources.files("cs_tui.policy").joinpath("sla.toml").read_text(encoding="utf-8")
    text = text.replace("holidays = []", f"holidays = [{picked}]", 1)
    text = text.replace('first_response = "30s"', 'first_response = "45s"', 1)
    return text.replace('next_response = "60s"', 'next_response = "90s"', 1)


def recompute_figures(path: str, pg_url: str | None = None) -> list[tuple[str, str, str, str]]:
    """Time `recompute.ensure_deadlines` after a policy change, on a copy of the store (the
    cached one keeps its deadlines), then the usual start that finds nothing to do."""
    from cs_tui.data.db import make_engines
    from cs_tui.data.recompute import ensure_deadlines
    from cs_tui.sla import default_policy, parse_policy

    changed_policy = parse_policy(_changed_policy_text(), "bench")
    if pg_url is None:
        copy = cache_dir() / "recompute-copy.db"
        for suffix in ("", "-wal", "-shm"):
            (copy.parent / (copy.name + suffix)).unlink(missing_ok=True)
        src, dst = sqlite3.connect(path), sqlite3.connect(copy)
        src.backup(dst)
        src.close()
        dst.close()
        target, where = f"sqlite:///{copy}", "SQLite"
    else:
        target, where = pg_url, "PostgreSQL"
    engines = make_engines(target)
    try:
        ensure_deadlines(engines, default_policy())  # the store's own policy first
        with engines.read.connect() as conn:
            running = conn.exec_driver_sql(
                "SELECT count(*) FROM conversation WHERE sla_clock IS NOT NULL"
            ).scalar_one()
        start, cpu = time.perf_counter(), time.process_time()
        changed = ensure_deadlines(engines, changed_policy) or 0
        recompute_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu
        start = time.perf_counter()
        ensure_deadlines(engines, changed_policy)
        unchanged_s = time.perf_counter() - start
    finally:
        engines.dispose()
    return [
        (
            f"recompute deadlines ({where})",
            f"{recompute_s:.2f} s",
            "<= 5 s at 100,000",
            f"{running:,} running clocks, {changed:,} changed; CPU {cpu_s:.2f} s",
        ),
        ("start with the same policy", ms(unchanged_s), "", "one read of the fingerprint"),
    ]


def _drop_schema(url: str, schema: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    engine.dispose()


def _pg_store(url: str, conversations: int, messages_per: int) -> tuple[str, str]:
    """A fresh schema on the server, seeded like the SQLite store."""
    import uuid

    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    sep = "&" if "?" in url else "?"
    target = f"{url}{sep}options=-csearch_path%3D{schema}"
    store = Store.open(target)
    seed.synthetic(store, conversations=conversations, messages_per=messages_per)
    store.dispose()
    return target, schema


def _supervisor(store: Store):
    boss = store.ensure_agent("bench-supervisor", role="supervisor")
    return boss if boss.role == "supervisor" else store.set_role(boss, boss.handle, "supervisor")


def _find_only(args: argparse.Namespace) -> list[tuple[str, str, str, str]]:
    path, _ = build_store(args.conversations, args.messages_per)
    store = Store.open(path)
    try:
        boss = _supervisor(store)
        agent = store.get_agent("agent001") or boss
        rows = find_bench.figures(store, boss, agent, args.conversations, "SQLite")
    finally:
        store.dispose()
    if args.pg:
        target, schema = _pg_store(args.pg, args.conversations, args.messages_per)
        store = Store.open(target)
        try:
            with store._write() as conn:
                # What autovacuum does soon after a bulk load: without statistics the planner
                # walks every message for a rare text instead of asking the trigram index.
                conn.exec_driver_sql("ANALYZE message, conversation, customer, conversation_tag")
            with store._read() as conn:
                messages = conn.exec_driver_sql("SELECT count(*) FROM message").scalar_one()
            boss = _supervisor(store)
            agent = store.get_agent("agent001") or boss
            rows += find_bench.figures(store, boss, agent, args.conversations, "PostgreSQL")
            rows.append(("PostgreSQL store", f"{messages:,} messages", "", "a new schema"))
        finally:
            store.dispose()
            _drop_schema(args.pg, schema)
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench store")
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-per", type=int, default=10)
    parser.add_argument("--ingest-messages", type=int, default=200_000)
    parser.add_argument(
        "--quick", action="store_true", help="10k conversations, 20k ingested messages"
    )
    parser.add_argument(
        "--calendar-only", action="store_true", help="only the service-hour deadline figures"
    )
    parser.add_argument(
        "--recompute-only", action="store_true", help="only the deadline recompute figures"
    )
    parser.add_argument("--find-only", action="store_true", help="only the find-anything figures")
    parser.add_argument(
        "--pg",
        metavar="URL",
        help="with --recompute-only or --find-only: also on PostgreSQL (a new schema)",
    )
    args = parser.parse_args(argv)
    if args.calendar_only:
        print_table(deadline_figures())
        return 0
    if args.recompute_only:
        path, _ = build_store(args.conversations, args.messages_per)
        rows = recompute_figures(path)
        if args.pg:
            target, schema = _pg_store(args.pg, args.conversations, min(args.messages_per, 2))
            try:
                rows += recompute_figures(path, target)
            finally:
                _drop_schema(args.pg, schema)
        print_table(rows)
        return 0
    if args.quick:
        args.conversations, args.ingest_messages = 10_000, 20_000
    if args.find_only:
        print_table(_find_only(args))
        return 0

    path, seed_s = build_store(args.conversations, args.messages_per)
    store = Store.open(path)
    counts = store.counts()
    boss = store.ensure_agent("bench-supervisor", role="supervisor")
    if boss.role != "supervisor":
        boss = store.set_role(boss, boss.handle, "supervisor")
    open_count = store.queue_count(boss, cap=10**7)

    first_page = time_calls(lambda: store.queue(boss, QueueFilter(), limit=100), 300)
    deep = time_calls(
        lambda: store.queue(
            boss, QueueFilter(channel="email", status="new"), offset=5000, limit=100
        ),
        200,
    )
    mine_agent = store.get_agent("agent001") or boss
    searches = find_bench.figures(store, boss, mine_agent, counts["conversation"], "SQLite")
    mine = time_calls(lambda: store.queue(mine_agent, QueueFilter(scope="mine"), limit=100), 200)
    rng = random.Random(5)
    max_id = counts["conversation"]
    opens = time_calls(lambda: store.conversation(rng.randint(1, max_id)), 500)
    last = store.last_event_id()
    events = time_calls(lambda: store.events_since(max(0, last - 100)), 300)

    lines = jsonl_lines(args.ingest_messages)
    ingest_path = cache_dir() / "ingest-target.db"
    for suffix in ("", "-wal", "-shm"):
        (ingest_path.parent / (ingest_path.name + suffix)).unlink(missing_ok=True)
    target = Store.open(str(ingest_path))
    start = time.perf_counter()
    rejects: list = []
    result = ingest_lines(target, lines, rejects)
    ingest_s = time.perf_counter() - start
    assert result.imported == len(lines) and not rejects
    start = time.perf_counter()
    again = ingest_lines(target, lines, rejects)
    reingest_s = time.perf_counter() - start
    # Store-only: already validated records straight into a fresh store.
    records, bad = check_chunk((1, lines))
    assert not bad
    for suffix in ("", "-wal", "-shm"):
        (ingest_path.parent / ("store-only.db" + suffix)).unlink(missing_ok=True)
    only = Store.open(str(ingest_path.parent / "store-only.db"))
    start = time.perf_counter()
    only.ingest(records)
    store_only_s = time.perf_counter() - start
    only.dispose()
    assert again.imported == 0
    catch_up = find_bench.catch_up_figure(target, len(lines))
    target.dispose()
    raw_s = raw_reference(lines, cache_dir() / "raw-ref.db")

    size_mb = (
        sum(
            p.stat().st_size
            for p in cache_dir().glob(f"store-{args.conversations}-{args.messages_per}.db*")
        )
        / 1e6
    )
    rate = len(lines) / ingest_s
    raw_rate = len(lines) / raw_s
    rows = [
        (
            "store",
            f"{counts['conversation']:,} conversations, {counts['message']:,} messages",
            "",
            f"{open_count:,} open",
        ),
        ("seed time", "cached" if seed_s != seed_s else f"{seed_s:.1f} s", "", "Core executemany"),
        (
            "ingest (parse+validate+store)",
            f"{rate:,.0f} msg/s",
            ">= 50,000 msg/s",
            f"raw executemany {raw_rate:,.0f} msg/s (ratio {raw_rate / rate:.1f}x)",
        ),
        (
            "ingest, store part only",
            f"{len(lines) / store_only_s:,.0f} msg/s",
            "",
            "validated records -> store",
        ),
        (
            "re-ingest (all duplicates)",
            f"{len(lines) / reingest_s:,.0f} msg/s",
            "idempotent",
            f"{len(lines):,} lines skipped",
        ),
        (
            "queue first page p50/p95",
            f"{ms(percentile(first_page, 50))} / {ms(percentile(first_page, 95))}",
            "p95 <= 5 ms",
            "100 rows, supervisor, all",
        ),
        (
            "queue deep filtered p50/p95",
            f"{ms(percentile(deep, 50))} / {ms(percentile(deep, 95))}",
            "p95 <= 5 ms",
            "email+new, offset 5,000",
        ),
        (
            "queue 'mine' p50/p95",
            f"{ms(percentile(mine, 50))} / {ms(percentile(mine, 95))}",
            "p95 <= 5 ms",
            "one agent's work",
        ),
        catch_up,
        *searches,
        (
            "conversation open p50/p95",
            f"{ms(percentile(opens, 50))} / {ms(percentile(opens, 95))}",
            "p95 <= 5 ms",
            "random conversation + messages",
        ),
        (
            "events_since p50/p95",
            f"{ms(percentile(events, 50))} / {ms(percentile(events, 95))}",
            "",
            "last 100 events",
        ),
        *deadline_figures(),
        *recompute_figures(path),
        ("file size", f"{size_mb:,.0f} MB", "", "SQLite, WAL checkpointed"),
        ("peak RSS", f"{peak_rss_mb():,.0f} MB", "", "this process"),
    ]
    print_table(rows)
    store.dispose()
    return 0
