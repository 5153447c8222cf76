"""`cs-tui` (no subcommand) opens the workstation; `cs-tui demo` opens it on a demo store.

Textual is imported only when the workstation really starts, so the other subcommands stay
quick, and TEXTUAL_COLOR_SYSTEM from the config is in place before Textual reads it. An SQLite
store that needs nothing done to it opens behind the workstation's first frame
(`cs_tui.data.opening`): its first rows are drawn before SQLAlchemy is even loaded.
"""

from __future__ import annotations

import argparse
import os
from functools import partial
from typing import TYPE_CHECKING

from cs_tui.commands.common import current_agent, open_store, settings_for

if TYPE_CHECKING:
    from cs_tui.clock import Clock
    from cs_tui.config import Settings
    from cs_tui.data.store import Store
    from cs_tui.data.training_store import TrainingSessionView
    from cs_tui.data.views import AgentInfo

DEMO_AGENT = "alice"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="open the workstation on a demo store (created on first use) as a demo agent",
    )
    # SUPPRESS: options given before the subcommand (`cs-tui --db X demo`) are kept.
    p.add_argument(
        "--db",
        metavar="PATH_OR_URL",
        default=argparse.SUPPRESS,
        help="demo store (default: demo.db in the user data directory)",
    )
    p.add_argument(
        "--agent",
        metavar="HANDLE",
        default=argparse.SUPPRESS,
        help=f"demo agent: alice, bob, carol, sam (supervisor) (default: {DEMO_AGENT})",
    )
    p.add_argument("--lang", choices=("zh", "en"), default=argparse.SUPPRESS)
    p.add_argument("--locked", action="store_true", default=argparse.SUPPRESS)
    p.add_argument("--no-mouse", action="store_true", default=argparse.SUPPRESS)
    p.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from cs_tui.config import demo_store_path
    from cs_tui.data import seed

    if not getattr(args, "db", None):
        args.db = str(demo_store_path())
    if not getattr(args, "agent", None):
        args.agent = DEMO_AGENT
    from cs_tui.data.demo_lease import DemoLease

    store = open_store(args)
    try:
        # Held while the demo runs: a second launch meanwhile leaves this one's times alone.
        with DemoLease(store) as lease:
            seed.write_demo(store, lease=lease)
            lease.share()
            return _run(store, current_agent(store, args), args)
    finally:
        store.dispose()


def run_workstation(args: argparse.Namespace) -> int:
    store, agent = workstation_store(args, settings_for(args))
    try:
        code = _run(store, agent, args)
        _report_failed_opening(store)
        return code
    finally:
        store.dispose()


def workstation_store(args: argparse.Namespace, settings: Settings) -> tuple[Store, AgentInfo]:
    """The store the workstation runs on and who signs in. An SQLite store whose first window
    the first look can read is opened behind the first frame; any other store, and a locked
    login (which may land in a waiting role-play session), is opened and signed into here."""
    if not getattr(args, "locked", False):
        from cs_tui.clock import SystemClock
        from cs_tui.config import resolve_agent, resolve_store
        from cs_tui.data.first_look import look
        from cs_tui.data.opening import OpeningStore
        from cs_tui.sla import default_policy, load_policy

        policy = load_policy(settings.sla_policy) if settings.sla_policy else default_policy()
        target = resolve_store(getattr(args, "db", None), settings)
        first = look(target, resolve_agent(getattr(args, "agent", None), settings), policy)
        if first is not None:
            clock = SystemClock()
            # Signed in again once open: refused then if disabled since the first look.
            opener = partial(_signed_in, args, clock)
            return OpeningStore(first, lambda: opener()[0], clock, policy), first.agent
    return _signed_in(args)


def _signed_in(args: argparse.Namespace, clock: Clock | None = None) -> tuple[Store, AgentInfo]:
    """The store opened and the agent signed in; the store let go if signing in fails."""
    store = open_store(args, clock=clock)
    try:
        return store, current_agent(store, args)
    except BaseException:
        store.dispose()
        raise


def _report_failed_opening(store: Store) -> None:
    """A store that could not be opened behind the first frame ends the app (CsApp); its
    error is raised here, after the terminal is back, as any store error is reported."""
    from cs_tui.data.opening import OpeningStore

    if isinstance(store, OpeningStore):
        error = store.failure()
        if error is not None:
            raise error


def _run(store: Store, agent: AgentInfo, args: argparse.Namespace) -> int:
    from cs_tui.config import resolve_lang

    settings = settings_for(args)
    if settings.color_system and "TEXTUAL_COLOR_SYSTEM" not in os.environ:
        os.environ["TEXTUAL_COLOR_SYSTEM"] = settings.color_system
    lang = resolve_lang(getattr(args, "lang", None), settings)
    mouse = settings.mouse and not getattr(args, "no_mouse", False)

    locked = bool(getattr(args, "locked", False))
    session = waiting_live_session(store, agent) if locked else None
    if session is not None:
        # A locked (SSH) login cannot run `cs-tui roleplay join`: a trainee whose trainer has
        # a live session waiting lands in it; the next login after it ends is a normal one.
        from cs_tui.roleplay import ScenarioError, find_scenario
        from cs_tui.screens.roleplay import TraineeApp

        try:
            scenario = find_scenario(session.scenario_id, settings)
        except ScenarioError:
            scenario = None
        if scenario is not None:
            session = store.join_session(session.id, scenario, agent)  # the clock starts now
            trainee = TraineeApp(
                store, agent, session, scenario, lang=lang, settings=settings, locked=True
            )
            trainee.run(mouse=mouse)
            return trainee.return_code or 0

    from cs_tui.app import CsApp

    app = CsApp(store, agent, store.clock, lang=lang, settings=settings, locked=locked)
    app.run(mouse=mouse)
    return app.return_code or 0


def waiting_live_session(store: Store, agent: AgentInfo) -> TrainingSessionView | None:
    """The live role-play session a trainer has opened for this agent, if one is waiting."""
    session = store.open_session_for(agent.handle)
    if session is None or session.finished or session.mode != "live":
        return None
    return session
