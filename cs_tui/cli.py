"""The command line. Parses arguments, then hands over to one module in cs_tui.commands.

Every subcommand module exposes `register(subparsers)`; each parser sets `handler` to a function
taking the parsed arguments and returning an exit status. `COMMANDS` says which module declares
which top-level commands, so a command line naming one loads and builds only that module's
parsers (declaring all of them cost about as much as the rest of a `queue` call besides the
imports); global options alone start the workstation with none of them; anything else (help, a
typo) loads every module, so help and errors read the same. A test keeps the table equal to what
the modules register. Errors meant for the user are raised as `UserError` (or
StoreError/PolicyError) and printed as one line, never as a traceback. Any other exception is a
bug: its message may quote customer text (an SQL error repeats its parameters), so it goes to a
crash report without messages or locals (`cs_tui.crash`), and stderr gets one line naming the
report, with exit status 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from cs_tui import __version__
from cs_tui.commands.errors import UserError
from cs_tui.commands.options import add_agent_option, add_store_options

TYPE_CHECKING = False  # not typing's: `cs-tui --version` does not import typing at all
if TYPE_CHECKING:
    from typing import NoReturn

COMMANDS: dict[str, tuple[str, ...]] = {
    "cs_tui.commands.app_cmd": ("demo",),
    "cs_tui.commands.data_cmd": ("seed", "ingest", "export", "queue", "db"),
    "cs_tui.commands.knowledge_cmd": ("phrases", "kb", "check"),
    "cs_tui.commands.team_cmd": ("take", "claim", "assign", "reply", "audit-log", "agents"),
    "cs_tui.commands.training_cmd": ("roleplay", "audit"),
    "cs_tui.commands.report_cmd": ("report",),
    "cs_tui.commands.channels_cmd": ("channels", "deliveries"),
    "cs_tui.commands.serve_cmd": ("serve",),
    "cs_tui.commands.calendar_cmd": ("calendar",),
}
"""Each command module and the top-level commands it registers, in the order help lists them."""

WORKSTATION = ""
"""What `read_command` says for global options alone: the workstation, whose start does not
wait for the subcommands' parsers (their modules cost a fifth of its way to the first frame)."""


def add_global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", action="version", version=f"cs-tui {__version__}")
    add_store_options(parser)
    add_agent_option(parser)
    parser.add_argument("--lang", choices=("zh", "en"), help="interface language")
    parser.add_argument("--config", metavar="FILE", help="config file (TOML)")
    parser.add_argument(
        "--locked",
        action="store_true",
        help="kiosk mode for SSH logins: identity, store and role cannot be changed in the app",
    )
    parser.add_argument(
        "--no-mouse", action="store_true", help="do not ask the terminal for mouse events"
    )
    parser.set_defaults(db=None, agent=None)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with the name of a known `command`, only the module that declares it."""
    parser = argparse.ArgumentParser(
        prog="cs-tui",
        description="A keyboard-only terminal workstation for customer-service agents.",
    )
    add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    if command == WORKSTATION:
        modules = []  # declared by no module: its options are the global ones
    else:
        modules = [m for m, names in COMMANDS.items() if command in names] or list(COMMANDS)
    for name in modules:
        importlib.import_module(name).register(sub)
    return parser


class _NotGlobalOptions(Exception):
    """The arguments are not global options alone: the full parser decides what they mean."""


class _GlobalOptionsParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _NotGlobalOptions(message)


def read_command(argv: list[str]) -> str | None:
    """The command the arguments name after the global options: WORKSTATION for none at all,
    None when they do not parse as global options and a command (help, a typo, a missing
    value), which the full parser then explains.

    `cs-tui --version` exits here, before the subcommands' modules load: they import the data
    layer (SQLAlchemy, the tables), which costs several times Python's own start."""
    parser = _GlobalOptionsParser(prog="cs-tui", add_help=False)
    add_global_options(parser)
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    try:
        known, unknown = parser.parse_known_args(argv)
    except _NotGlobalOptions:
        return None
    if known.rest:
        return str(known.rest[0])
    return None if unknown else WORKSTATION


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = read_command(argv)
    try:
        return _main(argv, command)
    except Exception as exc:  # noqa: BLE001 - every bug ends in a report, never a traceback
        return _crashed(exc)


def _main(argv: list[str], command: str | None) -> int:
    from cs_tui.data.errors import StoreError
    from cs_tui.sla import PolicyError

    parser = build_parser(command)
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        from cs_tui.commands.app_cmd import run_workstation

        handler = run_workstation
    try:
        if args.locked:
            from cs_tui.commands.team_cmd import enforce_locked

            enforce_locked(args)  # fixed identity and store, no subcommands, env ignored
        return int(handler(args) or 0)
    except (UserError, StoreError, PolicyError) as exc:
        from cs_tui.safe_text import terminal_safe

        # Messages can name what the user typed or what a file held: escapes shown, not run.
        print(f"cs-tui: {terminal_safe(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cs-tui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _crashed(exc: Exception) -> int:
    from cs_tui import crash

    try:
        line = crash.one_line(exc, crash.write_report(exc, where="command line"))
    except OSError as problem:
        line = crash.one_line(exc, None, crash.describe_os_error(problem))
    print(line, file=sys.stderr, flush=True)
    return 1
