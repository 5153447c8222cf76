"""Run the benchmarks: `python -m bench` runs them all, `python -m bench NAME` one of them.

Each benchmark prints an aligned table of figures, each with its target and a reference it
compares to. Sizes default to those the issues name; pass --quick for a small smoke run.
"""

from __future__ import annotations

import importlib
import sys

SUITES = {
    "store": "bench.store_bench",
    "search": "bench.search_bench",
    "ui": "bench.ui_bench",
    "team": "bench.team_bench",
    "report": "bench.report_bench",
    "cli": "bench.cli_bench",
    "channels": "bench.channels_bench",
    "chat": "bench.chat_bench",
    "email": "bench.email_bench",
}


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        print("suites:", ", ".join(SUITES))
        return 0
    names = [argv[0]] if argv and not argv[0].startswith("-") else list(SUITES)
    rest = argv[1:] if argv and not argv[0].startswith("-") else argv
    status = 0
    for name in names:
        if name not in SUITES:
            print(f"bench: unknown suite {name!r} (known: {', '.join(SUITES)})", file=sys.stderr)
            return 2
        try:
            module = importlib.import_module(SUITES[name])
        except ModuleNotFoundError as exc:
            print(f"bench: {name}: not available ({exc.name})", file=sys.stderr)
            status = 1
            continue
        print(f"\n== {name} ==")
        status |= module.main(rest)
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
