"""The command line's data commands and its errors: one clear line, never a traceback."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from cs_tui.cli import main
from cs_tui.data.store import Store


def cli(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cs_tui", *args], capture_output=True, text=True, env=env
    )


def test_queue_json_has_the_documented_fields(tmp_path, capsys):
    db = str(tmp_path / "s.db")
    assert main(["seed", "--db", db, "--conversations", "40"]) == 0
    capsys.readouterr()
    assert main(["queue", "--db", db, "--agent", "sam", "--json", "--limit", "5"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert len(items) == 5
    for item in items:
        assert {
            "conversation_id",
            "channel",
            "status",
            "assignee",
            "sla_clock",
            "due_at",
            "remaining_s",
            "sla_state",
        } <= set(item)
        assert item["sla_state"] in ("ok", "warning", "breached", "none", "paused")
    remaining = [i["remaining_s"] for i in items if i["remaining_s"] is not None]
    assert remaining == sorted(remaining)  # most overdue first
    breached = [i for i in items if i["sla_state"] == "breached"]
    assert all(i["remaining_s"] < 0 for i in breached)


def test_seed_makes_every_channel_category_and_sla_state(tmp_path):
    store = Store.open(str(tmp_path / "s.db"))
    from cs_tui.data import seed

    seed.synthetic(store, conversations=500, messages_per=4)
    boss = store.ensure_agent("boss", role="supervisor")
    rows = store.queue(boss, limit=1000)
    assert {r.channel for r in rows} == {"chat", "phone", "ticket", "email", "social"}
    assert len({r.category for r in rows}) == 7
    now = store.clock.now()
    states = {
        store.policy.state((r.due_at - now).total_seconds(), r.sla_target_s)
        for r in rows
        if r.due_at
    }
    assert {s.value for s in states} >= {"ok", "breached"}
    assert store.counts()["message"] > 1000


def test_demo_store_shows_every_sla_state(tmp_path):
    from cs_tui.data import seed
    from cs_tui.sla import evaluate

    store = Store.open(str(tmp_path / "demo.db"))
    seed.write_demo(store)
    boss = store.ensure_agent("sam")
    rows = store.queue(boss, limit=1000)
    assert 200 <= store.counts()["conversation"] <= 400
    now = store.clock.now()
    states = set()
    for r in rows:
        if r.due_at is not None:
            states.add(store.policy.state((r.due_at - now).total_seconds(), r.sla_target_s).value)
    assert {"ok", "warning", "breached"} <= states, states
    assert {r.channel for r in rows} == {"chat", "phone", "ticket", "email", "social"}
    # Customers have history on more than one channel.
    history = store.customer_history(rows[0].customer_id)
    assert len(history) >= 2
    _ = evaluate


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["queue", "--db", "mysql://x/y"], "unknown store scheme 'mysql'"),
        (["seed", "--db", "{tmp}/s.db", "--conversations", "0"], "between 1 and 1,000,000"),
    ],
)
def test_bad_arguments_are_one_line(tmp_path, args, words):
    proc = cli(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert proc.returncode == 2
    assert words in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_a_file_that_is_not_a_store_is_named(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("hello, this is not a database\n" * 100)
    proc = cli("queue", "--db", str(junk))
    assert proc.returncode == 2
    assert f"{junk} is not a cs-tui store" in proc.stderr and "Traceback" not in proc.stderr
    assert junk.read_text().startswith("hello")  # untouched


def test_an_sqlite_file_of_another_program_is_refused(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    proc = cli("queue", "--db", str(other))
    assert (
        proc.returncode == 2 and "not a cs-tui store" in proc.stderr and "invoices" in proc.stderr
    )


def test_a_corrupt_store_is_named(tmp_path):
    db = tmp_path / "s.db"
    Store.open(str(db)).dispose()
    data = bytearray(db.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    db.write_bytes(bytes(data))
    proc = cli("queue", "--db", str(db))
    assert proc.returncode == 2 and str(db) in proc.stderr and "Traceback" not in proc.stderr


def test_a_store_from_a_newer_version_is_refused(tmp_path):
    db = tmp_path / "s.db"
    Store.open(str(db)).dispose()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE schema_meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    proc = cli("queue", "--db", str(db))
    assert proc.returncode == 2
    assert "newer cs-tui (schema 99" in proc.stderr


def test_missing_data_directory_is_created(tmp_path):
    import os

    env = dict(os.environ, CS_TUI_DATA_DIR=str(tmp_path / "deep" / "er"))
    proc = cli("queue", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "deep" / "er" / "store.db").exists()


def test_db_env_and_flag_precedence(tmp_path):
    import os

    env = dict(os.environ, CS_TUI_DB=str(tmp_path / "env.db"))
    assert cli("queue", env=env).returncode == 0
    assert (tmp_path / "env.db").exists()
    assert cli("--db", str(tmp_path / "flag.db"), "queue", env=env).returncode == 0
    assert (tmp_path / "flag.db").exists()


def test_unknown_agent_is_registered_on_first_use(tmp_path):
    db = str(tmp_path / "s.db")
    assert cli("queue", "--db", db, "--agent", "newbie").returncode == 0
    agent = Store.open(db).get_agent("newbie")
    assert agent is not None and agent.role == "agent"


def test_bad_policy_file_in_config_is_one_line(tmp_path):
    import os

    policy = tmp_path / "sla.toml"
    policy.write_text('[targets]\nfirst_response = "fast"\n')
    config = tmp_path / "config.toml"
    config.write_text(f'sla_policy = "{policy}"\n')
    env = dict(os.environ, CS_TUI_CONFIG=str(config))
    proc = cli("queue", "--db", str(tmp_path / "s.db"), env=env)
    assert proc.returncode == 2
    assert f"{policy}:2:" in proc.stderr and "Traceback" not in proc.stderr


def test_reopening_the_demo_later_keeps_its_mix_of_sla_states(tmp_path, clock):
    from datetime import timedelta

    from cs_tui.data import seed

    path = str(tmp_path / "demo.db")
    store = Store.open(path, clock=clock)
    seed.write_demo(store)
    sam = store.ensure_agent("sam", role="supervisor")
    before = [(r.external_id, r.due_at - clock.now()) for r in store.queue(sam, limit=50)]
    messages = store.counts()["message"]
    store.dispose()
    clock.advance(3 * 86400 + 17)  # three days later
    store = Store.open(path, clock=clock)
    seed.write_demo(store)
    after = [(r.external_id, r.due_at - clock.now()) for r in store.queue(sam, limit=50)]
    assert after == before
    assert store.counts()["message"] == messages  # nothing added, nothing lost
    snoozed = [r for r in store.queue(sam, limit=400) if r.status == "snoozed"]
    assert all(r.due_at > clock.now() - timedelta(days=1) for r in snoozed)
