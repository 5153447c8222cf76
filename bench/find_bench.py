"""Find anything at 100,000 conversations: `Store.find` and the queue filter's text, part of
`python -m bench store` (and `python -m bench store --find-only [--pg URL]`).

Target (issue #14): p95 <= 50 ms. The texts are what an agent types: order numbers, customer
names and handles, conversation ids, words and phrases of messages (common ones that match
hundreds of thousands of messages, rare ones, and text found nowhere), in Chinese and English.
The reference, measured in the same run, is one scan of the message text for a text found
nowhere (`LIKE '%...%'` over every message): what each search would cost without the index.
"""

from __future__ import annotations

import random
import time

import sqlalchemy as sa

from bench.common import ms, percentile
from cs_tui.data import seed
from cs_tui.data.store import Store
from cs_tui.data.views import AgentInfo, QueueFilter

PHRASES = (
    "什么时候到账",  # in a good part of the Chinese conversations
    "退款",  # two characters: names and previews only
    "破损",
    "refund",
    "arrived damaged",
    "24小时内到账",  # in agents' replies
    "invoice",
    "nowhere-at-all",  # found nowhere: every step runs to its end
    "没有这句话",
)


def texts(conversations: int, seed_no: int = 7, count: int = 200) -> list[str]:
    """A mix of what agents look for, from the synthetic store's own ids and names."""
    rng = random.Random(14)
    out: list[str] = []
    for i in range(count):
        cid = rng.randint(1, conversations)
        kind = i % 6
        if kind == 0:
            out.append(str(cid * 7919 % 10**8))  # the order number in its first message
        elif kind == 1:
            out.append(f"SYN-{seed_no}-{cid}")
        elif kind == 2:
            out.append(f"syn-{seed_no}-{rng.randint(1, max(1, conversations // 3))}")
        elif kind == 3:
            out.append(rng.choice(seed.ZH_NAMES + seed.EN_NAMES))
        else:
            out.append(PHRASES[i % len(PHRASES)])
    return out


def _timed(fn, queries: list[str], cpu: list[float] | None = None) -> list[float]:
    """Wall seconds per call; with `cpu`, this process's CPU seconds per call are added to it
    (on SQLite all of a search's work: a figure a busy machine inflates less)."""
    samples = []
    for q in queries:
        start, used = time.perf_counter(), time.process_time()
        fn(q)
        samples.append(time.perf_counter() - start)
        if cpu is not None:
            cpu.append(time.process_time() - used)
    return samples


def scan_reference(store: Store) -> float:
    """Seconds for one scan of every message for a text found nowhere (no index)."""
    with store._read() as conn:
        if store.dialect == "postgresql":
            # Otherwise the trigram index answers it, and it is no longer the cost of a scan.
            conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
            conn.exec_driver_sql("SET LOCAL enable_indexscan = off")
        start = time.perf_counter()
        conn.execute(
            sa.text("SELECT conversation_id FROM message WHERE body LIKE :p LIMIT 120"),
            {"p": "%nowhere-at-all%"},
        ).all()
        return time.perf_counter() - start


def figures(
    store: Store, boss: AgentInfo, agent: AgentInfo, conversations: int, where: str
) -> list[tuple[str, str, str, str]]:
    store.refresh_find_index()
    queries = texts(conversations)
    store.find(boss, queries[0])  # warm the statement cache
    cpu: tuple[list[float], list[float], list[float]] = ([], [], [])
    found = _timed(lambda q: store.find(boss, q), queries, cpu[0])
    as_agent = _timed(lambda q: store.find(agent, q), queries, cpu[1])
    filtered = _timed(lambda q: store.queue(boss, QueueFilter(text=q), limit=100), queries, cpu[2])
    hits = sum(1 for q in queries[:60] if store.find(boss, q))
    scan = scan_reference(store)

    def p(samples: list[float]) -> str:
        return f"{ms(percentile(samples, 50))} / {ms(percentile(samples, 95))}"

    def c(samples: list[float]) -> str:
        return f"CPU p95 {ms(percentile(samples, 95))}; "

    return [
        (
            f"find p50/p95 ({where})",
            p(found),
            "p95 <= 50 ms",
            f"{c(cpu[0])}one scan of the message text {ms(scan)}; {len(queries)} texts, "
            f"{hits} of the first 60 found",
        ),
        (
            f"find as an agent p50/p95 ({where})",
            p(as_agent),
            "p95 <= 50 ms",
            f"{c(cpu[1])}own + unassigned",
        ),
        (
            f"queue filter text p50/p95 ({where})",
            p(filtered),
            "p95 <= 50 ms",
            f"{c(cpu[2])}first 100 rows, supervisor",
        ),
    ]


def catch_up_figure(store: Store, messages: int) -> tuple[str, str, str, str]:
    """The index's catch-up after an import of `messages` (run by `cs-tui import` at its end)."""
    start = time.perf_counter()
    added = store.refresh_find_index()
    elapsed = time.perf_counter() - start
    rate = added / elapsed if elapsed and added else float("nan")
    return (
        "find index catch-up after import",
        f"{rate:,.0f} msg/s",
        "",
        f"{added:,} messages in {elapsed:.2f} s, after the import",
    )
