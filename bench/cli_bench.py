"""Command-line start-up: what every `cs-tui` command pays before it does its work.

Figures, each measured as wall time of a fresh process (median of several runs, after one
warm-up run so the files are in the page cache and the bytecode is compiled), with the
references measured in the same run, the runs of all commands interleaved so that a change in
the machine's load moves them all alike:

* `cs-tui --version` against `python3 -c pass` (the interpreter the venv was made from, run
  directly rather than through a shim) and the venv's own `python -c pass` (its
  site-packages and the editable install's path hooks);
* `cs-tui queue --json --limit 1` on a store of 100,000 open conversations (with its CPU time,
  user + system, which a busy machine inflates far less than the wall time), against
  `python -c "import sqlalchemy"` (SQLAlchemy Core: the floor of any command that reads the
  store) and the import of the data layer (`python -c "import cs_tui.data.store"`).

The store is the one `python -m bench ui` caches (`seed.synthetic`, built once, ~35 s).
`--quick` uses 10,000 conversations and fewer runs.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.common import child_env, median, print_table
from bench.ui_bench import HANDLE, build_store

TARGET_VERSION_OVER_PYTHON_S = 0.060
TARGET_QUEUE_S = 0.35


def walls(commands: dict[str, list[str]], runs: int) -> dict[str, tuple[float, float]]:
    """Median wall time and median CPU time (user + system) of each command as a fresh
    process; one untimed warm-up run of each first, then the runs of all commands in turn.
    On a busy machine the wall times grow with the load; the CPU times much less."""
    env = child_env()
    for argv in commands.values():
        subprocess.run(argv, check=True, capture_output=True, env=env)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True, env=env)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            samples[name].append((wall, cpu))
    return {
        name: (median([w for w, _c in values]), median([c for _w, c in values]))
        for name, values in samples.items()
    }


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

    timed = walls(
        {
            "python_pass": [system_python, "-c", "pass"],
            "venv_pass": [sys.executable, "-c", "pass"],
            "version": [*cs_tui, "--version"],
            "sqlalchemy": [sys.executable, "-c", "import sqlalchemy"],
            "data_import": [sys.executable, "-c", "import cs_tui.data.store"],
            "queue": [*cs_tui, "--db", str(db), "--agent", HANDLE, "queue", "--json"]
            + ["--limit", "1"],
        },
        runs,
    )
    python_pass, venv_pass, version = (timed[k][0] for k in ("python_pass", "venv_pass", "version"))
    queue, queue_cpu = timed["queue"]
    sqlalchemy_s, sqlalchemy_cpu = timed["sqlalchemy"]
    data_s, data_cpu = timed["data_import"]

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
                f"{queue:.3f} s (CPU {queue_cpu:.3f} s)",
                f"<= {TARGET_QUEUE_S} s",
                f"import sqlalchemy {sqlalchemy_s:.3f} s (CPU {sqlalchemy_cpu:.3f} s), "
                f"import cs_tui.data.store {data_s:.3f} s (CPU {data_cpu:.3f} s)",
            ),
        ]
    )
    ok = over <= TARGET_VERSION_OVER_PYTHON_S and queue <= TARGET_QUEUE_S
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
