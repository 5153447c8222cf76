"""Helpers shared by the subcommands: opening the store, knowing who is asking, printing."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cs_tui.clock import Clock
from cs_tui.config import Settings, load_settings, resolve_agent, resolve_store
from cs_tui.safe_text import terminal_safe

if TYPE_CHECKING:
    from cs_tui.data.store import Store
    from cs_tui.data.views import AgentInfo


def settings_for(args: argparse.Namespace) -> Settings:
    from pathlib import Path

    from cs_tui.commands.errors import UserError
    from cs_tui.config import ConfigError

    path = getattr(args, "config", None)
    try:
        return load_settings(Path(path) if path else None)
    except ConfigError as exc:
        raise UserError(str(exc)) from None


def open_store(args: argparse.Namespace, *, clock: Clock | None = None) -> Store:
    """The store named by --db, $CS_TUI_DB, the config file, or the default path."""
    from cs_tui.data.store import Store  # SQLAlchemy: loaded by the commands that open a store
    from cs_tui.sla import load_policy

    settings = settings_for(args)
    target = resolve_store(getattr(args, "db", None), settings)
    policy = load_policy(settings.sla_policy) if settings.sla_policy else None
    return Store.open(target, clock=clock, policy=policy)


def current_agent(store: Store, args: argparse.Namespace) -> AgentInfo:
    """Who runs this command: a member of the team who is not disabled (an unknown handle is
    registered only while the team has no supervisor; see Store.sign_in)."""
    settings = settings_for(args)
    handle = resolve_agent(getattr(args, "agent", None), settings)
    return store.sign_in(handle)


def print_json(value: object) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def out(text: str) -> None:
    """Print text that may hold customer input: escape codes never reach the terminal."""
    sys.stdout.write(terminal_safe(text) + "\n")


def print_problems(problems: Sequence[object]) -> bool:
    """A `check` command's findings: each problem on a line, their count on stderr. True when
    there were any (the command exits 1)."""
    for problem in problems:
        out(str(problem))
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
    return bool(problems)
