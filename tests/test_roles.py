"""Who may do what, decided in the store: on SQLite and PostgreSQL, through the Store, through
`cs-tui` commands (cli.main, as the script runs them), in the workstation (Pilot), and with two
real processes racing to disable each other.

A workstation keeps the AgentInfo it signed in with for hours, so most tests act with such a
snapshot after the agent was changed behind its back: the store must look at the agent as stored
now, not at what the caller holds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cs_tui.cli import main
from cs_tui.data.errors import InvalidInput, NotAllowed
from cs_tui.data.store import Store
from cs_tui.data.views import IngestRecord
from cs_tui.sla import PolicyError, parse_policy
from tests.ui.pilot_helpers import settle


@pytest.fixture
def team(store):
    boss = store.ensure_agent("boss", "Boss", role="supervisor")
    return boss, store.ensure_agent("alice", "Alice"), store.ensure_agent("bob", "Bob")


def chat(store, ext, *, customer="cust-1", text="我的订单还没到"):
    cid = store.create_conversation(
        external_id=ext, customer_handle=customer, customer_name="王女士"
    )
    store.post_customer_message(cid, text)
    return cid


# -- a disabled agent ------------------------------------------------------------------------


def test_a_disabled_agent_can_do_nothing_but_read_their_own_audit_log(store, team, clock):
    boss, alice, _bob = team
    mine = chat(store, "A")
    pool = chat(store, "P", customer="cust-2")
    assert store.claim(alice, mine)
    store.post_reply(alice, mine, "您好")
    customer_id = store.queue_row(mine).customer_id
    store.set_active(boss, "alice", False)
    assert alice.active  # what alice's running workstation still holds

    attempts = {
        "reply": lambda: store.post_reply(alice, mine, "还在吗"),
        "note": lambda: store.post_note(alice, mine, "备注"),
        "tag": lambda: store.tag_conversation(alice, mine, "物流"),
        "untag": lambda: store.untag_conversation(alice, mine, "物流"),
        "escalate": lambda: store.escalate(alice, mine, "超出政策"),
        "snooze": lambda: store.snooze(alice, mine, clock.now() + timedelta(hours=1)),
        "resolve": lambda: store.resolve(alice, mine),
        "transfer": lambda: store.assign(alice, mine, "bob"),
        "category": lambda: store.set_category(alice, mine, "logistics"),
        "claim": lambda: store.claim(alice, pool),
        "take next": lambda: store.take_next(alice),
        "customer tag": lambda: store.tag_customer(alice, customer_id, "VIP"),
        "draft": lambda: store.save_draft(alice.id, mine, "草稿"),
        "queue": lambda: store.queue(alice),
        "queue count": lambda: store.queue_count(alice),
        "open": lambda: store.conversation(mine, viewer=alice),
        "history": lambda: store.customer_history(customer_id, viewer=alice),
        "team": lambda: store.list_agents(viewer=alice),
        "sign in": lambda: store.sign_in("alice"),
    }
    for name, attempt in attempts.items():
        with pytest.raises(NotAllowed, match="disabled"):
            attempt()
            pytest.fail(f"{name} was allowed")

    row = store.queue_row(mine)
    assert (row.status, row.assignee, row.tags) == ("open", "alice", ())
    assert store.queue_row(pool).assignee is None
    assert [m.body for m in store.conversation(mine).messages] == ["我的订单还没到", "您好"]
    assert store.customer(customer_id).tags == ()
    assert store.load_draft(alice.id, mine) == ""

    me = store.sign_in("alice", audit_only=True)
    trail = store.audit(me)
    assert {e.actor for e in trail} == {"alice"}
    assert {"claim", "reply"} <= {e.kind for e in trail}


def test_a_disabled_supervisor_sees_only_their_own_actions(store, team):
    boss, alice, _bob = team
    lin = store.add_agent(boss, "lin", "林主管", "supervisor")
    cid = chat(store, "A")
    store.assign(lin, cid, "alice")
    store.set_active(boss, "lin", False)
    trail = store.audit(store.sign_in("lin", audit_only=True))
    assert [(e.actor, e.kind) for e in trail] == [("lin", "transfer")]
    with pytest.raises(NotAllowed, match="disabled"):
        store.set_active(lin, "lin", True)  # cannot let themselves back in
    with pytest.raises(NotAllowed, match="disabled"):
        store.assign(lin, cid, "bob")
    assert store.queue_row(cid).assignee == "alice"


# -- the last active supervisor --------------------------------------------------------------


def test_the_store_keeps_an_active_supervisor(store, team):
    boss, alice, _bob = team
    for change in (
        lambda: store.set_active(boss, "boss", False),
        lambda: store.set_role(boss, "boss", "agent"),
    ):
        with pytest.raises(NotAllowed, match="last active supervisor"):
            change()
    store.set_role(boss, "alice", "supervisor")
    store.set_role(boss, "boss", "agent")
    # boss's snapshot still says supervisor; the store knows better.
    assert boss.role == "supervisor"
    with pytest.raises(NotAllowed, match="only a supervisor"):
        store.set_active(boss, "alice", False)
    active = [a.handle for a in store.list_agents() if a.role == "supervisor" and a.active]
    assert active == ["alice"]


def _duel(url: str, me: str, other: str, rounds: int) -> None:
    """One side of the duel, in its own process: disable the other supervisor, then enable
    them again, `rounds` times, as the snapshot a running workstation would hold."""
    with Store.open(url) as store:
        actor = store.get_agent(me)
        print("ready", flush=True)
        sys.stdin.readline()
        done = refused = 0
        for _ in range(rounds):
            for active in (False, True):
                try:
                    store.set_active(actor, other, active)
                    done += 1
                except NotAllowed:
                    refused += 1
        print(json.dumps({"done": done, "refused": refused}), flush=True)


@pytest.mark.slow
def test_two_supervisors_disabling_each_other_always_leave_one(store_url):
    with Store.open(store_url) as store:
        store.ensure_agent("lin", role="supervisor")
        store.ensure_agent("wu", role="supervisor")
        start = store.last_event_id()
    procs = [
        subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "duel", store_url, me, other, "50"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me, other in (("lin", "wu"), ("wu", "lin"))
    ]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    for proc in procs:  # both start together
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    with Store.open(store_url) as watcher:
        while any(proc.poll() is None for proc in procs):
            assert watcher.has_supervisor(), "the team was left without an active supervisor"
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        # Every committed state, replayed from the audit trail in commit order.
        active = {"lin": True, "wu": True}
        changes = [
            e for e in watcher.events_since(start) if e.kind in ("agent_disabled", "agent_enabled")
        ]
        for event in changes:
            active[event.payload["handle"]] = event.kind == "agent_enabled"
            assert any(active.values()), f"no active supervisor after event {event.id}"
        assert watcher.has_supervisor()
    assert sum(r["done"] for r in results) == len(changes) > 0  # the duel really changed things
    assert sum(r["refused"] for r in results) > 0  # and the rule really refused some


# -- strangers -------------------------------------------------------------------------------


def test_a_stranger_is_registered_only_while_the_team_has_no_supervisor(store):
    first = store.sign_in("setup")
    assert (first.handle, first.role, first.active) == ("setup", "agent", True)
    store.add_agent(first, "boss", "Boss", "supervisor")
    with pytest.raises(NotAllowed, match="not in this team"):
        store.sign_in("mallory")
    assert store.get_agent("mallory") is None


@pytest.fixture
def team_db(store_url):
    """boss (supervisor), alice and bob; C1 and C2 waiting, C1 claimed by alice."""
    with Store.open(store_url) as s:
        s.ensure_agent("boss", "Boss", role="supervisor")
        alice = s.ensure_agent("alice", "Alice")
        s.ensure_agent("bob", "Bob")
        now = datetime.now(UTC)
        s.ingest(
            IngestRecord(
                message_id=f"m{i}",
                conversation_id=f"C{i}",
                channel="chat",
                customer=f"cust{i}",
                author="customer",
                text=f"我的订单{i}还没到",
                sent_at=now - timedelta(minutes=5 - i),
            )
            for i in (1, 2)
        )
        s.claim(alice, s.conversation_id("C1"))
    return store_url


def run(capsys, *argv):
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


STORE_COMMANDS = [
    ["queue"],
    ["take"],
    ["claim", "C2"],
    ["reply", "C1", "您好,马上为您处理"],
    ["assign", "C1", "--to", "bob"],
    ["agents", "list"],
    ["agents", "online"],
    ["report"],
    ["export"],
    ["kb", "list"],
    ["kb", "search", "退款"],
    ["kb", "show", "1"],
    ["kb", "import", "--sample"],
    ["roleplay", "sessions"],
]


def test_every_command_refuses_a_stranger(team_db, capsys):
    for command in [*STORE_COMMANDS, ["audit-log"]]:
        rc, out, err = run(capsys, "--agent", "mallory", *command, "--db", team_db)
        assert (rc, out) == (2, ""), command
        assert err.startswith("cs-tui: ") and len(err.splitlines()) == 1, command
        assert "not in this team" in err, command
    with Store.open(team_db) as s:
        assert s.get_agent("mallory") is None


def test_a_disabled_agent_is_refused_every_command_but_their_own_audit_log(team_db, capsys):
    assert run(capsys, "agents", "disable", "alice", "--db", team_db, "--agent", "boss")[0] == 0
    for command in STORE_COMMANDS:
        rc, out, err = run(capsys, "--agent", "alice", *command, "--db", team_db)
        assert (rc, out) == (2, ""), command
        assert len(err.splitlines()) == 1 and "disabled" in err, command
    rc, out, err = run(capsys, "audit-log", "--db", team_db, "--agent", "alice", "--json")
    assert rc == 0
    trail = json.loads(out)
    assert [(e["actor"], e["kind"], e["conversation_id"]) for e in trail] == [
        ("alice", "claim", "C1"),
        ("alice", "agent_registered", None),
    ]


def test_the_workstation_refuses_a_stranger_and_a_disabled_agent(team_db, capsys, monkeypatch):
    opened = []
    monkeypatch.setattr("cs_tui.app.CsApp.run", lambda app, **kw: opened.append(app.agent.handle))
    rc, _, err = run(capsys, "--db", team_db, "--agent", "mallory")
    assert rc == 2 and "not in this team" in err
    run(capsys, "agents", "disable", "alice", "--db", team_db, "--agent", "boss")
    rc, _, err = run(capsys, "--db", team_db, "--agent", "alice")
    assert rc == 2 and "disabled" in err
    assert run(capsys, "--db", team_db, "--agent", "bob")[0] == 0
    assert opened == ["bob"]
    with Store.open(team_db) as s:
        assert s.get_agent("mallory") is None


# -- supervisor commands -----------------------------------------------------------------------


def test_export_kb_import_and_other_agents_figures_are_for_supervisors(team_db, capsys, tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    out = exports / "all.jsonl"
    for argv in (
        ["export", "--out", str(out)],
        ["kb", "import", "--sample"],
        ["report", "--agent", "bob"],
        ["report", "--by-agent"],
    ):
        rc, stdout, err = run(capsys, "--agent", "alice", *argv, "--db", team_db)
        assert rc == 2 and stdout == "", argv
        assert len(err.splitlines()) == 1 and "only a supervisor" in err, argv
    assert list(exports.iterdir()) == []  # not even a partial export file
    with Store.open(team_db) as s:
        assert s.count_articles() == 0

    rc, stdout, _ = run(
        capsys,
        "--agent",
        "alice",
        "report",
        "--agent",
        "alice",
        "--format",
        "json",
        "--db",
        team_db,
    )
    assert rc == 0 and json.loads(stdout)["agent"] == "alice"

    assert run(capsys, "--agent", "boss", "export", "--out", str(out), "--db", team_db)[0] == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
    assert run(capsys, "--agent", "boss", "kb", "import", "--sample", "--db", team_db)[0] == 0
    rc, stdout, _ = run(
        capsys, "--agent", "boss", "report", "--by-agent", "--format", "json", "--db", team_db
    )
    assert rc == 0 and "agents_detail" in json.loads(stdout)


# -- tags, notes, history ----------------------------------------------------------------------


def test_tags_notes_and_untagging_follow_the_reply_rule(store, team):
    boss, alice, bob = team
    hers = chat(store, "A")
    pool = chat(store, "P", customer="cust-2")
    assert store.claim(alice, hers)
    store.tag_conversation(alice, hers, "物流")
    for cid, why in ((hers, "belongs to another agent"), (pool, "claim it first")):
        for attempt in (
            lambda c=cid: store.tag_conversation(bob, c, "投诉"),
            lambda c=cid: store.untag_conversation(bob, c, "物流"),
            lambda c=cid: store.post_note(bob, c, "她又来了"),
        ):
            with pytest.raises(NotAllowed, match=why):
                attempt()
    assert store.queue_row(hers).tags == ("物流",) and store.queue_row(pool).tags == ()
    assert all(m.author_kind != "note" for m in store.conversation(hers).messages)

    store.post_note(boss, hers, "主管备注")
    store.untag_conversation(boss, hers, "物流")
    store.tag_conversation(alice, hers, "VIP")
    assert store.queue_row(hers).tags == ("VIP",)


def test_other_agents_conversations_are_a_summary_without_notes(store, team):
    boss, alice, bob = team
    hers = chat(store, "A", customer="wang")
    his = chat(store, "B", customer="wang", text="上次的退款到了吗")
    assert store.claim(alice, hers) and store.claim(bob, his)
    store.post_reply(bob, his, "我查一下")
    store.post_note(bob, his, "客户情绪激动,先安抚")
    store.tag_conversation(bob, his, "投诉用户")
    customer_id = store.queue_row(hers).customer_id

    seen = {r.external_id: r for r in store.customer_history(customer_id, viewer=alice)}
    assert (seen["B"].channel, seen["B"].category, seen["B"].status) == ("chat", "order", "open")
    assert seen["B"].last_message_at is not None
    assert (seen["B"].preview, seen["B"].tags) == ("", ())
    assert seen["A"].preview == "我的订单还没到"
    for viewer in (bob, boss):
        full = {r.external_id: r for r in store.customer_history(customer_id, viewer=viewer)}
        assert (full["B"].preview, full["B"].tags) == ("我查一下", ("投诉用户",))

    looked = store.conversation(his, viewer=alice).messages
    assert [m.author_kind for m in looked] == ["customer", "agent"]
    for viewer in (bob, boss):
        notes = [m.body for m in store.conversation(his, viewer=viewer).messages]
        assert "客户情绪激动,先安抚" in notes


# -- CSAT and snooze -----------------------------------------------------------------------------


def test_csat_comes_from_the_customer_not_from_the_agent(store, team):
    boss, alice, _bob = team
    cid = chat(store, "A")
    store.claim(alice, cid)
    with pytest.raises(NotAllowed, match="CSAT comes from the customer"):
        store.resolve(alice, cid, csat=5)
    assert store.queue_row(cid).status == "open"  # nothing half done
    store.resolve(alice, cid)
    with pytest.raises(NotAllowed, match="CSAT comes from the customer"):
        store.set_csat(alice, cid, 5)
    assert store.conversation(cid).csat is None
    store.set_csat(None, cid, 2)  # the customer's channel
    assert store.conversation(cid).csat == 2
    store.set_csat(boss, cid, 3)  # a supervisor recording a survey answer
    other = chat(store, "B", customer="cust-2")
    store.resolve(boss, other, csat=4)
    assert (store.conversation(cid).csat, store.conversation(other).csat) == (3, 4)


def test_a_snooze_longer_than_the_policy_allows_is_refused(store, team, clock):
    _boss, alice, _bob = team
    cid = chat(store, "A")
    store.claim(alice, cid)
    with pytest.raises(InvalidInput, match="maximum"):
        store.snooze(alice, cid, clock.now() + timedelta(hours=24, seconds=1))
    assert store.queue_row(cid).status == "open"
    store.snooze(alice, cid, clock.now() + timedelta(hours=24))
    assert store.conversation(cid).snooze_until == clock.now() + timedelta(hours=24)


def test_a_team_sets_its_own_snooze_maximum(tmp_path, clock):
    policy = parse_policy('max_snooze = "2h"\n', source="team.toml")
    with Store.open(str(tmp_path / "s.db"), clock=clock, policy=policy) as store:
        alice = store.ensure_agent("alice")
        cid = chat(store, "A")
        store.claim(alice, cid)
        with pytest.raises(InvalidInput, match="maximum"):
            store.snooze(alice, cid, clock.now() + timedelta(hours=3))
        store.snooze(alice, cid, clock.now() + timedelta(hours=2))
    for bad in ('max_snooze = "soon"', "max_snooze = 0", "max_snooze = [1]", "max_snooze = true"):
        with pytest.raises(PolicyError, match=r"^team\.toml:2: max_snooze"):
            parse_policy("warning_ratio = 0.2\n" + bad + "\n", source="team.toml")


# -- in the workstation -------------------------------------------------------------------------


def toasts(pilot) -> str:
    return " ".join(str(n.message) for n in pilot.app._notifications)


@pytest.fixture
def shared_customer(sqlite_store):
    """alice's conversation A and bob's B with the same customer; B has a private note."""
    store = sqlite_store
    store.ensure_agent("boss", role="supervisor")
    alice, bob = store.ensure_agent("alice"), store.ensure_agent("bob")
    hers = chat(store, "A", customer="wang")
    store.clock.advance(60)
    his = chat(store, "B", customer="wang", text="上次的退款到了吗")
    store.claim(alice, hers)
    store.claim(bob, his)
    store.post_reply(bob, his, "我查一下 BOB-REPLY")
    store.post_note(bob, his, "BOB-NOTE 先安抚")
    return store, hers, his


async def test_h_shows_another_agents_conversation_only_as_a_summary(shared_customer):
    from textual.widgets import OptionList

    from cs_tui.app import make_app
    from cs_tui.screens.history import HistoryScreen

    store, hers, his = shared_customer
    app = make_app(store, "alice", clock=store.clock, lang="en", live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # alice's queue holds only A
        await settle(pilot)
        assert app.screen.detail.row.id == hers
        await pilot.press("h")
        await settle(pilot)
        history = app.screen
        assert isinstance(history, HistoryScreen)
        listing = history.query_one("#history", OptionList)
        lines = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        theirs = lines[[r.id for r in history.rows].index(his)]
        assert "summary only: handled by bob" in theirs
        assert "BOB" not in " ".join(lines)
        for _ in range([r.id for r in history.rows].index(his)):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is history  # a summary does not open
        assert "Only a summary" in toasts(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.detail.row.id == hers


@pytest.fixture
def back_to_english():
    """The app sets the process-wide interface language; the next test expects English."""
    from cs_tui import i18n

    yield
    i18n.set_language("en")


async def test_a_refusal_reaches_a_disabled_agent_in_their_language(
    shared_customer, back_to_english
):
    from cs_tui.app import make_app

    store, hers, _his = shared_customer
    app = make_app(store, "alice", clock=store.clock, lang="zh", live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        store.set_active(store.get_agent("boss"), "alice", False)
        await pilot.press("n")  # take the next conversation
        await settle(pilot)
        assert "您的客服账号已停用" in toasts(pilot)
    assert store.queue_row(hers).assignee == "alice"


if __name__ == "__main__" and sys.argv[1:2] == ["duel"]:
    _duel(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
