"""Stored deadlines follow the SLA policy: a changed policy or calendar recomputes them once."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

from cs_tui.clock import FakeClock
from cs_tui.data.db import make_engines
from cs_tui.data.policy_fingerprint import policy_fingerprint
from cs_tui.data.recompute import ensure_deadlines
from cs_tui.data.store import Store
from cs_tui.data.views import QueueFilter
from cs_tui.jsonl_lines import IngestRecord
from cs_tui.sla import default_policy, parse_policy

SH = ZoneInfo("Asia/Shanghai")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def shipped_text() -> str:
    return resources.files("cs_tui.policy").joinpath("sla.toml").read_text(encoding="utf-8")


def with_holiday(day: str):
    text = shipped_text().replace("holidays = []", f'holidays = ["{day}"]', 1)
    assert text != shipped_text()
    return parse_policy(text, "team-sla.toml")


FRIDAY_EVENING = sh(2026, 11, 13, 18, 0)


def _seed(url: str) -> None:
    store = Store.open(url, clock=FakeClock(FRIDAY_EVENING))
    try:
        store.ingest(
            [
                IngestRecord("m1", "MAIL-1", "email", "c1", "customer", "Where?", FRIDAY_EVENING),
                IngestRecord("m2", "CHAT-1", "chat", "c2", "customer", "hello?", FRIDAY_EVENING),
            ]
        )
    finally:
        store.dispose()


def _due(url: str, policy) -> dict[str, datetime | None]:
    store = Store.open(url, clock=FakeClock(FRIDAY_EVENING), policy=policy)
    try:
        boss = store.ensure_agent("boss", "Boss", role="supervisor")
        return {r.external_id: r.due_at for r in store.queue(boss, QueueFilter(), limit=10)}
    finally:
        store.dispose()


def test_a_new_holiday_moves_a_waiting_emails_deadline_and_back(store_url):
    """A team adds Monday as a holiday: the e-mail that came in on Friday evening is due a
    working day later the next time anyone opens the store; the chat's clock does not move.
    Taking the holiday out again moves it back."""
    _seed(store_url)
    before = _due(store_url, default_policy())
    assert before["MAIL-1"] == sh(2026, 11, 18, 13, 30)
    chat_due = before["CHAT-1"]

    after = _due(store_url, with_holiday("2026-11-16"))
    assert after["MAIL-1"] == sh(2026, 11, 19, 13, 30)
    assert after["CHAT-1"] == chat_due
    # Running workstations hear of it: one event, which makes them read their queue again.
    with Store.open(
        store_url, clock=FakeClock(FRIDAY_EVENING), policy=with_holiday("2026-11-16")
    ) as s:
        news = [e for e in s.events_since(0, limit=100) if e.kind == "sla_recompute"]
    assert [(e.conversation_id, e.payload) for e in news] == [(None, {"changed": 1})]

    again = _due(store_url, default_policy())
    assert again["MAIL-1"] == sh(2026, 11, 18, 13, 30)


def test_the_recompute_runs_once_per_policy_change(store_url):
    _seed(store_url)
    engines = make_engines(store_url)
    try:
        changed = ensure_deadlines(engines, with_holiday("2026-11-16"))
        assert changed == 1  # the e-mail; the chat's deadline is the same
        assert ensure_deadlines(engines, with_holiday("2026-11-16")) is None
    finally:
        engines.dispose()


def test_the_fingerprint_ignores_the_file_name_and_holiday_order():
    text = shipped_text().replace("holidays = []", 'holidays = ["2026-10-01", "2026-01-01"]', 1)
    other = shipped_text().replace("holidays = []", 'holidays = ["2026-01-01", "2026-10-01"]', 1)
    a = parse_policy(text, "a.toml")
    b = parse_policy(other, "b.toml")
    assert policy_fingerprint(a) == policy_fingerprint(b)
    assert policy_fingerprint(a) != policy_fingerprint(default_policy())


_STARTER = """
import sys
from importlib import resources
from cs_tui.data.db import make_engines, prepare_schema
from cs_tui.data.recompute import ensure_deadlines
from cs_tui.sla import parse_policy

text = resources.files("cs_tui.policy").joinpath("sla.toml").read_text(encoding="utf-8")
policy = parse_policy(text.replace("holidays = []", 'holidays = ["2026-11-16"]', 1), "t.toml")
engines = make_engines(sys.argv[1])
prepare_schema(engines)
print('ready', flush=True)
sys.stdin.readline()
print(ensure_deadlines(engines, policy))
engines.dispose()
"""


@pytest.mark.slow
def test_two_processes_starting_at_once_recompute_once(store_url):
    """Two workstations start with the new policy at the same moment: one recomputes, the other
    finds the deadlines already done; neither fails."""
    _seed(store_url)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _STARTER, store_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:  # both are ready before either goes
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    results = []
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        results.append(out.strip())
    assert sorted(results) == ["1", "None"]
    assert _due(store_url, with_holiday("2026-11-16"))["MAIL-1"] == sh(2026, 11, 19, 13, 30)


@pytest.mark.parametrize("batch", [5000, 7])
def test_recomputed_columns_equal_a_fresh_computation_for_every_state(
    store_url, batch, monkeypatch
):
    """The demo floor (new, open, pending, snoozed, escalated, resolved with follow-ups, paused
    and woken again) opened with a changed policy: every conversation's stored SLA columns are
    what the engine computes from its row under the new policy. In batches of 7 too: on
    PostgreSQL one batch is written while the next is computed, and none may be lost."""
    import sqlalchemy as sa

    from cs_tui.data import recompute

    monkeypatch.setattr(recompute, "BATCH", batch)

    from cs_tui.data import seed
    from cs_tui.data.slarow import sla_columns
    from cs_tui.data.tables import CONV
    from tests.conftest import START

    with Store.open(store_url, clock=FakeClock(START)) as store:
        seed.write_demo(store)
    text = shipped_text().replace("holidays = []", 'holidays = ["2026-11-12"]', 1)
    text = text.replace('follow_up = "1d"', 'follow_up = "2d"', 1)
    text = text.replace('first_response = "30s"', 'first_response = "45s"', 1)
    policy = parse_policy(text, "team-sla.toml")
    with (
        Store.open(store_url, clock=FakeClock(START), policy=policy) as store,
        store._read() as conn,
    ):
        rows = [dict(r) for r in conn.execute(sa.select(CONV)).mappings()]
    assert any(r["pauses"] for r in rows) and any(r["sla_clock"] == "follow_up" for r in rows)
    for row in rows:
        fresh = sla_columns(policy, row)
        assert {k: row[k] for k in fresh} == fresh, row["external_id"]
