"""Command-line start-up: what every `cs-tui` command pays before it does its work.

Figures, each measured as wall time of a fresh process (median of several runs, after one
warm-up run so the files are in the page cache), with the references measured in the same run:

* `cs-tui --version` against `python3 -c pass` (the interpreter the venv was made from, run
  directly rather than through a shim) and the venv's own `python -c pass` (its
  site-packages and the editable install's path hooks);
* `cs-tui queue --json --limit 1` on a store of 100,000 open conversations, against the import
  of the data layer alone (`python -c "import cs_tui.data.store"`) in the same interpreter.

The store is the one `python -m bench ui` caches (`seed.synthetic`, built once, ~35 s).
`--quick` uses 10,000 conversations and fewer runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from bench.common import median, print_table
from bench.ui_bench import HANDLE, build_store

TARGET_VERSION_OVER_PYTHON_S = 0.060
TARGET_QUEUE_S = 0.35


def wall(argv: list[str], runs: int) -> float:
    """Median wall time of `argv` as a fresh process; one untimed warm-up run first."""
    subprocess.run(argv, check=True, capture_output=True)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return median(samples)


def cs_tui_command() -> list[str]:
    """The installed console script when it is beside this interpreter, else the module."""
    script = Path(sys.executable).with_name("cs-tui")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cs_tui"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench cli")
    parser.add_argument("--quick", action="store_true", help="10,000 conversations, fewer runs")
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args(argv)
    conversations = 10_000 if args.quick else 100_000
    runs = args.runs or (5 if args.quick else 15)
    db, built = build_store(conversations, 10 if not args.quick else 4)
    if built == built:  # not NaN: built in this run
        print(f"built the store of {conversations:,} conversations in {built:.1f} s")
    cs_tui = cs_tui_command()
    system_python = getattr(sys, "_base_executable", None) or sys.executable

    python_pass = wall([system_python, "-c", "pass"], runs)
    venv_pass = wall([sys.executable, "-c", "pass"], runs)
    version = wall([*cs_tui, "--version"], runs)
    data_import = wall([sys.executable, "-c", "import cs_tui.data.store"], runs)
    queue = wall(
        [*cs_tui, "--db", str(db), "--agent", HANDLE, "queue", "--json", "--limit", "1"], runs
    )

    over = version - python_pass
    print_table(
        [
            (
                "cs-tui --version",
                f"{version * 1000:.0f} ms ({over * 1000:+.0f} ms)",
                f"<= python3 -c pass + {TARGET_VERSION_OVER_PYTHON_S * 1000:.0f} ms",
                f"python3 -c pass {python_pass * 1000:.0f} ms, "
                f"venv python -c pass {venv_pass * 1000:.0f} ms",
            ),
            (
                f"cs-tui queue --json --limit 1 ({conversations:,} conversations)",
                f"{queue:.3f} s",
                f"<= {TARGET_QUEUE_S} s",
                f"import cs_tui.data.store {data_import:.3f} s",
            ),
        ]
    )
    ok = over <= TARGET_VERSION_OVER_PYTHON_S and queue <= TARGET_QUEUE_S
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
