"""Options that the top-level parser and several subcommands share (--db, --agent, --config),
and the declaration every subcommand starts with.

Kept apart from `cs_tui.cli` so a subcommand module never imports the module that loads it, and
light (argparse only) so `cs-tui --version` stays fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable


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


def add_config_option(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: given after the subcommand it wins; not given, the global one stays.
    parser.add_argument(
        "--config", metavar="FILE", default=argparse.SUPPRESS, help="config file (TOML)"
    )


def add_command(
    sub: argparse._SubParsersAction,
    name: str,
    handler: Callable[[argparse.Namespace], int],
    *,
    store: bool = True,
    help: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """A subcommand that runs `handler`, with --config and (unless `store` is false) the store
    options: the part every subcommand declares alike, so each one lists only its own."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help, description=description)
    if store:
        add_store_options(parser)
        add_agent_option(parser)
    add_config_option(parser)
    parser.set_defaults(handler=handler)
    return parser
