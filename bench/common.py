"""Small helpers shared by the benchmark suites: timing, percentiles, tables, cached stores."""

from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def time_calls(fn: Callable[[], object], repeat: int) -> list[float]:
    """Seconds per call, one sample per call."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cache_dir() -> Path:
    base = Path(os.environ.get("CS_TUI_BENCH_DIR") or Path(tempfile.gettempdir()) / "cs-tui-bench")
    base.mkdir(parents=True, exist_ok=True)
    return base


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    """Columns: figure, measured, target, reference / verdict."""
    header = ("figure", "measured", "target", "reference")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def child_env() -> dict[str, str]:
    """The environment for a timed child process: this one's, with bytecode caching on.

    An installed cs-tui runs from compiled `.pyc` files; with PYTHONDONTWRITEBYTECODE set (as
    some shells and CI images do) every start would compile the package's sources again, about
    a tenth of a second that no user pays and that the references (site-packages, already
    compiled) do not pay either. Each suite runs its children once untimed first, which writes
    the cache.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env
