"""Reports count business time where a calendar applies, next to wall time.

Worked example (the shipped policy: e-mail on office hours, Monday-Friday 09:00-18:30
Asia/Shanghai; chat around the clock), both conversations arriving on a Friday at 17:00:

    MAIL  e-mail, resolved Monday 10:00: 65 wall hours (234,000 s); in office time 1.5 h on
          Friday + 1 h on Monday = 2.5 h (9,000 s)
    CHAT  chat, answered after 10 s, resolved after 300 s: the same in both

Resolution p50 (nearest rank 1 of 2) is 300 s either way; p90 (rank 2) is 234,000 s of wall
time and 9,000 s of business time. First response (chat only) is 10 s in both.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

from cs_tui.cli import main
from cs_tui.clock import FakeClock
from cs_tui.data.store import Store
from cs_tui.sla import parse_policy

SH = ZoneInfo("Asia/Shanghai")


def a_recent_friday() -> datetime:
    """17:00 in Shanghai on a Friday at least four days ago, so the whole example lies in the
    last 30 days of the real clock the command runs on."""
    day = (datetime.now(SH) - timedelta(days=4)).date()
    while day.weekday() != 4:
        day -= timedelta(days=1)
    return datetime(day.year, day.month, day.day, 17, 0, tzinfo=SH)


def build(path, friday: datetime) -> None:
    clock = FakeClock(friday.astimezone(UTC))
    store = Store.open(str(path), clock=clock)
    alice = store.ensure_agent("alice")
    mail = store.create_conversation(external_id="MAIL", customer_handle="c1", channel="email")
    store.post_customer_message(mail, "Where is my parcel?")
    chat = store.create_conversation(external_id="CHAT", customer_handle="c2", channel="chat")
    store.post_customer_message(chat, "hello?")
    store.claim(alice, chat)
    clock.advance(10)
    store.post_reply(alice, chat, "Hello, let me check that for you.")
    clock.set(friday + timedelta(seconds=300))
    store.resolve(alice, chat)
    store.claim(alice, mail)
    clock.set(friday + timedelta(minutes=20))
    store.post_reply(alice, mail, "We are checking with the courier.")
    clock.set(friday + timedelta(days=2, hours=17))  # Monday 10:00
    store.resolve(alice, mail)
    store.dispose()


def test_report_json_gives_business_time_next_to_wall_time(tmp_path, capsys):
    path = tmp_path / "report.db"
    build(path, a_recent_friday())
    status = main(["report", "--db", str(path), "--since", "30d", "--format", "json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    data = json.loads(captured.out)
    assert data["resolved"] == 2
    assert data["resolution_p50_s"] == 300
    assert data["resolution_p90_s"] == 234_000
    assert data["resolution_business_p50_s"] == 300
    assert data["resolution_business_p90_s"] == 9_000
    assert data["frt_p50_s"] == data["frt_business_p50_s"] == 10
    assert data["frt_business_p90_s"] == 10

    status = main(["report", "--db", str(path), "--since", "30d"])
    table = capsys.readouterr().out
    assert "resolution time p90, business time" in table
    assert "2.5 h" in table and "2.7 d" in table


def test_first_response_within_policy_counts_business_time_on_a_calendar(tmp_path):
    """A team that puts chat on office hours: a chat at 18:29:50 on Friday answered at 09:00:15
    on Monday took 25 s of business time, inside the 30 s target, though 62.5 wall hours."""
    text = resources.files("cs_tui.policy").joinpath("sla.toml").read_text(encoding="utf-8")
    policy = parse_policy(text + '\n[channels.chat]\ncalendar = "office"\n', "team-sla.toml")
    friday = a_recent_friday().replace(hour=18, minute=29, second=50)
    clock = FakeClock(friday)
    with Store.open(str(tmp_path / "s.db"), clock=clock, policy=policy) as store:
        alice = store.ensure_agent("alice")
        chat = store.create_conversation(external_id="CHAT", customer_handle="c")
        store.post_customer_message(chat, "hello?")
        store.claim(alice, chat)
        clock.set(friday + timedelta(days=2, hours=14, minutes=30, seconds=25))  # Mon 09:00:15
        store.post_reply(alice, chat, "Good morning!")
        counts = store.kpi_counts(friday - timedelta(hours=1), clock.now())
    assert counts.frt_p50_s == 62.5 * 3600 + 25
    assert counts.frt_business_p50_s == 25
    assert counts.frt_met == 1
