"""Service hours: SLA clocks that count only open time (calendars in the SLA policy)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_tui.calendars import add_open_time, is_open, next_opening, open_seconds
from cs_tui.sla import (
    ConversationFacts,
    PolicyError,
    SlaClock,
    deadline,
    default_policy,
    load_policy,
    parse_policy,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
US = timedelta(microseconds=1)

# The calendar: office hours with a lunch break, the National Day week off, two make-up
# workdays (a Sunday and a Saturday).
OFFICE = """\
[calendars.office]
timezone = "Asia/Shanghai"
week = { mon = ["09:00-12:00", "13:30-18:30"], tue = ["09:00-12:00", "13:30-18:30"], wed = ["09:00-12:00", "13:30-18:30"], thu = ["09:00-12:00", "13:30-18:30"], fri = ["09:00-12:00", "13:30-18:30"] }
holidays = ["2025-10-01..2025-10-08", "2025-01-01"]
workdays = ["2025-09-28", "2025-10-11"]   # make-up workdays: open with workday_hours
workday_hours = ["09:00-12:00", "13:30-18:30"]

[calendars.berlin]
timezone = "Europe/Berlin"
week = { mon = ["09:00-17:00"], tue = ["09:00-17:00"], wed = ["09:00-17:00"], thu = ["09:00-17:00"], fri = ["09:00-17:00"] }

[calendars.allday]
timezone = "Europe/Berlin"
week = { mon = ["00:00-24:00"], tue = ["00:00-24:00"], wed = ["00:00-24:00"], thu = ["00:00-24:00"], fri = ["00:00-24:00"], sat = ["00:00-24:00"], sun = ["00:00-24:00"] }

[channels.email]
calendar = "office"
resolution = "8h"

[[override]]
channel = "email"
priority = "high"
resolution = "4h"
"""

POLICY = parse_policy(OFFICE, "office.toml")
OFFICE_CAL = POLICY.calendars["office"]
BERLIN_CAL = POLICY.calendars["berlin"]
ALLDAY = POLICY.calendars["allday"]


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def email_waiting_since(start: datetime, **kw: object) -> ConversationFacts:
    """An assigned e-mail whose customer waits since `start`: its resolution clock runs."""
    base: dict[str, object] = dict(
        channel="email",
        category="order",
        priority="normal",
        status="open",
        created_at=start,
        assigned=True,
        assigned_at=start,
        first_customer_at=start,
        last_customer_at=start,
    )
    base.update(kw)
    return ConversationFacts(**base)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- the worked examples


def test_an_email_on_the_eve_of_national_day_is_due_after_the_holiday_week():
    d = deadline(POLICY, email_waiting_since(sh(2025, 9, 30, 17, 0)))
    assert d is not None and d.clock is SlaClock.RESOLUTION
    assert d.due_at == sh(2025, 10, 9, 17, 0)
    assert d.calendar_name == "office"
    assert d.due_at.tzinfo is UTC


def test_an_email_after_hours_on_friday_is_due_on_the_saturday_make_up_day():
    start = sh(2025, 10, 10, 18, 45)
    assert add_open_time(OFFICE_CAL, start, 4 * 3600) == sh(2025, 10, 11, 14, 30)
    d = deadline(POLICY, email_waiting_since(start, priority="high"))  # the 4 h override
    assert d is not None and d.due_at == sh(2025, 10, 11, 14, 30)
    assert d.due_at.astimezone(SHANGHAI).weekday() == 5  # a Saturday


def test_berlin_office_hours_across_the_march_daylight_saving_change():
    friday = datetime(2025, 3, 28, 16, 0, tzinfo=BERLIN)  # CET, UTC+1
    due = add_open_time(BERLIN_CAL, friday, 2 * 3600)
    assert due == datetime(2025, 3, 31, 10, 0, tzinfo=BERLIN)  # CEST, UTC+2
    assert due == datetime(2025, 3, 31, 8, 0, tzinfo=UTC)
    # Office hours stay 09:00 local on both sides of a change: October's goes back to UTC+1.
    autumn = add_open_time(BERLIN_CAL, datetime(2025, 10, 24, 13, 0, tzinfo=BERLIN), 8 * 3600)
    assert autumn == datetime(2025, 10, 27, 12, 0, tzinfo=UTC)  # Monday 13:00 CET
    # Open time is real time: 24 open hours from Saturday noon end at 13:00 on Sunday.
    saturday = datetime(2025, 3, 29, 12, 0, tzinfo=BERLIN)
    assert add_open_time(ALLDAY, saturday, 24 * 3600) == datetime(2025, 3, 30, 13, 0, tzinfo=BERLIN)
    # A calendar open around the clock: the Sunday of the change has 23 hours, October's 25.
    assert (
        open_seconds(
            ALLDAY, datetime(2025, 3, 30, tzinfo=BERLIN), datetime(2025, 3, 31, tzinfo=BERLIN)
        )
        == 23 * 3600
    )
    assert (
        open_seconds(
            ALLDAY, datetime(2025, 10, 26, tzinfo=BERLIN), datetime(2025, 10, 27, tzinfo=BERLIN)
        )
        == 25 * 3600
    )


def test_wall_times_that_do_not_exist_or_happen_twice_are_read_one_documented_way():
    text = """\
[calendars.night]
timezone = "Europe/Berlin"
week = { sun = ["01:00-03:00"], mon = ["09:00-10:00"] }
[calendars.gap]
timezone = "Europe/Berlin"
week = { sun = ["02:30-04:00"], mon = ["09:00-10:00"] }
"""
    policy = parse_policy(text, "dst.toml")
    night, gap = policy.calendars["night"], policy.calendars["gap"]
    # Clocks jump 02:00 -> 03:00: the range has one real hour; 02:30 is read as the jump.
    spring = datetime(2025, 3, 30, tzinfo=BERLIN)
    assert open_seconds(night, spring, spring + timedelta(days=1)) == 3600
    assert open_seconds(gap, spring, spring + timedelta(days=1)) == 3600
    assert next_opening(gap, spring) == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)  # 03:00 CEST
    # Clocks go back 03:00 -> 02:00: the repeated hour is open twice, three real hours.
    autumn = datetime(2025, 10, 26, tzinfo=BERLIN)
    assert open_seconds(night, autumn, autumn + timedelta(days=1)) == 3 * 3600


# ---------------------------------------------------------------------- the engine's properties

INSTANTS = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
CALENDARS = st.sampled_from([OFFICE_CAL, BERLIN_CAL, ALLDAY])
SECONDS = st.integers(min_value=0, max_value=30 * 86400)


@settings(max_examples=300, deadline=None)
@given(cal=CALENDARS, start=INSTANTS, a=SECONDS, b=SECONDS)
def test_adding_a_then_b_is_adding_a_plus_b(cal, start, a, b):
    assert add_open_time(cal, add_open_time(cal, start, a), b) == add_open_time(cal, start, a + b)


@settings(max_examples=300, deadline=None)
@given(cal=CALENDARS, start=INSTANTS, a=st.integers(min_value=1, max_value=60 * 86400))
def test_a_deadline_never_falls_inside_a_closed_period(cal, start, a):
    due = add_open_time(cal, start, a)
    # The last microsecond before the deadline was open time: the deadline is in an open period
    # or at the very end of one (a closing time), never in the middle of a closed one.
    assert is_open(cal, due - US)
    assert open_seconds(cal, start, due) == a


@settings(max_examples=200, deadline=None)
@given(
    start=INSTANTS,
    target=st.integers(min_value=0, max_value=3 * 86400),
    pause_at=st.integers(min_value=0, max_value=86400),
    pause_len=st.integers(min_value=0, max_value=2 * 86400),
)
def test_a_calendar_open_around_the_clock_gives_the_deadlines_of_no_calendar(
    start, target, pause_at, pause_len
):
    pause = (start + timedelta(seconds=pause_at), start + timedelta(seconds=pause_at + pause_len))
    common = f'[targets]\nresolution = "{target}s"\n'
    plain = parse_policy(common)
    allday = parse_policy(
        OFFICE + common.replace("[targets]", "[channels.ticket]") + 'calendar = "allday"\n'
    )
    ticket = email_waiting_since(start, channel="ticket", pauses=(pause,))
    a = deadline(plain, ticket)
    b = deadline(allday, ticket)
    assert a is not None and b is not None
    assert (a.due_at, a.calendar_name, b.calendar_name) == (b.due_at, None, "allday")


WEEKS = st.lists(
    st.lists(
        st.tuples(st.integers(0, 23), st.integers(1, 60)).map(
            lambda p: (
                f"{p[0]:02d}:00-{min(p[0] * 60 + p[1], 1440) // 60:02d}:{min(p[0] * 60 + p[1], 1440) % 60:02d}"
            )
        ),
        max_size=1,
    ),
    min_size=7,
    max_size=7,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(week=WEEKS)
def test_a_week_without_open_time_is_refused_at_load(week):
    days = ", ".join(
        f"{day} = [{', '.join(repr(r).replace(chr(39), chr(34)) for r in ranges)}]"
        for day, ranges in zip(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), week, strict=True)
    )
    text = f'[calendars.c]\ntimezone = "UTC"\nweek = {{ {days} }}\n'
    if any(week):
        assert parse_policy(text, "w.toml").calendars["c"].weekly_open_minutes() > 0
    else:
        with pytest.raises(PolicyError) as err:
            parse_policy(text, "w.toml")
        assert (
            str(err.value)
            == "w.toml:3: calendar c: no open time in the week (a clock on it would never run)"
        )


# ---------------------------------------------------------------------- pauses, layers, shipped policy


def test_a_pause_stops_the_clock_only_for_the_open_time_it_covers():
    start = sh(2025, 9, 23, 10, 0)  # a Tuesday
    # Pending from 11:00 to Wednesday 10:00: seven open hours (11-12, 13:30-18:30, 9-10) paused.
    pause = (sh(2025, 9, 23, 11, 0), sh(2025, 9, 24, 10, 0))
    d = deadline(POLICY, email_waiting_since(start, pauses=(pause,)))
    # One hour counted before the pause, seven after it: Wednesday at closing time.
    assert d is not None and d.due_at == sh(2025, 9, 24, 18, 30)
    # A pause that lies entirely outside office hours changes nothing.
    night = (sh(2025, 9, 23, 19, 0), sh(2025, 9, 24, 8, 0))
    alone = deadline(POLICY, email_waiting_since(start))
    assert deadline(POLICY, email_waiting_since(start, pauses=(night,))) == alone


def test_a_pending_conversation_has_no_deadline_but_names_its_calendar():
    start = sh(2025, 9, 23, 10, 0)
    d = deadline(
        POLICY,
        email_waiting_since(start, status="pending", pauses=((sh(2025, 9, 23, 11, 0), None),)),
    )
    assert d is not None and d.due_at is None and d.calendar_name == "office"


def test_a_snoozed_conversation_counts_the_open_time_until_it_wakes():
    start = sh(2025, 9, 23, 10, 0)
    until = sh(2025, 9, 23, 14, 30)  # 11:00-14:30 holds two open hours (11-12, 13:30-14:30)
    d = deadline(
        POLICY,
        email_waiting_since(
            start, status="snoozed", snooze_until=until, pauses=((sh(2025, 9, 23, 11, 0), None),)
        ),
    )
    assert d is not None and d.due_at == add_open_time(OFFICE_CAL, start, 10 * 3600)


def test_rules_name_calendars_in_layers_and_always_turns_one_off():
    text = (
        OFFICE
        + """
[categories.complaint]
calendar = "berlin"

[[override]]
channel = "email"
priority = "urgent"
calendar = "always"
"""
    )
    policy = parse_policy(text, "layers.toml")
    assert policy.calendar_for("email", "order", "normal").name == "office"
    assert policy.calendar_for("email", "complaint", "normal").name == "berlin"
    assert policy.calendar_for("email", "complaint", "urgent") is None
    assert policy.calendar_for("chat", "order", "normal") is None
    start = sh(2025, 10, 1, 12, 0)  # a holiday: around the clock still counts it
    urgent = deadline(policy, email_waiting_since(start, priority="urgent"))
    assert urgent is not None and urgent.due_at == start + timedelta(hours=8)
    assert urgent.calendar_name is None


def test_a_policy_wide_calendar_applies_to_every_clock():
    policy = parse_policy(
        OFFICE.replace("[calendars.office]", 'calendar = "berlin"\n\n[calendars.office]', 1)
    )
    assert policy.calendar_for("chat", "order", "normal").name == "berlin"
    assert policy.calendar_for("email", "order", "normal").name == "office"


def test_the_shipped_policy_puts_email_and_tickets_on_office_hours():
    policy = default_policy()
    office = policy.calendars["office"]
    assert office.timezone == "Asia/Shanghai"
    assert office.week == (((540, 1110),),) * 5 + ((), ())  # Monday-Friday 09:00-18:30
    for channel in ("email", "ticket"):
        assert policy.calendar_for(channel, "order", "normal") is office
    for channel in ("chat", "social", "phone"):
        assert policy.calendar_for(channel, "complaint", "urgent") is None
    # A ticket that arrives on Friday at 18:00 waits for an agent through the weekend: its 24 h
    # assignment target is 24 office hours, half an hour on Friday, then Monday to Wednesday.
    arrived = sh(2025, 10, 17, 18, 0)
    d = deadline(
        policy,
        ConversationFacts(
            channel="ticket",
            category="order",
            priority="normal",
            status="new",
            created_at=arrived,
            first_customer_at=arrived,
            last_customer_at=arrived,
        ),
    )
    assert d is not None and d.clock is SlaClock.ASSIGNMENT
    assert d.due_at == sh(2025, 10, 22, 13, 30)
    chat = deadline(policy, ConversationFacts("chat", "order", "normal", "new", arrived))
    assert chat is not None and chat.due_at == arrived + timedelta(seconds=30)


def test_when_a_waiting_clock_resumes():
    assert next_opening(OFFICE_CAL, sh(2025, 10, 1, 12, 0)) == sh(2025, 10, 9, 9, 0)  # holidays
    assert next_opening(OFFICE_CAL, sh(2025, 10, 9, 12, 30)) == sh(2025, 10, 9, 13, 30)  # lunch
    assert next_opening(OFFICE_CAL, sh(2025, 10, 9, 10, 0)) is None  # open now
    assert is_open(OFFICE_CAL, sh(2025, 10, 11, 9, 0))  # the Saturday make-up day opens at 9
    assert not is_open(OFFICE_CAL, sh(2025, 10, 11, 18, 30))  # and closes at 18:30
    assert not is_open(OFFICE_CAL, sh(2025, 10, 12, 10, 0))  # an ordinary Sunday
    assert is_open(OFFICE_CAL, sh(2025, 9, 28, 10, 0))  # the Sunday make-up day
    # Across a year end, and an instant in any zone.
    assert next_opening(OFFICE_CAL, sh(2025, 12, 31, 19, 0)) == sh(2026, 1, 1, 9, 0)
    assert next_opening(OFFICE_CAL, datetime(2024, 12, 31, 20, tzinfo=UTC)) == sh(2025, 1, 2, 9, 0)


# ---------------------------------------------------------------------- validation

BROKEN = """\
[calendars.a]
timezone = "Mars/Olympus"
holidays = [
  "2025-10-01",
  "2025-13-01",
  "2025-10-08..2025-10-01",
]
workdays = ["2025-10-01"]

[calendars.a.week]
mon = ["09:00-12:00", "11:00-13:00"]
tue = ["9-18"]
wed = ["18:00-09:00"]
funday = ["09:00-10:00"]

[calendars.b]
timezone = "UTC"
week = { sat = [] }

[calendars.c]
timezone = "UTC"
week = { mon = ["09:00-17:00"] }
holidays_ics = "missing.ics"

[channels.email]
calendar = "nowhere"
"""


def test_every_problem_is_named_with_its_file_and_line():
    with pytest.raises(PolicyError) as err:
        parse_policy(BROKEN, "team/sla.toml")
    got = [str(p) for p in err.value.problems]
    expected = [
        "team/sla.toml:2: calendar a: unknown time zone 'Mars/Olympus'",
        "team/sla.toml:5: bad date '2025-13-01' (expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD)",
        "team/sla.toml:6: bad date range '2025-10-08..2025-10-01': it ends before it starts",
        "team/sla.toml:8: calendar a: 2025-10-01 is both a holiday and a make-up workday",
        "team/sla.toml:11: time ranges '09:00-12:00' and '11:00-13:00' overlap",
        "team/sla.toml:12: bad time range '9-18' (expected HH:MM-HH:MM, like 09:00-18:30)",
        "team/sla.toml:13: bad time range '18:00-09:00': it must end after it starts "
        "(a night shift is two ranges, one on each day)",
        "team/sla.toml:14: unknown weekday 'funday' (one of: mon, tue, wed, thu, fri, sat, sun)",
        "team/sla.toml:18: calendar b: no open time in the week (a clock on it would never run)",
        "team/sla.toml:23: holidays_ics: cannot read 'missing.ics': No such file or directory",
        "team/sla.toml:26: unknown calendar 'nowhere' (defined: a, b, c; 'always': around the clock)",
    ]
    assert got == expected
    assert str(err.value).splitlines() == expected


def test_a_broken_calendar_is_reported_with_the_rest_of_the_file():
    text = "warning_ratio = 3\n" + OFFICE + '\n[calendars.x]\ntimezone = "UTC"\n'
    with pytest.raises(PolicyError) as err:
        parse_policy(text.replace('"office"\nresolution', '"offce"\nresolution'), "p.toml")
    messages = [p.message for p in err.value.problems]
    assert any("unknown calendar 'offce'" in m for m in messages)
    assert "warning_ratio must be a number from 0 to 1" in messages
    assert any("calendar x: no open time in the week" in m for m in messages)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.dates().map(str),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    table=st.dictionaries(
        st.sampled_from(["timezone", "week", "holidays", "workdays", "workday_hours", "x"]),
        JSONISH | st.dictionaries(st.sampled_from(["mon", "sun", "x"]), JSONISH),
    )
)
def test_whatever_a_calendar_table_holds_it_loads_or_says_what_is_wrong(table):
    from cs_tui.calendars import parse_calendars
    from cs_tui.content import KeyLines, Problems

    problems = Problems("p.toml", KeyLines(""))
    found = parse_calendars({"c": table}, problems)
    assert bool(found) != bool(problems)


ICS = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//shop//holidays//EN
BEGIN:VEVENT
UID:national-day-2025
DTSTAMP:20250101T000000Z
SUMMARY:National Day
DTSTART;VALUE=DATE:20251001
DTEND;VALUE=DATE:20251009
END:VEVENT
BEGIN:VEVENT
UID:new-year-2026
DTSTAMP:20250101T000000Z
SUMMARY:New Year
DTSTART;VALUE=DATE:20260101
END:VEVENT
END:VCALENDAR
"""


def test_holidays_come_from_an_ics_file_next_to_the_policy(tmp_path: Path):
    (tmp_path / "cn.ics").write_text(ICS, encoding="utf-8")
    policy_file = tmp_path / "sla.toml"
    policy_file.write_text(
        OFFICE.replace(
            'holidays = ["2025-10-01..2025-10-08", "2025-01-01"]', 'holidays_ics = "cn.ics"'
        ),
        encoding="utf-8",
    )
    policy = load_policy(policy_file)
    office = policy.calendars["office"]
    assert date(2025, 10, 1) in office.holidays and date(2025, 10, 8) in office.holidays
    assert date(2025, 10, 9) not in office.holidays  # DTEND is the first day after
    assert date(2026, 1, 1) in office.holidays  # no DTEND: one day
    d = deadline(policy, email_waiting_since(sh(2025, 9, 30, 17, 0)))
    assert d is not None and d.due_at == sh(2025, 10, 9, 17, 0)


def test_an_ics_file_that_is_not_one_is_a_problem_not_a_traceback(tmp_path: Path):
    (tmp_path / "bad.ics").write_bytes(b"BEGIN:VCALENDAR\r\nthis is : not\r\n\x00\xff")
    policy_file = tmp_path / "sla.toml"
    text = '[calendars.c]\ntimezone = "UTC"\nweek = { mon = ["09:00-17:00"] }\nholidays_ics = "bad.ics"\n'
    policy_file.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(policy_file)
    assert str(err.value) == f"{policy_file}:4: holidays_ics: 'bad.ics' is not an iCalendar file"


# ---------------------------------------------------------------------- through the store


def test_the_store_keeps_office_hour_deadlines_for_email_and_wall_time_for_chat(store):
    """The shipped policy, a store on both backends: an e-mail that arrives on Friday evening
    waits for an agent through the weekend; a chat at the same moment is due in 30 s."""
    from cs_tui.data.views import QueueFilter
    from cs_tui.jsonl_lines import IngestRecord

    friday_evening = sh(2026, 11, 13, 18, 0)
    store.ingest(
        [
            IngestRecord(
                "m1", "MAIL-1", "email", "c1", "customer", "Where is my parcel?", friday_evening
            ),
            IngestRecord("m2", "CHAT-1", "chat", "c2", "customer", "hello?", friday_evening),
        ]
    )
    boss = store.ensure_agent("boss", "Boss", role="supervisor")
    rows = {r.external_id: r for r in store.queue(boss, QueueFilter(), limit=10)}
    mail, chat = rows["MAIL-1"], rows["CHAT-1"]
    assert mail.sla_clock == "assignment"
    # Half an hour on Friday, Monday and Tuesday (9.5 h each), 4.5 h on Wednesday.
    assert mail.due_at == sh(2026, 11, 18, 13, 30)
    assert chat.due_at == friday_evening + timedelta(seconds=30)
