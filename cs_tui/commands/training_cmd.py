"""`cs-tui roleplay ...` and `cs-tui audit`: role-play training and scorecards.

cs-tui roleplay list                      the scenarios (shipped and the team's)
cs-tui roleplay check [PATH...]           validate scenario files (file:line problems)
cs-tui roleplay run SCENARIO              solo: your workstation with a scripted customer
cs-tui roleplay trainer SCENARIO --trainee HANDLE
                                          live: you play the customer for a trainee
cs-tui roleplay join [SESSION]            trainee: open your live session
cs-tui roleplay report SESSION [--format md|json]
cs-tui roleplay sessions [--trainee HANDLE] [--json]   sessions with the trend
cs-tui roleplay score SCENARIO --transcript FILE.jsonl [--json]
cs-tui audit CONVERSATION_ID [--json] [--scenario SCENARIO]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cs_tui.commands.errors import UserError
from cs_tui.commands.options import add_command

if TYPE_CHECKING:
    from cs_tui.app_base import CsAppBase
    from cs_tui.config import Settings
    from cs_tui.data.store import Store
    from cs_tui.data.training_store import TrainingSessionView
    from cs_tui.data.views import AgentInfo
    from cs_tui.roleplay import Scenario

SPARK = "▁▂▃▄▅▆▇█"


def _scenario_argument(parser: argparse.ArgumentParser, *, optional: bool = False) -> None:
    nargs = "?" if optional else None
    parser.add_argument(
        "scenario", metavar="SCENARIO", nargs=nargs, help="scenario id or .toml file"
    )


def _ui_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=("zh", "en"), default=argparse.SUPPRESS)
    parser.add_argument("--no-mouse", action="store_true", default=argparse.SUPPRESS)


def _card_options(parser: argparse.ArgumentParser) -> None:
    """How a scorecard is printed: Markdown, or JSON (--json is --format json)."""
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--format", choices=("md", "json"), default=None)


def register(subparsers: argparse._SubParsersAction) -> None:
    rp = subparsers.add_parser(
        "roleplay",
        help="role-play training: scenarios, sessions and scorecards",
        description="Role-play training: a scripted or trainer-played customer, and a "
        "scorecard against the service standards.",
    )
    sub = rp.add_subparsers(dest="roleplay_command", metavar="ACTION", required=True)

    p = add_command(sub, "list", cmd_list, store=False, help="list the scenarios")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--lang", choices=("zh", "en"), help="only scenarios in this language")

    p = add_command(
        sub,
        "check",
        cmd_check,
        store=False,
        help="validate scenario files",
        description="Validate scenarios: TOML syntax, persona, rubric weights (they add up to "
        "100), turns and their patterns. Without PATH: the scenarios the app loads. Exit "
        "status 1 when there are problems.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="scenario files or folders")

    p = add_command(
        sub,
        "run",
        cmd_run,
        help="solo role-play: your workstation with a scripted customer",
        description="Start a solo session: the workstation opens with the scenario's customer "
        "in one training conversation; the customer answers by script. F8 ends the session "
        "and shows the scorecard.",
    )
    _scenario_argument(p)
    _ui_options(p)

    p = add_command(
        sub,
        "trainer",
        cmd_trainer,
        help="live role-play: play the customer for a trainee",
        description="Start (or, with --session, resume) a live session: you type as the "
        "customer, see the trainee's replies and the rubric as they arrive, and say scripted "
        "turns with keys 1-9. The trainee opens it with `cs-tui roleplay join`.",
    )
    _scenario_argument(p, optional=True)
    p.add_argument("--trainee", metavar="HANDLE", help="who is being trained")
    p.add_argument("--session", type=int, metavar="ID", help="resume this live session")
    _ui_options(p)

    p = add_command(
        sub,
        "join",
        cmd_join,
        help="trainee: open your live role-play session",
        description="Open the workstation on your newest unfinished role-play session "
        "(or the one given).",
    )
    p.add_argument("session", type=int, nargs="?", metavar="SESSION")
    _ui_options(p)

    p = add_command(sub, "report", cmd_report, help="export a session's scorecard")
    p.add_argument("session", type=int, metavar="SESSION")
    p.add_argument("--format", choices=("md", "json"), default="md")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")

    p = add_command(sub, "sessions", cmd_sessions, help="a trainee's sessions and their trend")
    p.add_argument("--trainee", metavar="HANDLE", help="default: you")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--limit", type=int, default=50)

    p = add_command(
        sub,
        "score",
        cmd_score,
        store=False,
        help="score a transcript file with a scenario's rubric",
        description="Score a JSONL transcript (the project's message format) with the rubric "
        "of SCENARIO.",
    )
    _scenario_argument(p)
    p.add_argument("--transcript", required=True, metavar="FILE.jsonl")
    p.add_argument("--conversation", metavar="ID", help="the conversation, if the file has several")
    _card_options(p)

    p = add_command(
        subparsers,
        "audit",
        cmd_audit,
        help="score a stored conversation with the role-play rubric",
        description="Score a real (or role-play) conversation like a mystery-shopper audit: "
        "response times, phrases to avoid, the elements of a good reply. Supervisors and "
        "trainers audit any conversation; agents their own.",
    )
    p.add_argument("conversation", metavar="CONVERSATION_ID", help="external id or #id")
    p.add_argument("--scenario", metavar="SCENARIO", help="score with this scenario's rubric")
    _card_options(p)


# -- helpers ---------------------------------------------------------------------------------


def _settings(args: argparse.Namespace) -> Settings:
    from cs_tui.commands.common import settings_for

    return settings_for(args)


def _scenario(name: str, args: argparse.Namespace) -> Scenario:
    from cs_tui.roleplay import ScenarioError, find_scenario

    try:
        return find_scenario(name, _settings(args))
    except ScenarioError as exc:
        raise UserError(str(exc)) from None


def _write(text: str, out: str | None) -> None:
    from cs_tui.commands.common import out as print_safe

    if out:
        Path(out).write_text(text, encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)
    else:
        print_safe(text.rstrip("\n"))


def _emit_card(card: dict[str, Any], fmt: str, out: str | None = None) -> None:
    import json

    from cs_tui.roleplay import render_markdown

    if fmt == "json":
        _write(json.dumps(card, ensure_ascii=False, indent=2, default=str) + "\n", out)
    else:
        _write(render_markdown(card), out)


def _lang(args: argparse.Namespace, settings: Settings) -> str:
    from cs_tui.config import resolve_lang

    return resolve_lang(getattr(args, "lang", None), settings)


# -- scenarios -------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    from cs_tui.commands.common import out, print_json
    from cs_tui.roleplay import load_scenarios

    loaded = load_scenarios(_settings(args))
    for problem in loaded.problems:
        print(f"cs-tui: {problem}", file=sys.stderr)
    scenarios = [s for s in loaded.scenarios if not args.lang or s.lang == args.lang]
    scenarios.sort(key=lambda s: (s.lang, s.id))
    if args.json:
        print_json([s.summary() for s in scenarios])
        return 0
    for s in scenarios:
        minutes = f"{s.time_limit_s / 60:g}m"
        out(f"{s.id:<32} {s.lang}  {s.category:<11} {s.persona.emotion:<8} {minutes:>4}  {s.title}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from cs_tui.commands.common import out, print_problems
    from cs_tui.roleplay import check_paths, load_scenarios

    settings = None if args.paths else _settings(args)
    if print_problems(check_paths(args.paths, settings)):
        return 1
    if args.paths:
        out("all scenarios are valid")
    else:
        out(f"all {len(load_scenarios(settings).scenarios)} scenarios are valid")
    return 0


# -- playing ---------------------------------------------------------------------------------


@contextmanager
def _open(args: argparse.Namespace) -> Iterator[tuple[Store, AgentInfo]]:
    """The store and the signed-in agent, the store disposed of on the way out."""
    from cs_tui.commands.common import current_agent, open_store

    store = open_store(args)
    try:
        yield store, current_agent(store, args)
    finally:
        store.dispose()


def _run_app(app: CsAppBase, args: argparse.Namespace, settings: Settings) -> int:
    import os

    if settings.color_system and "TEXTUAL_COLOR_SYSTEM" not in os.environ:
        os.environ["TEXTUAL_COLOR_SYSTEM"] = settings.color_system
    mouse = settings.mouse and not getattr(args, "no_mouse", False)
    app.run(mouse=mouse)
    return app.return_code or 0


def _play(
    role: str,
    store: Store,
    agent: AgentInfo,
    session: TrainingSessionView,
    scenario: Scenario,
    args: argparse.Namespace,
    settings: Settings,
) -> int:
    """Run the session's app until it closes: the trainee's workstation, or the trainer's
    console (role "trainer"); then say where the scorecard is."""
    from cs_tui.screens.roleplay import TraineeApp, TrainerApp

    app_class = TrainerApp if role == "trainer" else TraineeApp
    app = app_class(store, agent, session, scenario, lang=_lang(args, settings), settings=settings)
    code = _run_app(app, args, settings)
    _after(store, session.id)
    return code


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    scenario = _scenario(args.scenario, args)
    with _open(args) as (store, agent):
        session = store.start_session(agent, scenario, "solo")
        return _play("trainee", store, agent, session, scenario, args, settings)


def cmd_join(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _open(args) as (store, agent):
        if args.session is not None:
            session = store.session(args.session, viewer=agent)
            if session.trainee != agent.handle:
                raise UserError(f"session #{session.id} trains {session.trainee}, not you")
        else:
            found = store.open_session_for(agent.handle)
            if found is None:
                raise UserError(
                    f"no role-play session is waiting for {agent.handle}; "
                    "ask your trainer to start one"
                )
            session = found
        if session.finished:
            raise UserError(f"session #{session.id} has ended; see `cs-tui roleplay report`")
        scenario = _scenario(session.scenario_id, args)
        session = store.join_session(session.id, scenario, agent)  # the clock starts now
        return _play("trainee", store, agent, session, scenario, args, settings)


def cmd_trainer(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _open(args) as (store, agent):
        if args.session is not None:
            session = store.session(args.session, viewer=agent)
            if session.finished:
                raise UserError(f"session #{session.id} has ended")
            scenario = _scenario(session.scenario_id, args)
        else:
            if not args.scenario or not args.trainee:
                raise UserError("give SCENARIO and --trainee HANDLE (or --session ID)")
            scenario = _scenario(args.scenario, args)
            trainee = store.get_agent(args.trainee)
            if trainee is None:
                raise UserError(f"no agent {args.trainee!r}")
            session = store.start_session(trainee, scenario, "live", trainer=agent)
            _tell_join_hint(session)
        return _play("trainer", store, agent, session, scenario, args, settings)


def join_hint(session: TrainingSessionView) -> str:
    """What the trainer tells the trainee (also shown in the console while it waits)."""
    return f"ask {session.trainee} to run `cs-tui roleplay join {session.id}`"


def _tell_join_hint(session: TrainingSessionView) -> None:
    """Say how the trainee joins before the console takes the screen (the alternate screen
    would hide a line printed just before it): on a terminal, wait for Enter."""
    print(f"session #{session.id}: {join_hint(session)}", file=sys.stderr, flush=True)
    if sys.stdin.isatty() and sys.stderr.isatty():
        print(
            f"press Enter to open the trainer's console (ctrl+c: later, with "
            f"`cs-tui roleplay trainer --session {session.id}`)",
            file=sys.stderr,
            flush=True,
        )
        sys.stdin.readline()


def _after(store: Store, session_id: int) -> None:
    """After the app closes: say where the scorecard is."""
    session = store.session(session_id)
    if session.finished:
        print(
            f"session #{session.id}: {session.total:g} / {session.max_points:g}; "
            f"`cs-tui roleplay report {session.id}` exports the scorecard",
            file=sys.stderr,
        )
    else:
        print(
            f"session #{session.id} is still open; `cs-tui roleplay join {session.id}` resumes it",
            file=sys.stderr,
        )


# -- scorecards ------------------------------------------------------------------------------


def cmd_report(args: argparse.Namespace) -> int:
    from cs_tui.roleplay.play import session_card

    with _open(args) as (store, agent):
        session = store.session(args.session, viewer=agent)
        if session.finished:
            card = session.scorecard
        else:
            scenario = _scenario(session.scenario_id, args)
            card = session_card(store, session, scenario).to_json()
            card["provisional"] = True
            print(f"session #{session.id} is still running: a provisional card", file=sys.stderr)
        _emit_card(card, args.format, args.out)
        return 0


def trend(percents: list[float]) -> dict[str, Any]:
    """First, last, best, mean, the change from the first to the last, and the least-squares
    slope in points per session (positive: getting better)."""
    if not percents:
        return {"sessions": 0}
    n = len(percents)
    mean = sum(percents) / n
    slope = 0.0
    if n > 1:
        xbar = (n - 1) / 2
        num = sum((i - xbar) * (p - mean) for i, p in enumerate(percents))
        den = sum((i - xbar) ** 2 for i in range(n))
        slope = num / den
    return {
        "sessions": n,
        "first": percents[0],
        "last": percents[-1],
        "best": max(percents),
        "mean": round(mean, 1),
        "change": round(percents[-1] - percents[0], 1),
        "slope": round(slope, 2),
        "sparkline": sparkline(percents),
    }


def sparkline(values: list[float]) -> str:
    return "".join(SPARK[min(len(SPARK) - 1, int(max(0.0, v) / 100 * len(SPARK)))] for v in values)


def cmd_sessions(args: argparse.Namespace) -> int:
    from cs_tui.commands.common import out, print_json

    with _open(args) as (store, agent):
        handle = args.trainee or agent.handle
        if handle != agent.handle and agent.role not in ("supervisor", "trainer"):
            raise UserError("only trainers and supervisors see other agents' sessions")
        sessions = store.sessions_for(handle, limit=args.limit)
        percents = [s.percent for s in sessions if s.percent is not None]
        summary = trend(percents)
        if args.json:
            print_json(
                {"trainee": handle, "sessions": [s.to_json() for s in sessions], "trend": summary}
            )
            return 0
        if not sessions:
            out(f"{handle} has no role-play sessions yet")
            return 0
        for s in sessions:
            score_text = (
                f"{s.total:g}/{s.max_points:g} ({s.percent:g}%)" if s.finished else "running"
            )
            started = s.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
            out(f"#{s.id:<5} {started}  {s.mode:<4}  {score_text:<20} {s.scenario_id}")
        if percents:
            out(
                f"trend {summary['sparkline']}  first {summary['first']:g}% → last "
                f"{summary['last']:g}% ({summary['change']:+g}), mean {summary['mean']:g}%, "
                f"{summary['slope']:+g} per session"
            )
        return 0


def _fmt(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    return "json" if args.json else "md"


def cmd_score(args: argparse.Namespace) -> int:
    from cs_tui.roleplay import Rubric, score
    from cs_tui.roleplay.play import TranscriptError, read_transcript

    scenario = _scenario(args.scenario, args)
    try:
        lines = read_transcript(args.transcript, args.conversation)
    except TranscriptError as exc:
        raise UserError(str(exc)) from None
    card = score(lines, Rubric.for_scenario(scenario)).to_json()
    card["transcript"] = str(args.transcript)
    _emit_card(card, _fmt(args))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from cs_tui.data.errors import NotAllowed
    from cs_tui.roleplay.play import audit_conversation

    with _open(args) as (store, agent):
        conversation_id = store.conversation_id(args.conversation.lstrip("#"))
        row = store.queue_row(conversation_id)
        if agent.role not in ("supervisor", "trainer") and row.assignee != agent.handle:
            raise NotAllowed("agents audit their own conversations; ask a supervisor")
        scenario = _scenario(args.scenario, args) if args.scenario else None
        card = audit_conversation(store, conversation_id, scenario).to_json()
        _emit_card(card, _fmt(args))
        return 0
