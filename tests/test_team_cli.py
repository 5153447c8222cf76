"""Team commands on SQLite and PostgreSQL: take, claim, assign, reply, agents, audit-log, --locked.

The commands run through `cs_tui.cli.main` exactly as the `cs-tui` script does; what they print
and what the store holds afterwards are both checked. One test runs the real script in a process
to see the exit status and that no traceback reaches the user.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import types
from datetime import UTC, datetime, timedelta

import pytest

from cs_tui.cli import main
from cs_tui.data.store import Store
from cs_tui.data.views import IngestRecord


@pytest.fixture
def db(store_url):
    """A store with a supervisor, two agents and three waiting chats, most urgent first: C1, C2, C3."""
    with Store.open(store_url) as s:
        s.ensure_agent("boss", "Boss", role="supervisor")
        s.ensure_agent("alice", "Alice")
        s.ensure_agent("bob", "Bob")
        now = datetime.now(UTC)
        s.ingest(
            IngestRecord(
                message_id=f"m{i}",
                conversation_id=f"C{i}",
                channel="chat",
                customer=f"cust{i}",
                customer_name=f"顾客{i}",
                author="customer",
                text=f"我的订单{i}还没到",
                sent_at=now - timedelta(minutes=10 - i),
            )
            for i in (1, 2, 3)
        )
    return store_url


def cli(capsys, *argv, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def store_of(url):
    return Store.open(url)


def test_take_claims_the_most_urgent_and_says_so_when_none_is_left(db, capsys):
    rc, out, _ = cli(capsys, "take", "--db", db, "--agent", "alice", "--json")
    assert rc == 0
    first = json.loads(out)
    assert first["conversation_id"] == "C1" and first["assignee"] == "alice"
    assert first["status"] == "open" and first["customer_name"] == "顾客1"

    rc, out, _ = cli(capsys, "take", "--db", db, "--agent", "bob")
    assert rc == 0 and out.startswith("took C2 ") and "顾客2" in out
    rc, out, _ = cli(capsys, "take", "--db", db, "--agent", "bob")
    assert rc == 0 and out.startswith("took C3 ")

    rc, out, err = cli(capsys, "take", "--db", db, "--agent", "alice")
    assert rc == 1 and out == ""
    assert err.count("\n") == 1 and "nothing to take" in err

    with store_of(db) as s:
        owners = {r.external_id: r.assignee for r in s.queue(s.get_agent("boss"))}
        assert owners == {"C1": "alice", "C2": "bob", "C3": "bob"}
        claims = [e for e in s.audit(s.get_agent("boss")) if e.kind == "claim"]
        assert sorted(e.actor for e in claims) == ["alice", "bob", "bob"]


def test_claim_is_refused_when_someone_else_has_it(db, capsys):
    assert cli(capsys, "claim", "C2", "--db", db, "--agent", "alice")[0] == 0
    rc, out, err = cli(capsys, "claim", "C2", "--db", db, "--agent", "bob")
    assert rc == 1 and "taken by alice" in err
    with store_of(db) as s:
        assert s.queue_row(s.conversation_id("C2")).assignee == "alice"


def test_reply_only_in_your_own_conversations(db, capsys, monkeypatch):
    rc, _, err = cli(capsys, "reply", "C1", "您好", "--db", db, "--agent", "alice")
    assert rc == 2 and "claim it first" in err and "Traceback" not in err
    cli(capsys, "claim", "C1", "--db", db, "--agent", "alice")
    rc, _, err = cli(capsys, "reply", "C1", "我来处理", "--db", db, "--agent", "bob")
    assert rc == 2 and "belongs to another agent" in err

    rc, out, _ = cli(
        capsys, "reply", "C1", "您好,请问有什么可以帮您?", "--db", db, "--agent", "alice"
    )
    assert rc == 0 and out.startswith("sent to C1")
    rc, out, _ = cli(
        capsys,
        "reply",
        "C1",
        "-",
        "--db",
        db,
        "--agent",
        "alice",
        "--json",
        stdin="退款会在24小时内到账\n",
        monkeypatch=monkeypatch,
    )
    assert rc == 0 and json.loads(out)["author"] == "alice"

    with store_of(db) as s:
        msgs = s.conversation(s.conversation_id("C1")).messages
        assert [(m.author_kind, m.author, m.body) for m in msgs] == [
            ("customer", None, "我的订单1还没到"),
            ("agent", "alice", "您好,请问有什么可以帮您?"),
            ("agent", "alice", "退款会在24小时内到账"),
        ]
    # A supervisor may step into any conversation.
    assert cli(capsys, "reply", "C1", "我是主管", "--db", db, "--agent", "boss")[0] == 0


def test_only_supervisors_move_other_agents_work_and_the_audit_log_shows_it(db, capsys):
    cli(capsys, "claim", "C1", "--db", db, "--agent", "alice")
    rc, _, err = cli(capsys, "assign", "C1", "--to", "bob", "--db", db, "--agent", "bob")
    assert rc == 2 and "only a supervisor" in err
    assert cli(capsys, "assign", "C1", "--to", "bob", "--db", db, "--agent", "alice")[0] == 0
    rc, out, _ = cli(capsys, "assign", "C1", "--to", "alice", "--db", db, "--agent", "boss")
    assert rc == 0 and "alice" in out

    rc, out, _ = cli(capsys, "audit-log", "--db", db, "--agent", "boss", "--json")
    trail = json.loads(out)
    moves = [
        (e["actor"], e["kind"], e["payload"].get("from"), e["payload"].get("to"))
        for e in trail
        if e["conversation_id"] == "C1"
    ]
    assert ("boss", "transfer", "bob", "alice") in moves
    assert ("alice", "transfer", "alice", "bob") in moves
    assert ("alice", "claim", None, None) in moves
    assert all(e["at"] for e in trail)

    rc, out, err = cli(capsys, "audit-log", "--db", db, "--agent", "bob", "--conversation", "C1")
    assert rc == 0 and "supervisors see" in err
    assert "alice" not in out.replace("-> alice", "")  # bob sees only his own actions
    rc, out, _ = cli(capsys, "audit-log", "--db", db, "--agent", "boss")
    assert "transfer" in out and "bob -> alice" in out


def test_every_assignment_transfer_escalation_tag_and_deletion_is_audited(store, clock):
    boss = store.ensure_agent("boss", role="supervisor")
    alice = store.ensure_agent("alice")
    store.ensure_agent("bob")
    cid = store.create_conversation(external_id="X", customer_handle="c")
    store.post_customer_message(cid, "hi")
    start = store.last_event_id()
    store.claim(alice, cid)
    clock.advance(1)
    store.tag_conversation(alice, cid, "物流")
    store.untag_conversation(alice, cid, "物流")
    store.escalate(alice, cid, "超出政策")
    store.assign(boss, cid, "bob")
    store.delete_conversation(boss, cid)
    trail = [e for e in store.audit(boss) if e.id > start]
    got = [(e.kind, e.actor) for e in reversed(trail)]
    assert got == [
        ("claim", "alice"),
        ("tag_added", "alice"),
        ("tag_removed", "alice"),
        ("escalate", "alice"),
        ("transfer", "boss"),
        ("conversation_deleted", "boss"),
    ]
    assert all(e.at.tzinfo is not None for e in trail)
    assert trail[0].at == clock.now()


def test_trainers_run_role_play_but_not_live_work(store):
    trainer = store.ensure_agent("tina", role="trainer")
    live = store.create_conversation(external_id="LIVE", customer_handle="c1")
    play = store.create_conversation(external_id="PLAY", customer_handle="c2", training=True)
    store.post_customer_message(play, "我的快递三天没到!")
    assert store.post_reply(trainer, play, "我理解您的心情").author == "tina"
    store.post_customer_message(live, "hi")
    from cs_tui.data.errors import NotAllowed

    with pytest.raises(NotAllowed):
        store.post_reply(trainer, live, "hello")


def test_team_management_is_for_supervisors_once_there_is_one(store_url, capsys):
    # Bootstrap: nobody is a supervisor yet, so the first one can be added by anyone.
    assert (
        cli(
            capsys,
            "agents",
            "add",
            "boss",
            "--role",
            "supervisor",
            "--db",
            store_url,
            "--agent",
            "setup",
        )[0]
        == 0
    )
    rc, _, err = cli(capsys, "agents", "add", "eve", "--db", store_url, "--agent", "setup")
    assert rc == 2 and "supervisor" in err
    assert (
        cli(
            capsys,
            "agents",
            "add",
            "alice",
            "--name",
            "Alice Wang",
            "--db",
            store_url,
            "--agent",
            "boss",
        )[0]
        == 0
    )
    rc, _, err = cli(
        capsys, "agents", "set-role", "alice", "supervisor", "--db", store_url, "--agent", "alice"
    )
    assert rc == 2 and "only a supervisor" in err
    # Unknown handles are not registered on the fly any more.
    rc, _, err = cli(capsys, "take", "--db", store_url, "--agent", "mallory")
    assert rc == 2 and "not in this team" in err

    assert (
        cli(capsys, "agents", "set-role", "alice", "trainer", "--db", store_url, "--agent", "boss")[
            0
        ]
        == 0
    )
    rc, out, _ = cli(capsys, "agents", "list", "--db", store_url, "--agent", "boss", "--json")
    team = {a["handle"]: a for a in json.loads(out)}
    assert set(team) == {"boss", "alice"}
    assert team["alice"]["role"] == "trainer" and team["alice"]["name"] == "Alice Wang"

    rc, _, err = cli(capsys, "agents", "disable", "boss", "--db", store_url, "--agent", "boss")
    assert rc == 2 and "last active supervisor" in err
    assert cli(capsys, "agents", "disable", "alice", "--db", store_url, "--agent", "boss")[0] == 0
    rc, out, _ = cli(capsys, "agents", "list", "--db", store_url, "--agent", "boss")
    assert "disabled" in out.splitlines()[1] and out.splitlines()[1].startswith("alice")

    with store_of(store_url) as s:
        kinds = [(e.kind, e.actor) for e in reversed(s.audit(s.get_agent("boss")))]
        assert ("agent_added", "boss") in kinds
        assert ("role_changed", "boss") in kinds and ("agent_disabled", "boss") in kinds


def test_a_disabled_agent_can_neither_take_nor_reply(db, capsys):
    cli(capsys, "claim", "C1", "--db", db, "--agent", "alice")
    assert cli(capsys, "agents", "disable", "alice", "--db", db, "--agent", "boss")[0] == 0
    rc, _, err = cli(capsys, "take", "--db", db, "--agent", "alice")
    assert rc == 2 and "active" in err
    rc, _, err = cli(capsys, "reply", "C1", "hello", "--db", db, "--agent", "alice")
    assert rc == 2 and "disabled" in err
    with store_of(db) as s:
        assert len(s.conversation(s.conversation_id("C1")).messages) == 1


def test_supervisors_see_who_is_online(db, capsys):
    with store_of(db) as s:
        s.heartbeat(s.get_agent("alice").id)
    rc, out, _ = cli(capsys, "agents", "online", "--db", db, "--agent", "boss", "--json")
    assert rc == 0 and [a["handle"] for a in json.loads(out)] == ["alice"]
    rc, _, err = cli(capsys, "agents", "online", "--db", db, "--agent", "bob")
    assert rc == 2 and "only a supervisor" in err


# -- --locked ------------------------------------------------------------------------------


@pytest.fixture
def fake_workstation(monkeypatch):
    """Stand in for the app: record who and where the workstation would open."""
    from cs_tui.commands.common import settings_for
    from cs_tui.config import resolve_agent, resolve_store

    seen = {}

    def run_workstation(args):
        settings = settings_for(args)
        seen["store"] = resolve_store(args.db, settings)
        seen["agent"] = resolve_agent(args.agent, settings)
        seen["env"] = dict(os.environ)
        return 0

    monkeypatch.setattr("cs_tui.commands.team_cmd.has_terminal", lambda: True)
    module = types.ModuleType("cs_tui.commands.app_cmd")
    module.run_workstation = run_workstation
    module.register = lambda sub: None
    monkeypatch.setitem(sys.modules, "cs_tui.commands.app_cmd", module)
    return seen


def test_locked_ignores_the_environment_and_ssh_original_command(
    fake_workstation, monkeypatch, tmp_path, capsys
):
    monkeypatch.setenv("CS_TUI_DB", str(tmp_path / "other.db"))
    monkeypatch.setenv("CS_TUI_AGENT", "boss")
    monkeypatch.setenv("SSH_ORIGINAL_COMMAND", "cs-tui --agent boss --db /tmp/x")
    config = tmp_path / "evil.toml"
    config.write_text('agent = "boss"\ndb = "/tmp/evil.db"\n')
    monkeypatch.setenv("CS_TUI_CONFIG", str(config))
    store = str(tmp_path / "team.db")
    assert main(["--db", store, "--agent", "alice", "--locked"]) == 0
    assert fake_workstation["store"] == store and fake_workstation["agent"] == "alice"
    assert "SSH_ORIGINAL_COMMAND" not in fake_workstation["env"]
    assert "CS_TUI_CONFIG" not in fake_workstation["env"]

    # Without --db the store still never comes from the environment.
    fake_workstation.clear()
    monkeypatch.setenv("CS_TUI_DB", str(tmp_path / "other.db"))
    assert main(["--agent", "alice", "--locked"]) == 0
    assert "other.db" not in fake_workstation["store"]


def test_locked_refuses_subcommands_and_needs_an_identity(fake_workstation, capsys, tmp_path):
    db = str(tmp_path / "s.db")
    for argv in (
        ["--locked", "--agent", "alice", "agents", "set-role", "alice", "supervisor", "--db", db],
        ["--locked", "--agent", "alice", "take", "--db", db],
        ["--locked", "--agent", "alice", "db", "copy", "--from", db, "--to", db + "2"],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "--locked opens the workstation only" in err
    assert fake_workstation == {}
    assert not os.path.exists(db)
    assert main(["--locked", "--db", db]) == 2
    assert "--agent HANDLE" in capsys.readouterr().err


def test_the_script_exits_1_with_one_line_when_nothing_is_left(tmp_path):
    db = str(tmp_path / "empty.db")
    env = {
        **os.environ,
        "CS_TUI_DATA_DIR": str(tmp_path / "d"),
        "CS_TUI_CONFIG_DIR": str(tmp_path / "c"),
    }
    exe = [sys.executable, "-m", "cs_tui"]
    done = subprocess.run(
        [*exe, "take", "--db", db, "--agent", "alice"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "cs-tui: nothing to take: no unassigned conversation is waiting"
    ]


def test_locked_needs_a_terminal(tmp_path):
    """`ssh -T` asks for no pty: refuse rather than run a workstation nobody can see."""
    env = {**os.environ, "CS_TUI_DATA_DIR": str(tmp_path / "d")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cs_tui",
            "--db",
            str(tmp_path / "s.db"),
            "--agent",
            "alice",
            "--locked",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == ["cs-tui: --locked needs a terminal: connect with `ssh -t`"]
