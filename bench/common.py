"""Small helpers shared by the benchmark suites: timing, percentiles, tables, cached stores."""

from __future__ import annotations

import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
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


class ServeProcess:
    """A real `cs-tui serve` on an ephemeral port, as the channel benches start it: the port is
    read from its 'listening on' line, then stderr is drained so the server never blocks on it."""

    LISTENING = re.compile(r"listening on http://([\d.]+):(\d+)")

    def __init__(self, suite: str, db: str, *options: str) -> None:
        cmd = [sys.executable, "-m", "cs_tui", "--db", db, "serve", "--bind", "127.0.0.1:0"]
        self.proc = subprocess.Popen(
            [*cmd, "--no-access-log", *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            found = self.LISTENING.search(line)
            if found:
                self.host, self.port = found.group(1), int(found.group(2))
                break
        else:
            raise SystemExit(f"bench {suite}: serve did not start ({self.proc.wait()})")
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for _ in self.proc.stderr:
            pass

    def _status_mb(self, field: str) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        found = re.search(rf"{field}:\s+(\d+)", status)
        return int(found.group(1)) / 1024 if found else float("nan")

    def rss_mb(self) -> float:
        return self._status_mb("VmRSS")

    def peak_rss_mb(self) -> float:
        return self._status_mb("VmHWM")

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> int:
        """SIGTERM, as systemd stops it; its exit status (a kill after 30 s)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
