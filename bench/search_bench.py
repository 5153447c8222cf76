"""Search figures: `python -m bench search [--articles N] [--phrases N] [--no-store]`.

Builds a corpus of generated articles (sentences and titles recombined from the shipped sample
knowledge base, zh and en, with product names so titles differ) and phrases (the shipped packs
plus variants), writes the articles to a temporary SQLite store with their pinyin keys, loads
them back, and measures:

- index build time and memory (the store already holds the pinyin keys);
- per-keystroke latency p50/p95 for Chinese, pinyin-initial and English (with typos) queries;
- the longest pause of an asyncio event loop while a worker thread runs the keystroke queries,
  each newer keystroke cancelling the older query (as the UI does);
- the same queries through a bare ``rapidfuzz.process.extract(..., scorer=WRatio)`` over the same
  strings, as the reference, and the speed-up ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import re
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import median, percentile, print_table

ZH_PRODUCTS = [
    "无线耳机",
    "空气炸锅",
    "机械键盘",
    "电动牙刷",
    "保温杯",
    "羽绒服",
    "运动鞋",
    "扫地机器人",
    "笔记本电脑",
    "平板电脑",
    "智能手表",
    "吹风机",
    "电饭煲",
    "行李箱",
    "双肩包",
    "台灯",
    "陶瓷餐具",
    "床上四件套",
    "儿童座椅",
    "咖啡机",
    "加湿器",
    "显示器",
    "蓝牙音箱",
    "剃须刀",
]
EN_PRODUCTS = [
    "wireless earbuds",
    "air fryer",
    "mechanical keyboard",
    "electric toothbrush",
    "travel mug",
    "down jacket",
    "running shoes",
    "robot vacuum",
    "laptop",
    "tablet",
    "smartwatch",
    "hair dryer",
    "rice cooker",
    "suitcase",
    "backpack",
    "desk lamp",
    "ceramic dinner set",
    "bedding set",
    "child car seat",
    "coffee machine",
    "humidifier",
    "monitor",
    "speaker",
    "shaver",
]

KEYSTROKES = {
    "Chinese": ["退款到账", "物流延迟", "七天无理由", "发票抬头", "重复扣款"],
    "pinyin initials": ["tkdz", "wlyc", "qtwly", "fpkj", "zfsb"],
    "English": ["refund time", "delivery delay", "invoice", "order number", "refnd", "retrun"],
}
TARGET_P95_MS = 15.0
TARGET_PAUSE_MS = 20.0
TARGET_BUILD_S = 5.0
TARGET_RATIO = 20.0


def _sentences(text: str, lang: str) -> list[str]:
    text = re.sub(r"[#*|>`-]+", " ", text)
    if lang == "zh":
        parts = re.split(r"(?<=[。；！？])|\n", text)
    else:
        parts = re.split(r"(?<=[.!?])\s+|\n", text)
    return [" ".join(p.split()) for p in parts if len(p.strip()) > 8]


def generate(n_articles: int, n_phrases: int, seed: int = 7):
    """(article records with pinyin keys, extra phrases) built from the shipped content."""
    from cs_tui.kb import ArticleRecord, sample_articles
    from cs_tui.phrases import PhraseLibrary
    from cs_tui.pinyin_keys import make_keys

    rnd = random.Random(seed)
    samples = sample_articles()
    pools = {}
    for lang in ("zh", "en"):
        chosen = [a for a in samples if a.lang == lang]
        sentences = [s for a in chosen for s in _sentences(a.body, lang)]
        pools[lang] = (chosen, sentences)
    records = []
    for i in range(n_articles):
        lang = "zh" if i % 2 == 0 else "en"
        chosen, sentences = pools[lang]
        base = rnd.choice(chosen)
        product = rnd.choice(ZH_PRODUCTS if lang == "zh" else EN_PRODUCTS)
        title = f"{base.title}（{product}）" if lang == "zh" else f"{base.title} ({product})"
        joiner = "" if lang == "zh" else " "
        body = joiner.join(rnd.sample(sentences, rnd.randint(4, 8)))
        tags = (*base.tags, product)
        records.append(
            ArticleRecord(
                slug=f"gen/{i}",
                title=title,
                body=body,
                category=base.category,
                tags=tags,
                lang=lang,
                search_keys=make_keys([title, *tags]),
            )
        )
    library, _ = PhraseLibrary.load(personal=Path(tempfile.gettempdir()) / "cs-tui-no-phrases")
    shipped = library.phrases
    extra = []
    from dataclasses import replace

    for i in range(max(0, n_phrases - len(shipped))):
        base = shipped[i % len(shipped)]
        product = rnd.choice(ZH_PRODUCTS if base.lang == "zh" else EN_PRODUCTS)
        extra.append(
            replace(
                base,
                id=f"{base.id}.v{i}",
                shortcut=f"{base.shortcut}{i}",
                title=f"{base.title}·{product}"
                if base.lang == "zh"
                else f"{base.title}: {product}",
                layer="team",
            )
        )
    return records, library.with_phrases(extra)


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as handle:
            import os

            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        from bench.common import peak_rss_mb

        return peak_rss_mb()


def _keystroke_queries() -> dict[str, list[str]]:
    out = {}
    for kind, words in KEYSTROKES.items():
        out[kind] = [w[:n] for w in words for n in range(1, len(w) + 1) if w[:n].strip()]
    return out


def _loop_pauses(index, queries: list[str], key_interval: float) -> tuple[float, int, int]:
    """Longest event-loop pause (ms) while a worker searches, newest keystroke first."""
    from cs_tui.search import LatestQuery, SearchCancelled

    latest = LatestQuery()
    pool = ThreadPoolExecutor(max_workers=1)
    done = {"completed": 0, "cancelled": 0}
    lock = threading.Lock()

    def work(text: str, cancel) -> None:
        try:
            index.search(text, 20, cancel=cancel)
            outcome = "completed"
        except SearchCancelled:
            outcome = "cancelled"
        with lock:
            done[outcome] += 1

    async def main() -> float:
        loop = asyncio.get_running_loop()
        worst = 0.0
        stop = False

        async def ticker() -> None:
            nonlocal worst
            while not stop:
                start = loop.time()
                await asyncio.sleep(0.001)
                worst = max(worst, loop.time() - start - 0.001)

        tick = asyncio.create_task(ticker())
        futures = []
        for text in queries:
            cancel = latest.begin()
            futures.append(loop.run_in_executor(pool, work, text, cancel))
            await asyncio.sleep(key_interval)
        await asyncio.gather(*futures)
        stop = True
        await tick
        return worst * 1000

    try:
        worst = asyncio.run(main())
    finally:
        pool.shutdown()
    return worst, done["completed"], done["cancelled"]


def _reference_pause(strings: list[str], queries: list[str]) -> float:
    from rapidfuzz import fuzz, process

    pool = ThreadPoolExecutor(max_workers=1)

    async def main() -> float:
        loop = asyncio.get_running_loop()
        worst = 0.0
        stop = False

        async def ticker() -> None:
            nonlocal worst
            while not stop:
                start = loop.time()
                await asyncio.sleep(0.001)
                worst = max(worst, loop.time() - start - 0.001)

        tick = asyncio.create_task(ticker())
        for text in queries:
            await loop.run_in_executor(
                pool, lambda t=text: process.extract(t, strings, scorer=fuzz.WRatio, limit=20)
            )
        stop = True
        await tick
        return worst * 1000

    try:
        return asyncio.run(main())
    finally:
        pool.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench search", description=__doc__)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--phrases", type=int, default=5_000)
    parser.add_argument("--no-store", action="store_true", help="index generated records directly")
    parser.add_argument("--rounds", type=int, default=3, help="times each keystroke is measured")
    parser.add_argument("--quick", action="store_true", help="10,000 articles, 1 round")
    args = parser.parse_args(argv)
    if args.quick:
        args.articles, args.rounds = min(args.articles, 10_000), 1

    from rapidfuzz import fuzz, process

    from cs_tui.kb import article_entries
    from cs_tui.search import SearchIndex

    rows: list[tuple[str, str, str, str]] = []
    started = time.perf_counter()
    records, library = generate(args.articles, args.phrases)
    gen_s = time.perf_counter() - started
    rows.append(
        (
            f"generate {len(records):,} articles + {len(library.phrases):,} phrases",
            f"{gen_s:.1f} s",
            "-",
            "pinyin keys computed when written",
        )
    )
    articles = records
    if not args.no_store:
        from cs_tui.clock import SystemClock
        from cs_tui.data.store import Store

        tmp = tempfile.TemporaryDirectory()
        store = Store.open(str(Path(tmp.name) / "bench.db"), clock=SystemClock())
        started = time.perf_counter()
        store.upsert_articles(records)
        rows.append(
            (
                "store write (Core, one transaction)",
                f"{time.perf_counter() - started:.2f} s",
                "-",
                "-",
            )
        )
        del records
        gc.collect()
        started = time.perf_counter()
        articles = store.articles()
        rows.append(
            ("store read of all articles", f"{time.perf_counter() - started:.2f} s", "-", "-")
        )
        store.dispose()

    phrase_entries = library.entries()
    entries = [*phrase_entries, *article_entries(articles)]
    gc.collect()
    rss_before = _rss_mb()
    started = time.perf_counter()
    index = SearchIndex.build(entries)
    build_s = time.perf_counter() - started
    gc.collect()
    rss_after = _rss_mb()
    rows.append(
        (
            f"index build ({len(index):,} entries)",
            f"{build_s:.2f} s",
            f"<= {TARGET_BUILD_S:.0f} s",
            "ok" if build_s <= TARGET_BUILD_S else "MISSED",
        )
    )
    rows.append(("index memory (RSS growth)", f"{rss_after - rss_before:.0f} MB", "-", "-"))

    per_kind: dict[str, list[float]] = {}
    all_ms: list[float] = []
    for kind, queries in _keystroke_queries().items():
        samples = []
        for _ in range(args.rounds):
            for text in queries:
                start = time.perf_counter()
                index.search(text, 20)
                samples.append((time.perf_counter() - start) * 1000)
        per_kind[kind] = samples
        all_ms.extend(samples)
        p95 = percentile(samples, 95)
        rows.append(
            (
                f"keystroke {kind} ({len(queries)} queries) p50 / p95",
                f"{median(samples):.2f} / {p95:.2f} ms",
                f"p95 <= {TARGET_P95_MS:.0f} ms",
                "ok" if p95 <= TARGET_P95_MS else "MISSED",
            )
        )

    strings = [f"{e.shortcut} {e.title} {e.body}".strip() for e in entries]
    ref_queries = [words[0] for words in KEYSTROKES.values()] + [KEYSTROKES["English"][-1]]
    ours, theirs = [], []
    for text in ref_queries:
        start = time.perf_counter()
        index.search(text, 20)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        process.extract(text, strings, scorer=fuzz.WRatio, limit=20)
        theirs.append(time.perf_counter() - start)
    ratio = median(theirs) / max(median(ours), 1e-9)
    rows.append(
        (
            f"bare WRatio extract, same {len(strings):,} strings (median)",
            f"{median(theirs) * 1000:.0f} ms",
            "reference",
            f"index {median(ours) * 1000:.2f} ms: {ratio:.0f}x faster"
            + (" ok" if ratio >= TARGET_RATIO else " MISSED"),
        )
    )
    rows.append(
        (
            "speed-up over the reference",
            f"{ratio:.0f}x",
            f">= {TARGET_RATIO:.0f}x",
            "ok" if ratio >= TARGET_RATIO else "MISSED",
        )
    )

    typing = [q for queries in _keystroke_queries().values() for q in queries]
    worst, completed, cancelled = _loop_pauses(index, typing, key_interval=0.004)
    rows.append(
        (
            f"event-loop pause, {len(typing)} keystrokes 4 ms apart",
            f"{worst:.1f} ms",
            f"<= {TARGET_PAUSE_MS:.0f} ms",
            "ok" if worst <= TARGET_PAUSE_MS else "MISSED",
        )
    )
    rows.append(
        (
            "older queries cancelled by newer keystrokes",
            f"{cancelled} of {completed + cancelled}",
            "newest wins",
            "ok" if cancelled > 0 else "none superseded",
        )
    )
    ref_pause = _reference_pause(strings, ref_queries[:2])
    rows.append(
        (
            "event-loop pause, bare WRatio in a worker",
            f"{ref_pause:.0f} ms",
            "reference",
            "holds the GIL",
        )
    )
    print_table(rows)
    missed = any(row[3].endswith("MISSED") for row in rows)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
