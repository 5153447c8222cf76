"""Team commands: take, claim, assign, reply, agents, audit-log; and what --locked means.

These post through the same Store methods as the workstation, so the store's rules apply to
scripts too: an agent replies only in conversations assigned to them, only supervisors move other
agents' work, and every change leaves an audit event with actor and time. `reply` runs the
workstation's checks of a draft (cs_tui.reply_check) before anything is sent.

Who is asking: --agent, then $CS_TUI_AGENT, then the config file, then the login name. Once the
store has a supervisor, an unknown handle is refused rather than registered on the fly: joining
the team is a supervisor's decision (`cs-tui agents add`). A disabled agent may only read their
own audit log.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cs_tui.commands.common import open_store, out, print_json, settings_for
from cs_tui.commands.errors import UserError
from cs_tui.commands.options import add_command
from cs_tui.commands.rows import row_json
from cs_tui.data.views import ROLES, AgentInfo, EventView, QueueRow
from cs_tui.safe_text import terminal_safe

if TYPE_CHECKING:
    from cs_tui.data.store import Store
    from cs_tui.reply_check import ReplyFinding

# Environment that could change who or where a locked session is. Over SSH a client can only set
# what sshd's AcceptEnv lets through, but a forced command must not depend on that.
LOCKED_SCRUB = (
    "CS_TUI_DB",
    "CS_TUI_AGENT",
    "CS_TUI_CONFIG",
    "CS_TUI_CONFIG_DIR",
    "CS_TUI_DATA_DIR",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "SSH_ORIGINAL_COMMAND",
)


def has_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def enforce_locked(args: argparse.Namespace) -> None:
    """`--locked` (an SSH forced command): one fixed identity and store, the workstation only.

    The identity must be on the command line (`--agent`); the store comes from `--db` or the
    config file, never from the environment; no subcommand runs. Whatever the SSH client asked to
    run stays in SSH_ORIGINAL_COMMAND, which is dropped unread.
    """
    from cs_tui.commands.errors import UserError

    if getattr(args, "command", None) not in (None, "demo"):  # demo opens the workstation too
        raise UserError(
            f"--locked opens the workstation only: {args.command!r} is not available here"
        )
    if not getattr(args, "agent", None):
        raise UserError("--locked needs the identity on the command line: --agent HANDLE")
    if not has_terminal():
        # `ssh -T` gets no pty: the app would draw into a pipe and, once the client is gone,
        # keep running with nobody at the keyboard.
        raise UserError("--locked needs a terminal: connect with `ssh -t`")
    for name in LOCKED_SCRUB:
        os.environ.pop(name, None)
    _scrub_textual_environment()


TEXTUAL_COLOR_SYSTEMS = frozenset({"auto", "standard", "256", "truecolor", "windows"})


def _scrub_textual_environment() -> None:
    """Drop every Textual setting from the environment before Textual is imported.

    They redirect output or change what runs: TEXTUAL_LOG writes a log file, TEXTUAL_SCREENSHOT
    saves the screen (customer text) as SVG, TEXTUAL_DEVTOOLS_* sends everything to a devtools
    server, TEXTUAL_DRIVER imports a class by name, TEXTUAL_PRESS types keys, TEXTUAL=headless
    runs with nobody at the keyboard. Only a known colour system is kept: over SSH a login
    wrapper sets it because ssh does not forward COLORTERM.
    """
    for name in [n for n in os.environ if n == "TEXTUAL" or n.startswith("TEXTUAL_")]:
        if name == "TEXTUAL_COLOR_SYSTEM" and os.environ[name] in TEXTUAL_COLOR_SYSTEMS:
            continue
        del os.environ[name]


def _json_option(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    parser.add_argument("--json", action="store_true", help=help)


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "take",
        run_take,
        help="claim the most urgent unassigned conversation you may serve and print it",
    )
    p.add_argument("--channel", help="only this channel (chat, phone, email, ...)")
    _json_option(p, "print the conversation as JSON")

    p = add_command(sub, "claim", run_claim, help="claim one unassigned conversation")
    p.add_argument("conversation", metavar="CONVERSATION_ID")
    _json_option(p)

    p = add_command(
        sub,
        "assign",
        run_assign,
        help="hand a conversation to another agent (your own; supervisors: any)",
    )
    p.add_argument("conversation", metavar="CONVERSATION_ID")
    p.add_argument("--to", required=True, metavar="HANDLE", help="the agent who takes it over")
    _json_option(p)

    p = add_command(
        sub,
        "reply",
        run_reply,
        help="send a reply in a conversation assigned to you, after the workstation's checks",
        description="The reply is checked like a draft in the workstation: an unfilled "
        "{placeholder}, phrases to avoid, a language other than the customer's. With a finding "
        "nothing is sent and the exit status is 2.",
    )
    p.add_argument("conversation", metavar="CONVERSATION_ID")
    p.add_argument("text", metavar="TEXT", help="the reply; - reads it from standard input")
    _json_option(p, "print the stored message (or the findings) as JSON")
    p.add_argument(
        "--force",
        action="store_true",
        help="send despite phrases to avoid or a language mismatch (never with a blank unfilled)",
    )

    p = add_command(
        sub, "audit-log", run_audit, help="who did what and when (supervisors see everyone)"
    )
    p.add_argument("--conversation", metavar="CONVERSATION_ID", help="only this conversation")
    p.add_argument("--limit", type=int, default=50, metavar="N")
    _json_option(p)

    agents = sub.add_parser("agents", help="the team: list, add, set-role, disable, online")
    asub = agents.add_subparsers(dest="agents_command", metavar="ACTION", required=True)
    p = add_command(asub, "list", run_agents_list, help="everyone in the team")
    _json_option(p)
    p = add_command(
        asub,
        "online",
        run_agents_online,
        help="agents whose workstation is running now (supervisors)",
    )
    _json_option(p)
    p = add_command(
        asub, "add", run_agents_add, help="add an agent (supervisors, once there is one)"
    )
    p.add_argument("handle", metavar="HANDLE")
    p.add_argument("--name", help="display name (default: the handle)")
    p.add_argument("--role", choices=ROLES, default="agent")
    p = add_command(
        asub, "set-role", run_agents_set_role, help="change an agent's role (supervisors)"
    )
    p.add_argument("handle", metavar="HANDLE")
    p.add_argument("role", choices=ROLES)
    p = add_command(
        asub, "disable", run_agents_disable, help="disable an agent: no more replies or claims"
    )
    p.add_argument("handle", metavar="HANDLE")
    p = add_command(asub, "enable", run_agents_enable, help="enable a disabled agent again")
    p.add_argument("handle", metavar="HANDLE")


def with_store(
    run: Callable[[argparse.Namespace, Store], int],
) -> Callable[[argparse.Namespace], int]:
    """Open the store the command names, run, and close it (in-process callers reuse main())."""

    @functools.wraps(run)
    def wrapper(args: argparse.Namespace) -> int:
        with open_store(args) as store:
            return run(args, store)

    return wrapper


# -- who is asking -----------------------------------------------------------------------


def _handle(args: argparse.Namespace) -> str:
    from cs_tui.config import resolve_agent

    return resolve_agent(getattr(args, "agent", None), settings_for(args))


def acting_agent(store: Store, args: argparse.Namespace, *, audit_only: bool = False) -> AgentInfo:
    """The agent running this command (the store's rules: see Store.sign_in)."""
    return store.sign_in(_handle(args), audit_only=audit_only)


def manager(store: Store, args: argparse.Namespace) -> AgentInfo | None:
    """The actor of a team change; None while the team has no supervisor yet (bootstrap)."""
    handle = _handle(args)
    found = store.get_agent(handle)
    if found is None and store.has_supervisor():
        raise UserError(f"{handle!r} is not in this team: only a supervisor may change the team")
    return found


# -- work --------------------------------------------------------------------------------


def row_dict(store: Store, row: QueueRow) -> dict[str, Any]:
    return {**row_json(row, store.clock.now()), "id": row.id}


def _row_line(store: Store, verb: str, row: QueueRow) -> str:
    from cs_tui.durations import format_countdown
    from cs_tui.safe_text import clean

    due = ""
    if row.due_at is not None:
        left = (row.due_at - store.clock.now()).total_seconds()
        clock = (row.sla_clock or "reply").replace("_", " ")
        due = f"  {clock} {'due in' if left >= 0 else 'overdue'} {format_countdown(abs(left))}"
    name = clean(row.customer_name, single_line=True)
    preview = clean(row.preview, single_line=True)[:60]
    return f"{verb} {row.external_id}  {row.channel}/{row.category}/{row.priority}  {name}{due}" + (
        f"\n  {preview}" if preview else ""
    )


def _print_row(args: argparse.Namespace, store: Store, verb: str, row: QueueRow) -> int:
    if args.json:
        print_json(row_dict(store, row))
    else:
        out(_row_line(store, verb, row))
    return 0


@with_store
def run_take(args: argparse.Namespace, store: Store) -> int:
    actor = acting_agent(store, args)
    row = store.take_next(actor, channel=args.channel)
    if row is None:
        where = f" on {args.channel}" if args.channel else ""
        print(
            f"cs-tui: nothing to take{where}: no unassigned conversation is waiting",
            file=sys.stderr,
        )
        return 1
    return _print_row(args, store, "took", row)


@with_store
def run_claim(args: argparse.Namespace, store: Store) -> int:
    actor = acting_agent(store, args)
    cid = store.conversation_id(args.conversation)
    if not store.claim(actor, cid):
        owner = store.queue_row(cid).assignee
        print(
            f"cs-tui: {args.conversation} is already {'yours' if owner == actor.handle else 'taken by ' + str(owner)}",
            file=sys.stderr,
        )
        return 1
    return _print_row(args, store, "claimed", store.queue_row(cid))


@with_store
def run_assign(args: argparse.Namespace, store: Store) -> int:
    actor = acting_agent(store, args)
    cid = store.conversation_id(args.conversation)
    row = store.assign(actor, cid, args.to)
    if args.json:
        print_json(row_dict(store, row))
    else:
        out(f"{row.external_id} is now {row.assignee}'s")
    return 0


def _customer_lang(store: Store, actor: AgentInfo, conversation_id: int) -> str | None:
    """The language of the customer's latest messages, as the workstation tells it."""
    from cs_tui.compliance import detect_lang

    messages = store.conversation(conversation_id, viewer=actor).messages
    texts = [m.body for m in messages if m.author_kind == "customer"][-3:]
    return detect_lang(" ".join(texts)) if texts else None


def _finding_line(where: str, finding: ReplyFinding) -> str:
    line = f"{where}:{finding.start}: {finding.kind}: 「{finding.phrase}」 {finding.why}"
    return terminal_safe(f"{line}; {finding.suggestion}" if finding.suggestion else line)


def _refuse_reply(args: argparse.Namespace, findings: list[ReplyFinding]) -> int:
    """Nothing was sent: say why, one finding a line (or one JSON object), exit 2."""
    blanks = any(f.blocks for f in findings)
    if args.json:
        print_json(
            {
                "sent": False,
                "conversation_id": args.conversation,
                "findings": [f.as_dict() for f in findings],
            }
        )
    for finding in findings:
        print(_finding_line(args.conversation, finding), file=sys.stderr)
    if blanks:
        why = "a blank of the quick reply is still unfilled (--force never sends that)"
    else:
        why = "check the reply, or send it as it is with --force"
    print(f"cs-tui: not sent: {why}", file=sys.stderr)
    return 2


@with_store
def run_reply(args: argparse.Namespace, store: Store) -> int:
    from cs_tui.reply_check import reply_findings

    actor = acting_agent(store, args)
    text = sys.stdin.read() if args.text == "-" else args.text
    if args.text == "-":
        text = text.rstrip("\n")
    cid = store.conversation_id(args.conversation)
    findings = reply_findings(text, _customer_lang(store, actor, cid))
    if findings and (not args.force or any(f.blocks for f in findings)):
        return _refuse_reply(args, findings)
    msg = store.post_reply(actor, cid, text)
    if args.json:
        print_json(
            {
                "message_id": msg.id,
                "conversation_id": args.conversation,
                "author": msg.author,
                "sent_at": msg.sent_at.isoformat(),
                "body": msg.body,
                "findings": [f.as_dict() for f in findings],
            }
        )
    else:
        forced = f", despite {len(findings)} finding(s)" if findings else ""
        out(f"sent to {args.conversation} (message {msg.id}){forced}")
    return 0


# -- audit -------------------------------------------------------------------------------


def _describe_event(ev: EventView, names: dict[int, str]) -> str:
    p = ev.payload
    what = names.get(ev.conversation_id or 0) or (
        f"#{ev.conversation_id}" if ev.conversation_id else ""
    )
    detail = ""
    if ev.kind == "transfer":
        detail = f"{p.get('from') or '(pool)'} -> {p.get('to')}"
    elif ev.kind == "claim":
        detail = f"-> {p.get('assignee')}"
    elif ev.kind in ("tag_added", "tag_removed"):
        detail = str(p.get("tag"))
    elif ev.kind in ("customer_tag_added", "customer_tag_removed"):
        detail = f"customer #{p.get('customer_id')} {p.get('tag')}"
    elif ev.kind in ("escalate", "transfer_requested"):
        detail = str(p.get("reason", ""))
    elif ev.kind == "role_changed":
        detail = f"{p.get('handle')}: {p.get('from')} -> {p.get('to')}"
    elif ev.kind in ("agent_added", "agent_registered"):
        detail = f"{p.get('handle')} ({p.get('role')})"
    elif ev.kind in ("agent_disabled", "agent_enabled"):
        detail = str(p.get("handle"))
    elif ev.kind == "conversation_deleted":
        detail = f"{p.get('external_id')} ({p.get('messages')} messages)"
    elif ev.kind in ("category", "priority"):
        detail = f"{p.get('from')} -> {p.get('to')}"
    elif p:
        detail = " ".join(f"{k}={v}" for k, v in p.items())
    return " ".join(x for x in (what, detail) if x)


@with_store
def run_audit(args: argparse.Namespace, store: Store) -> int:
    viewer = acting_agent(store, args, audit_only=True)
    cid = store.conversation_id(args.conversation) if args.conversation else None
    events = store.audit(viewer, conversation_id=cid, limit=max(1, args.limit))
    ids = sorted({e.conversation_id for e in events if e.conversation_id})
    names = {r.id: r.external_id for r in store.queue_rows(ids)}
    if args.json:
        print_json(
            [
                {
                    "id": e.id,
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "kind": e.kind,
                    "conversation_id": names.get(e.conversation_id or 0),
                    "payload": e.payload,
                }
                for e in events
            ]
        )
        return 0
    if not (viewer.active and viewer.is_supervisor):
        print("(your own actions; supervisors see the whole team's)", file=sys.stderr)
    if not events:
        out("(no audit events)")
        return 0
    for e in events:
        at = e.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        out(f"{at}  {e.actor or '(system)':<12} {e.kind:<20} {_describe_event(e, names)}")
    return 0


# -- the team ----------------------------------------------------------------------------


def _agent_dict(a: AgentInfo, online: set[int]) -> dict[str, Any]:
    return {
        "handle": a.handle,
        "name": a.display_name,
        "role": a.role,
        "active": a.active,
        "online": a.id in online,
        "last_seen_at": a.last_seen_at.isoformat() if a.last_seen_at else None,
    }


def _print_agents(store: Store, agents: list[AgentInfo], as_json: bool, viewer: AgentInfo) -> None:
    from cs_tui.safe_text import clean

    online = {a.id for a in store.online_agents(viewer=viewer)}
    if as_json:
        print_json([_agent_dict(a, online) for a in agents])
        return
    if not agents:
        out("(no agents)")
        return
    out(f"{'HANDLE':<16} {'ROLE':<11} {'STATE':<9} {'LAST SEEN':<20} NAME")
    for a in agents:
        state = "disabled" if not a.active else ("online" if a.id in online else "-")
        seen = a.last_seen_at.astimezone().strftime("%Y-%m-%d %H:%M:%S") if a.last_seen_at else "-"
        out(
            f"{a.handle:<16} {a.role:<11} {state:<9} {seen:<20} {clean(a.display_name, single_line=True)}"
        )


@with_store
def run_agents_list(args: argparse.Namespace, store: Store) -> int:
    viewer = acting_agent(store, args)
    _print_agents(store, store.list_agents(viewer=viewer), args.json, viewer)
    return 0


@with_store
def run_agents_online(args: argparse.Namespace, store: Store) -> int:
    viewer = store.require_supervisor(acting_agent(store, args), "see who is online")
    _print_agents(store, store.online_agents(viewer=viewer), args.json, viewer)
    return 0


@with_store
def run_agents_add(args: argparse.Namespace, store: Store) -> int:
    added = store.add_agent(manager(store, args), args.handle, args.name, args.role)
    out(f"added {added.handle} ({added.role})")
    return 0


@with_store
def run_agents_set_role(args: argparse.Namespace, store: Store) -> int:
    changed = store.set_role(manager(store, args), args.handle, args.role)
    out(f"{changed.handle} is now {changed.role}")
    return 0


@with_store
def run_agents_disable(args: argparse.Namespace, store: Store) -> int:
    changed = store.set_active(manager(store, args), args.handle, False)
    out(f"{changed.handle} is disabled")
    return 0


@with_store
def run_agents_enable(args: argparse.Namespace, store: Store) -> int:
    changed = store.set_active(manager(store, args), args.handle, True)
    out(f"{changed.handle} is enabled")
    return 0
