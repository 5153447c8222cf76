"""`cs-tui report` on a hand-built store: formats, windows, agent filter, one-line errors."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from cs_tui.cli import main
from cs_tui.clock import FakeClock
from cs_tui.data.store import Store

REQUIRED_KEYS = {
    "conversations",
    "frt_p50_s",
    "frt_p90_s",
    "first_response_sla_pct",
    "resolution_p50_s",
    "fcr_pct",
    "transfer_pct",
    "csat_avg",
    "complaint_pct",
    "compliant_pct",
}


@pytest.fixture
def db(tmp_path):
    """Built an hour ago (the command runs on the real clock):

    C1 chat order      alice  FRT 10 s, resolved after 100 s, CSAT 5
    C2 chat order      alice  FRT 20 s, reply "不行" (a bare refusal: not compliant)
    C3 chat complaint  bob    FRT 50 s (complaint target 10 min: met)
    OLD chat order     -      three days ago, never answered
    """
    path = tmp_path / "report.db"
    clock = FakeClock(datetime.now(UTC) - timedelta(hours=1))
    store = Store.open(str(path), clock=clock)
    alice = store.ensure_agent("alice")
    bob = store.ensure_agent("bob")
    start = clock.now()
    old = store.create_conversation(
        external_id="OLD", customer_handle="c-old", created_at=start - timedelta(days=3)
    )
    store.post_customer_message(old, "hello?", sent_at=start - timedelta(days=3))
    for ext, category, who, frt, reply in (
        ("C1", "order", alice, 10, "您好,马上为您处理"),
        ("C2", "order", alice, 20, "不行"),
        ("C3", "complaint", bob, 50, "非常抱歉,我理解您的心情"),
    ):
        clock.set(start)
        cid = store.create_conversation(
            external_id=ext, customer_handle=f"c-{ext}", category=category
        )
        store.post_customer_message(cid, "你好")
        store.claim(who, cid)
        clock.advance(frt)
        store.post_reply(who, cid, reply)
        if ext == "C1":
            clock.set(start + timedelta(seconds=100))
            store.resolve(alice, cid)
            store.set_csat(None, cid, 5)  # the customer rates it
    store.dispose()
    return str(path)


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_json_has_the_kpis_worked_out_by_hand(db, capsys):
    status, out, err = run(capsys, "report", "--db", db, "--format", "json")
    assert status == 0, err
    data = json.loads(out)
    assert set(data) >= REQUIRED_KEYS
    assert data["conversations"] == 3  # OLD is outside the last day
    assert data["frt_p50_s"] == pytest.approx(20)  # 10, 20, 50: rank 2
    assert data["frt_p90_s"] == pytest.approx(50)  # rank ceil(2.7) = 3
    # C1 and C2 within 30 s, C3 within the complaint's 10 min; OLD is not in the window.
    assert data["first_response_sla_pct"] == 100.0
    assert data["resolution_p50_s"] == pytest.approx(100)
    assert data["fcr_pct"] == 100.0
    assert data["transfer_pct"] == 0.0
    assert data["csat_avg"] == 5.0
    assert data["complaint_pct"] == pytest.approx(33.33)
    assert data["compliant_pct"] == pytest.approx(66.67)  # "不行" has a finding
    assert data["compliant_checked"] == 3


def test_seven_days_include_the_old_conversation(db, capsys):
    status, out, _ = run(capsys, "report", "--db", db, "--since", "7d", "--format", "json")
    data = json.loads(out)
    assert status == 0 and data["conversations"] == 4
    # OLD is three days past its 30 s deadline: 3 met of 4 due.
    assert data["first_response_sla_pct"] == 75.0
    assert data["complaint_pct"] == 25.0


def test_one_agent(db, capsys):
    status, out, _ = run(capsys, "report", "--db", db, "--agent", "alice", "--format", "json")
    data = json.loads(out)
    assert status == 0 and data["agent"] == "alice"
    assert data["conversations"] == 2
    assert data["frt_p90_s"] == pytest.approx(20)
    assert data["compliant_pct"] == 50.0


def test_csv_is_one_header_and_one_row(db, capsys):
    status, out, _ = run(capsys, "report", "--db", db, "--format", "csv", "--sample", "0")
    rows = list(csv.reader(io.StringIO(out)))
    assert status == 0 and len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert set(row) >= REQUIRED_KEYS
    assert row["conversations"] == "3"
    assert row["compliant_pct"] == ""  # skipped: no sample
    assert float(row["frt_p50_s"]) == pytest.approx(20)


def test_table_shows_targets_and_verdicts(db, capsys):
    status, out, _ = run(capsys, "report", "--db", db, "--by-agent")
    assert status == 0
    assert "first response p50" in out and "<= 30 s" in out
    line = next(x for x in out.splitlines() if x.startswith("complaint rate"))
    assert "33.3 %" in line and "MISSED" in line
    assert "alice" in out and "bob" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "2w"], "cs-tui: --since must be one of 1d, 7d, 30d, not '2w'\n"),
        (["--agent", "nobody"], "cs-tui: no agent 'nobody'\n"),
        (["--sample", "-1"], "cs-tui: --sample must be between 0 and 100,000\n"),
    ],
)
def test_bad_options_are_one_line(db, capsys, argv, message):
    status, out, err = run(capsys, "report", "--db", db, *argv)
    assert status == 2 and out == "" and err == message
