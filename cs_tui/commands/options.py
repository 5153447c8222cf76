"""Options that the top-level parser and several subcommands share (--db, --agent).

Kept apart from `cs_tui.cli` so a subcommand module never imports the module that loads it, and
light (argparse only) so `cs-tui --version` stays fast.
"""

from __future__ import annotations

import argparse


def add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH_OR_URL",
        default=argparse.SUPPRESS,
        help="store: an SQLite file path, sqlite:///PATH or postgresql://HOST/DB "
        "(default: $CS_TUI_DB, then the user data directory)",
    )


def add_agent_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--agent",
        metavar="HANDLE",
        default=argparse.SUPPRESS,
        help="who you are (default: $CS_TUI_AGENT, then your login)",
    )
