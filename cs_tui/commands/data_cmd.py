"""Data commands: seed, ingest, export, queue, db upgrade, db copy."""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from cs_tui.commands.common import current_agent, open_store, out, print_json
from cs_tui.commands.errors import UserError
from cs_tui.commands.options import add_agent_option, add_store_options

if TYPE_CHECKING:
    from cs_tui.data.store import Store
    from cs_tui.data.views import AgentInfo


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "seed", help="add synthetic conversations (for trying things and benchmarks)"
    )
    add_store_options(p)
    p.add_argument(
        "--conversations", type=int, required=True, metavar="N", help="how many (up to 1,000,000)"
    )
    p.add_argument(
        "--messages-per",
        type=int,
        default=10,
        metavar="M",
        help="messages per conversation (about)",
    )
    p.add_argument(
        "--seed", type=int, default=7, help="random seed (different seeds add different rows)"
    )
    p.set_defaults(handler=run_seed)

    p = sub.add_parser(
        "ingest",
        help="import messages from a JSONL file (or - for standard input); supervisors, once "
        "the team has one",
    )
    add_store_options(p)
    add_agent_option(p)
    p.add_argument("file", metavar="FILE|-")
    p.add_argument(
        "--rejects",
        metavar="FILE",
        help="copy rejected lines here (default: FILE.rejects.jsonl beside the input; for "
        "standard input, none: the reasons go to standard error)",
    )
    p.set_defaults(handler=run_ingest)

    p = sub.add_parser("export", help="write every message as JSONL (supervisors)")
    add_store_options(p)
    add_agent_option(p)
    p.add_argument("--out", metavar="FILE", help="output file (default: standard output)")
    p.add_argument("--include-training", action="store_true", help="also export role-play sessions")
    p.set_defaults(handler=run_export)

    p = sub.add_parser("queue", help="print the queue, most urgent first")
    add_store_options(p)
    add_agent_option(p)
    p.add_argument("--json", action="store_true", help="JSON array instead of a table")
    p.add_argument("--limit", type=int, default=50, metavar="N")
    p.add_argument("--scope", choices=("all", "mine", "unassigned", "handed"), default="all")
    p.add_argument("--channel")
    p.add_argument("--status")
    p.add_argument("--tag")
    p.add_argument("--text")
    p.set_defaults(handler=run_queue)

    db = sub.add_parser("db", help="store maintenance")
    dbsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    p = dbsub.add_parser("upgrade", help="create or upgrade the schema")
    add_store_options(p)
    p.set_defaults(handler=run_db_upgrade)
    p = dbsub.add_parser("copy", help="copy a whole store, e.g. from SQLite to PostgreSQL")
    p.add_argument("--from", dest="source", required=True, metavar="PATH_OR_URL")
    p.add_argument("--to", dest="target", required=True, metavar="PATH_OR_URL")
    p.set_defaults(handler=run_db_copy)
    p = dbsub.add_parser("info", help="what the store holds")
    add_store_options(p)
    p.set_defaults(handler=run_db_info)


def run_seed(args: argparse.Namespace) -> int:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from cs_tui.data import seed

    if not 1 <= args.conversations <= 1_000_000:
        raise UserError("--conversations must be between 1 and 1,000,000")
    if not 1 <= args.messages_per <= 200:
        raise UserError("--messages-per must be between 1 and 200")
    store = open_store(args)
    with Progress(
        TextColumn("seeding"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=False,
        disable=not sys.stderr.isatty(),
        console=None,
    ) as progress:
        task = progress.add_task("seed", total=args.conversations)
        seed.synthetic(
            store,
            conversations=args.conversations,
            messages_per=args.messages_per,
            seed=args.seed,
            progress=lambda n: progress.advance(task, n),
        )
    print(f"added {args.conversations:,} conversations to {store.location}", file=sys.stderr)
    return 0


def _ingest_source(name: str) -> Path | None:
    """The input file, or None for standard input; refused before the store is touched."""
    if name == "-":
        return None
    path = Path(name)
    if path.is_dir():
        raise UserError(f"{path} is a directory, not a JSONL file")
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise UserError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    return path


def _rejects_file(args: argparse.Namespace, source: Path | None) -> Path | None:
    """Where rejected lines are copied: --rejects, else beside the input. Standard input has
    no "beside": its reasons go to standard error only, nothing lands in the current directory."""
    from cs_tui.data.io import rejects_path, rejects_target_problem

    target = Path(args.rejects) if args.rejects else (rejects_path(source) if source else None)
    if target is not None:
        problem = rejects_target_problem(target, source)
        if problem:
            raise UserError(problem)
    return target


def _importer(store: Store, args: argparse.Namespace) -> AgentInfo:
    """Who imports. Lines speak for customers and agents, so once the team has a supervisor
    only an active supervisor imports; before that, the first-run rule of every command holds
    (the handle is registered on first use)."""
    from cs_tui.commands.common import settings_for
    from cs_tui.config import resolve_agent

    if store.has_supervisor():
        handle = resolve_agent(getattr(args, "agent", None), settings_for(args))
        actor = store.get_agent(handle)
        if actor is None:
            raise UserError(f"{handle!r} is not in this team: ingest is a supervisor command")
        if actor.role != "supervisor":
            raise UserError(f"ingest is a supervisor command: {handle!r} is not a supervisor")
    else:
        actor = current_agent(store, args)
    if not actor.active:
        raise UserError(f"{actor.handle!r} is disabled: ingest is not available")
    return actor


def run_ingest(args: argparse.Namespace) -> int:
    from cs_tui.data.io import Rejected, ingest_lines, write_rejects
    from cs_tui.safe_text import terminal_safe

    source = _ingest_source(args.file)
    reject_file = _rejects_file(args, source)
    store = open_store(args)
    actor = _importer(store, args)
    rejects: list[Rejected] = []
    # Undecodable bytes are kept (surrogateescape) so that line alone is rejected, and copied
    # to the rejects file byte for byte (newline="": line endings as they came).
    if source is None:
        cast(io.TextIOWrapper, sys.stdin).reconfigure(errors="surrogateescape", newline="")
        result = ingest_lines(store, sys.stdin, rejects, actor=actor)
    else:
        with source.open(encoding="utf-8", errors="surrogateescape", newline="") as fh:
            result = ingest_lines(store, fh, rejects, actor=actor)
    # Index the new messages for "find" now, so no agent's first search waits for them.
    store.refresh_find_index()
    name = terminal_safe(args.file)
    for rej in rejects:
        print(f"{name}:{rej.line_no}: {rej.reason}", file=sys.stderr)
    failure = None
    if reject_file is not None:
        try:
            write_rejects(reject_file, rejects)
        except OSError as exc:
            failure = f"cannot update the rejects file {reject_file}: {exc.strerror or exc}"
    copied = rejects and reject_file is not None and failure is None
    print(
        f"imported {result.imported:,} messages in {result.conversations:,} conversations; "
        f"{result.duplicates:,} already stored; {len(rejects):,} rejected"
        + (f" (copied to {reject_file})" if copied else ""),
        file=sys.stderr,
    )
    if failure:
        raise UserError(failure)
    return 1 if rejects else 0


def run_export(args: argparse.Namespace) -> int:
    from cs_tui.data.io import write_jsonl

    store = open_store(args)
    # Every customer's messages and every private note: the supervisor's call, checked before
    # an output file is created.
    rows = store.export_messages(current_agent(store, args), include_training=args.include_training)
    if args.out:
        target = Path(args.out)
        tmp = target.with_name(target.name + ".part")
        with tmp.open("w", encoding="utf-8", newline="\n") as fh:
            count = write_jsonl(rows, fh)
        tmp.replace(target)
        print(f"exported {count:,} messages to {target}", file=sys.stderr)
    else:
        write_jsonl(rows, sys.stdout)
    return 0


def run_queue(args: argparse.Namespace) -> int:
    from cs_tui.commands.rows import row_json, seconds_left
    from cs_tui.data.views import QueueFilter
    from cs_tui.durations import format_countdown
    from cs_tui.safe_text import clean

    store = open_store(args)
    viewer = current_agent(store, args)
    flt = QueueFilter(
        scope=args.scope, channel=args.channel, status=args.status, tag=args.tag, text=args.text
    )
    rows = store.queue(viewer, flt, limit=max(0, args.limit))
    now = store.clock.now()
    items: list[dict[str, Any]] = []
    for r in rows:
        remaining = seconds_left(r, now)
        state = (
            store.policy.state(remaining, r.sla_target_s).value
            if remaining is not None and r.sla_target_s is not None
            else "none"
        )
        items.append({**row_json(r, now), "sla_state": state})
    if args.json:
        print_json(items)
        return 0
    if not items:
        out("(queue is empty)")
        return 0
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False)
    # Fixed columns keep their width; the preview takes what is left (80 columns included).
    for col, width in (("SLA", 8), ("state", 8), ("id", 12), ("channel", 7), ("status", 9)):
        table.add_column(col, no_wrap=True, min_width=width, overflow="ellipsis")
    table.add_column("customer", no_wrap=True, max_width=12, overflow="ellipsis")
    table.add_column("assignee", no_wrap=True, max_width=10, overflow="ellipsis")
    table.add_column("preview", no_wrap=True, ratio=1, overflow="ellipsis")
    for item in items:
        remaining = item["remaining_s"]
        table.add_row(
            format_countdown(remaining) if remaining is not None else "—",
            item["sla_state"],
            Text(clean(item["conversation_id"], single_line=True)),
            item["channel"],
            item["status"],
            Text(clean(item["customer_name"], single_line=True)),
            Text(item["assignee"] or "-"),
            Text(clean(item["preview"], single_line=True)),
        )
    Console(highlight=False).print(table)
    return 0


def run_db_upgrade(args: argparse.Namespace) -> int:
    store = open_store(args)
    from cs_tui.data.models import SCHEMA_VERSION

    print(f"{store.location}: schema version {SCHEMA_VERSION}, up to date", file=sys.stderr)
    return 0


def run_db_info(args: argparse.Namespace) -> int:
    store = open_store(args)
    print_json(store.counts())
    return 0


def run_db_copy(args: argparse.Namespace) -> int:
    from cs_tui.data.copy import copy_store

    report = copy_store(args.source, args.target)
    for line in report.lines():
        print(line, file=sys.stderr)
    return 0 if report.ok else 1
