"""`cs-tui report`: the team KPIs of STANDARDS.md §7 for scripts and spreadsheets.

The same figures as the supervisor dashboard, from the same store queries (cs_tui.metrics and
cs_tui.data.kpi_queries; definitions in docs/metrics.md). JSON and CSV carry raw numbers
(seconds, percentages); the table formats them and shows each target with a verdict.

`--agent` here names whose figures to report. The person asking is the usual identity
(`cs-tui --agent HANDLE report ...`, $CS_TUI_AGENT, the config, the login): any active member of
the team sees the team's figures and their own; another agent's (`--agent OTHER`, `--by-agent`)
are for supervisors.
"""

from __future__ import annotations

import argparse
import csv
import sys
from typing import TYPE_CHECKING

from cs_tui.commands.errors import UserError
from cs_tui.commands.options import add_store_options

if TYPE_CHECKING:
    from cs_tui.data.store import Store

FORMATS = ("table", "csv", "json")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="team KPIs (first response, resolution, FCR, CSAT, complaints ...) against targets",
        description="KPIs of the conversations that arrived in the window, against the targets "
        "of the service standards. Role-play conversations are never counted.",
    )
    add_store_options(p)
    p.add_argument(
        "--since",
        default="1d",
        metavar="1d|7d|30d",
        help="the window: the last day, week or 30 days ending now (default 1d)",
    )
    p.add_argument(
        "--agent",
        dest="report_agent",
        metavar="HANDLE",
        help="only the conversations assigned to this agent (another agent's: supervisors)",
    )
    p.add_argument("--format", choices=FORMATS, default="table", help="output (default table)")
    p.add_argument(
        "--sample",
        type=int,
        default=None,
        metavar="N",
        help="agent messages checked for compliant language, newest first (default 2000; 0 skips)",
    )
    p.add_argument(
        "--by-agent",
        action="store_true",
        help="also list each agent's figures (table and json; supervisors)",
    )
    p.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace) -> int:
    from cs_tui.commands.common import open_store
    from cs_tui.metrics import COMPLIANCE_SAMPLE, kpis_for, parse_since, window

    try:
        days = parse_since(args.since)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    sample = COMPLIANCE_SAMPLE if args.sample is None else args.sample
    if not 0 <= sample <= 100_000:
        raise UserError("--sample must be between 0 and 100,000")
    store = open_store(args)
    try:
        agent_id = _subject(store, args)
        start, end = window(store.clock.now(), days)
        kpis = kpis_for(store, start, end, agent_id=agent_id, sample=sample)
        by_agent = store.kpi_by_agent(start, end) if args.by_agent and agent_id is None else []
    finally:
        store.dispose()
    data = {"since": args.since, "agent": args.report_agent, **kpis.as_dict()}
    if args.format == "json":
        from cs_tui.commands.common import print_json

        if args.by_agent:
            data["agents_detail"] = [vars(r) for r in by_agent]
        print_json(data)
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        keys = list(data)
        writer.writerow(keys)
        writer.writerow(["" if data[k] is None else data[k] for k in keys])
    else:
        print_table(data, by_agent)
    return 0


def _subject(store: Store, args: argparse.Namespace) -> int | None:
    """The id of the agent whose figures were asked for (None: the team), once the person asking
    may see them."""
    from cs_tui.commands.common import current_agent

    viewer = current_agent(store, args)
    if args.report_agent and args.report_agent != viewer.handle:
        store.require_supervisor(viewer, "see another agent's figures")
    if args.by_agent:
        store.require_supervisor(viewer, "see each agent's figures")
    if not args.report_agent:
        return None
    agent = store.get_agent(args.report_agent)
    if agent is None:
        raise UserError(f"no agent {args.report_agent!r}")
    return agent.id


def print_table(data: dict, by_agent: list) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from cs_tui.metrics import kpi_rows

    console = Console(highlight=False)
    who = f" for {data['agent']}" if data.get("agent") else ""
    span = f"{_minute(data['start'])} .. {_minute(data['end'])} UTC"
    console.print(Text(f"KPIs{who}, last {data['since']}: conversations created {span}"))
    table = Table(box=None, pad_edge=False)
    for col in ("figure", "value", "target", ""):
        table.add_column(col, no_wrap=True)
    for row in kpi_rows(data, business=True):
        table.add_row(*(Text(c) for c in row))
    console.print(table)
    if by_agent:
        from cs_tui.metrics import format_value
        from cs_tui.safe_text import clean

        agents = Table(box=None, pad_edge=False)
        for col in ("agent", "conversations", "resolved", "transferred", "FRT avg", "CSAT"):
            agents.add_column(col, no_wrap=True)
        for r in by_agent:
            agents.add_row(
                Text(clean(r.handle, single_line=True)),
                f"{r.conversations:,}",
                f"{r.resolved:,}",
                f"{r.transferred:,}",
                format_value("frt_avg_s", r.frt_avg_s),
                "-" if r.csat_avg is None else f"{r.csat_avg:.2f}",
            )
        console.print()
        console.print(agents)


def _minute(iso: str) -> str:
    return iso[:16].replace("T", " ")
