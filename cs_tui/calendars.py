"""Service-hour calendars: when a team is open, and how much open time lies between two instants.

An SLA clock on a calendar counts only open time: a 24 h e-mail target that starts on the eve of
a week of public holidays is due days later. This module knows nothing of conversations or SLA
clocks; `cs_tui.sla` asks it two questions (`add_open_time`, `open_seconds`) and the screens a
third (`is_open` / `next_opening`).

A calendar is a week of local opening hours in one IANA time zone, minus holidays, plus make-up
workdays (调休: weekend days a team works, open with `workday_hours`).

How wall times become instants (documented because daylight saving makes it a choice):

- each day's ranges are local wall times converted on that day with zoneinfo, so "09:00" is 09:00
  in summer and in winter, and the open time of a day is the real time between its ends;
- a wall time that does not exist (clocks jump forward, e.g. 02:30 in Berlin on the last Sunday of
  March) is read as the instant the clocks jump: a range "01:00-03:00" that day is one hour long;
- a wall time that happens twice (clocks go back) is its first occurrence: a range "01:00-03:00"
  on the last Sunday of October in Berlin is three hours long;
- an interval is open from its start (included) to its end (excluded); "24:00" ends a day.

Speed: the open intervals of one local year are computed once per calendar (about 500 of them)
with the open time accumulated at each, so adding open time or measuring it between two instants
is two binary searches, whatever the holidays, breaks or weekends in between (about 3 µs).
Everything is counted in integer microseconds, so adding a then b is exactly adding a + b.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cs_tui.content import Problem, Problems

__all__ = [
    "ALWAYS",
    "WEEKDAYS",
    "Calendar",
    "add_open_time",
    "is_open",
    "next_opening",
    "open_seconds",
    "parse_calendars",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = "always"
"""The reserved calendar name for "around the clock": a rule naming it turns a calendar off."""

Hours = tuple[tuple[int, int], ...]
"""A day's opening hours: (start, end) minutes after local midnight, sorted, not overlapping."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_RANGE_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_RANGE_DAYS = 366
_MAX_ICS_BYTES = 2_000_000
_LAST_YEAR = 9998
_MEAN_YEAR_US = 31_556_952_000_000  # 365.2425 days
_CALENDAR_KEYS = ("timezone", "week", "holidays", "holidays_ics", "workdays", "workday_hours")


@dataclass
class _Year:
    """One local year's open intervals in UTC microseconds, with the open time up to each end."""

    starts: list[int]
    ends: list[int]
    cum_end: list[int]  # open microseconds of the year up to the end of interval k

    @property
    def total(self) -> int:
        return self.cum_end[-1] if self.cum_end else 0

    def position(self, us: int) -> int:
        """Open microseconds of the year before the instant `us` (which lies within the year)."""
        i = bisect_right(self.ends, us)
        if i == len(self.ends):
            return self.total
        before = self.cum_end[i - 1] if i else 0
        return before + max(0, us - self.starts[i])

    def instant(self, position: int) -> int:
        """The instant at which `position` (0 < position <= total) open microseconds have passed:
        the end of an interval when it is reached exactly, never the start of the next one."""
        k = bisect_left(self.cum_end, position)
        before = self.cum_end[k - 1] if k else 0
        return self.starts[k] + (position - before)


@dataclass(frozen=True)
class Calendar:
    """Opening hours in one time zone; build it with `parse_calendars` (which validates)."""

    name: str
    timezone: str
    week: tuple[Hours, ...]  # Monday first, 7 entries
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    workday_hours: Hours = ()
    zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _years: dict[int, _Year] = field(default_factory=dict, init=False, repr=False, compare=False)
    _year_starts: dict[int, int] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # The year found last, as one tuple (lo, hi, year, block): replaced whole, so a thread that
    # reads it never sees half of one answer and half of another.
    _last: list[tuple[int, int, int, _Year]] = field(
        default_factory=list, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", ZoneInfo(self.timezone))

    # ------------------------------------------------------------------ local days

    def hours_on(self, day: date) -> Hours:
        """The local opening hours of one date: none on a holiday, `workday_hours` on a make-up
        workday, else the week's hours for its weekday."""
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self.workday_hours
        return self.week[day.weekday()]

    def weekly_open_minutes(self) -> int:
        return sum(end - start for day in self.week for start, end in day)

    # ------------------------------------------------------------------ instants

    def _instant(self, day: date, minute: int) -> int:
        """UTC microseconds of local wall time `minute` on `day` (see the module's DST rules)."""
        if minute >= 1440:
            day, minute = day + timedelta(days=1), minute - 1440
        local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=self.zone)
        utc = local.astimezone(UTC)
        if utc.astimezone(self.zone).replace(tzinfo=None) == local.replace(tzinfo=None):
            return (utc - _EPOCH) // _US
        return self._gap_end(local)

    def _gap_end(self, local: datetime) -> int:
        """The instant the clocks jump over a nonexistent wall time (first second of new offset)."""
        lo = int(local.replace(fold=1).astimezone(UTC).timestamp())  # before the jump
        hi = int(local.replace(fold=0).astimezone(UTC).timestamp())  # after the jump
        after = datetime.fromtimestamp(hi, UTC).astimezone(self.zone).utcoffset()
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if datetime.fromtimestamp(mid, UTC).astimezone(self.zone).utcoffset() == after:
                hi = mid
            else:
                lo = mid
        return hi * 1_000_000

    def _year_start(self, year: int) -> int:
        found = self._year_starts.get(year)
        if found is None:
            found = self._year_starts[year] = self._instant(date(year, 1, 1), 0)
        return found

    def _locate(self, us: int) -> tuple[int, _Year]:
        """The local year an instant falls in, and its intervals. The last answer is kept: the
        instants a caller asks about in a row almost always share a year."""
        last = self._last[0] if self._last else None
        if last is not None and last[0] <= us < last[1]:
            return last[2], last[3]
        year = min(max(1970 + us // _MEAN_YEAR_US, 2), _LAST_YEAR - 1)  # off by one at most
        while year > 2 and us < self._year_start(year):
            year -= 1
        while year < _LAST_YEAR - 1 and us >= self._year_start(year + 1):
            year += 1
        block = self._year(year)
        found = (self._year_start(year), self._year_start(year + 1), year, block)
        if self._last:
            self._last[0] = found
        else:
            self._last.append(found)
        return year, block

    def _year(self, year: int) -> _Year:
        found = self._years.get(year)
        if found is None:
            found = self._years[year] = self._build_year(year)
        return found

    def _build_year(self, year: int) -> _Year:
        starts: list[int] = []
        ends: list[int] = []
        cum: list[int] = []
        total = 0
        day = date(year, 1, 1)
        one = timedelta(days=1)
        while day.year == year:
            for start_min, end_min in self.hours_on(day):
                start = self._instant(day, start_min)
                end = self._instant(day, end_min)
                if ends and start <= ends[-1]:  # touching the previous interval: one interval
                    start = ends[-1]
                    if end <= start:
                        continue
                    total += end - ends[-1]
                    ends[-1] = end
                    cum[-1] = total
                    continue
                if end <= start:  # a range that fell entirely into a daylight-saving jump
                    continue
                total += end - start
                starts.append(start)
                ends.append(end)
                cum.append(total)
            day += one
        return _Year(starts, ends, cum)

    def _last_special_year(self) -> int:
        days = self.holidays | self.workdays
        return max(d.year for d in days) if days else 0


def _to_us(instant: datetime) -> int:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("an instant needs a time zone (aware datetime)")
    return (instant - _EPOCH) // _US


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def add_open_time(calendar: Calendar, start: datetime, seconds: float) -> datetime:
    """The instant (aware UTC) at which `seconds` of open time have passed since `start`.

    A start while closed begins counting at the next opening; a target that runs out exactly at
    a closing time is due at that closing time. Zero seconds is `start` itself.
    """
    us = _to_us(start)
    need = round(seconds * 1_000_000)
    if need <= 0:
        return _from_us(us)
    year, block = calendar._locate(us)
    yearly = max(1, calendar.weekly_open_minutes()) * 60_000_000 * 52
    if year + need // yearly >= _LAST_YEAR:  # refused before building thousands of years
        raise ValueError("it falls after the year 9998")
    while True:
        position = block.position(us)
        if position + need <= block.total:
            return _from_us(block.instant(position + need))
        need -= block.total - position
        year += 1
        if year >= _LAST_YEAR:
            raise ValueError("it falls after the year 9998")
        us = calendar._year_start(year)
        block = calendar._year(year)


def open_seconds(calendar: Calendar, start: datetime, end: datetime) -> float:
    """Seconds of open time between two instants (0 when `end` is not after `start`)."""
    a, b = _to_us(start), _to_us(end)
    if b <= a:
        return 0.0
    ya, first = calendar._locate(a)
    yb, last = calendar._locate(b)
    if ya == yb:
        return (first.position(b) - first.position(a)) / 1_000_000
    total = first.total - first.position(a)
    for year in range(ya + 1, yb):
        total += calendar._year(year).total
    return (total + last.position(b)) / 1_000_000


def is_open(calendar: Calendar, at: datetime) -> bool:
    """Whether the team is open at the instant `at`."""
    us = _to_us(at)
    _year, block = calendar._locate(us)
    i = bisect_right(block.ends, us)
    return i < len(block.ends) and block.starts[i] <= us


def next_opening(calendar: Calendar, at: datetime) -> datetime | None:
    """When a clock that is waiting at `at` resumes: None while the calendar is open at `at`,
    else the next opening instant (aware UTC)."""
    us = _to_us(at)
    year, block = calendar._locate(us)
    i = bisect_right(block.ends, us)
    if i < len(block.ends):
        return None if block.starts[i] <= us else _from_us(block.starts[i])
    # Holidays are finite and the week has open time: some year after the last one opens.
    last = max(year, calendar._last_special_year()) + 2
    while year < min(last, _LAST_YEAR):
        year += 1
        block = calendar._year(year)
        if block.starts:
            return _from_us(block.starts[0])
    raise ValueError(f"calendar {calendar.name!r} never opens after {at.isoformat()}")


@dataclass(frozen=True)
class Reopening:
    """When a closed team is back, as customers are told (the web chat's offline note, the
    e-mail acknowledgement): the instant, the same in the calendar's own zone, and whether it
    is far enough away (six days or more) that a weekday alone would mislead."""

    at: datetime  # aware UTC
    local: datetime  # in the calendar's zone
    far: bool


def reopening(calendar: Calendar, now: datetime) -> Reopening | None:
    """None while the calendar is open at `now`, else when it opens next."""
    opening = next_opening(calendar, now)
    if opening is None:
        return None
    return Reopening(opening, opening.astimezone(calendar.zone), opening - now >= timedelta(days=6))


# ---------------------------------------------------------------------- reading the policy file


def parse_calendars(
    table: Any, problems: Problems, *, base_dir: Path | None = None, text: str = ""
) -> dict[str, Calendar]:
    """The `[calendars.NAME]` tables of a policy file; every problem goes to `problems` at the
    line of the key (or the array item) at fault. Calendars with problems are left out."""
    if not isinstance(table, dict):
        problems.add("[calendars] must be a table of calendars", "calendars")
        return {}
    items = _ItemLines(text)
    out: dict[str, Calendar] = {}
    for name, raw in table.items():
        where = ("calendars", name)
        if name == ALWAYS:
            problems.add(f"calendar name {ALWAYS!r} is reserved for around the clock", *where)
            continue
        if not isinstance(raw, dict):
            problems.add(f"[calendars.{name}] must be a table", *where)
            continue
        before = len(problems)
        calendar = _calendar(name, raw, problems, base_dir, items)
        if calendar is not None and len(problems) == before:
            out[name] = calendar
    return out


def _calendar(
    name: str,
    raw: dict[str, Any],
    problems: Problems,
    base_dir: Path | None,
    items: _ItemLines,
) -> Calendar | None:
    where = ("calendars", name)
    for key in raw:
        if key not in _CALENDAR_KEYS:
            problems.add(
                f"calendar {name}: unknown setting {key!r} (one of: {', '.join(_CALENDAR_KEYS)})",
                *where,
                key,
            )
    zone_name = raw.get("timezone")
    if zone_name is None:
        problems.add(f"calendar {name}: missing timezone (an IANA name like Asia/Shanghai)", *where)
    elif not _zone_ok(zone_name):
        problems.add(f"calendar {name}: unknown time zone {zone_name!r}", *where, "timezone")
    week = _week(name, raw.get("week", {}), problems, items)
    if week is not None and not any(week):
        problems.add(
            f"calendar {name}: no open time in the week (a clock on it would never run)",
            *where,
            *(("week",) if "week" in raw else ()),
        )
    holidays = _dates(raw.get("holidays", []), problems, items, (*where, "holidays"))
    if "holidays_ics" in raw:
        holidays |= _ics_dates(raw["holidays_ics"], problems, base_dir, (*where, "holidays_ics"))
    workdays = _dates(raw.get("workdays", []), problems, items, (*where, "workdays"))
    for day in sorted(workdays & holidays):
        items.add(
            problems,
            f"calendar {name}: {day.isoformat()} is both a holiday and a make-up workday",
            (*where, "workdays"),
            day.isoformat(),
        )
    if "workday_hours" in raw:
        workday_hours = _hours(raw["workday_hours"], problems, items, (*where, "workday_hours"))
    else:
        workday_hours = week[0] if week else ()
        if workdays and week is not None and not workday_hours:
            problems.add(
                f"calendar {name}: make-up workdays need workday_hours (Monday is closed)",
                *where,
                "workdays",
            )
    if week is None or workday_hours is None or zone_name is None or not _zone_ok(zone_name):
        return None
    return Calendar(name, zone_name, week, frozenset(holidays), frozenset(workdays), workday_hours)


def _zone_ok(name: Any) -> bool:
    if not isinstance(name, str) or not name or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _week(name: str, raw: Any, problems: Problems, items: _ItemLines) -> tuple[Hours, ...] | None:
    path = ("calendars", name, "week")
    if not isinstance(raw, dict):
        problems.add(f"calendar {name}: week must be a table like {{ mon = [...] }}", *path)
        return None
    days: list[Hours] = [()] * 7
    ok = True
    for key, ranges in raw.items():
        if key not in WEEKDAYS:
            problems.add(f"unknown weekday {key!r} (one of: {', '.join(WEEKDAYS)})", *path, key)
            ok = False
            continue
        hours = _hours(ranges, problems, items, (*path, key))
        if hours is None:
            ok = False
        else:
            days[WEEKDAYS.index(key)] = hours
    return tuple(days) if ok else None


def _hours(raw: Any, problems: Problems, items: _ItemLines, path: tuple[str, ...]) -> Hours | None:
    """A list of "HH:MM-HH:MM" ranges, sorted; None (and problems) when any is wrong."""
    if not isinstance(raw, list):
        problems.add('expected a list of time ranges like ["09:00-12:00", "13:30-18:30"]', *path)
        return None
    parsed: list[tuple[int, int, str]] = []
    ok = True
    for item in raw:
        span = _time_range(item)
        if isinstance(span, str):
            items.add(problems, span, path, item)
            ok = False
        else:
            parsed.append((*span, str(item)))
    parsed.sort()
    for (_s1, e1, t1), (s2, _e2, t2) in zip(parsed, parsed[1:], strict=False):
        if s2 < e1:
            items.add(problems, f"time ranges {t1!r} and {t2!r} overlap", path, t2)
            ok = False
    return tuple((s, e) for s, e, _t in parsed) if ok else None


def _time_range(item: Any) -> tuple[int, int] | str:
    """(start, end) minutes of "HH:MM-HH:MM", or the problem with it."""
    found = _RANGE_RE.match(item) if isinstance(item, str) else None
    if found is None:
        return f"bad time range {item!r} (expected HH:MM-HH:MM, like 09:00-18:30)"
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        return f"bad time range {item!r}: no such time of day (00:00 to 24:00)"
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        return (
            f"bad time range {item!r}: it must end after it starts "
            "(a night shift is two ranges, one on each day)"
        )
    return start, end


def _dates(raw: Any, problems: Problems, items: _ItemLines, path: tuple[str, ...]) -> set[date]:
    """Dates and "FIRST..LAST" ranges (both days included)."""
    if not isinstance(raw, list):
        problems.add(
            'expected a list of dates like ["2025-10-01..2025-10-08", "2026-01-01"]', *path
        )
        return set()
    out: set[date] = set()
    for item in raw:
        found = _date_item(item)
        if isinstance(found, str):
            items.add(problems, found, path, item)
        else:
            out.update(found)
    return out


def _date_item(item: Any) -> list[date] | str:
    if not isinstance(item, str):
        return f"bad date {item!r} (expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, quoted)"
    first, sep, last = item.partition("..")
    try:
        a = _date(first)
        b = _date(last) if sep else a
    except ValueError:
        return f"bad date {item!r} (expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD)"
    if b < a:
        return f"bad date range {item!r}: it ends before it starts"
    if (b - a).days >= _MAX_RANGE_DAYS:
        return f"bad date range {item!r}: longer than a year"
    return [a + timedelta(days=n) for n in range((b - a).days + 1)]


def _date(text: str) -> date:
    text = text.strip()
    if not _DATE_RE.match(text):
        raise ValueError(text)
    return date.fromisoformat(text)


def _ics_dates(
    raw: Any, problems: Problems, base_dir: Path | None, path: tuple[str, ...]
) -> set[date]:
    """The days of the events in an iCalendar file (an event covers DTSTART up to DTEND,
    excluded, as all-day events are written)."""
    if not isinstance(raw, str) or not raw.strip():
        problems.add("holidays_ics must be the path of an .ics file", *path)
        return set()
    file = Path(raw).expanduser()
    if not file.is_absolute() and base_dir is not None:
        file = base_dir / file
    try:
        with file.open("rb") as handle:
            data = handle.read(_MAX_ICS_BYTES + 1)
    except OSError as exc:
        problems.add(f"holidays_ics: cannot read {raw!r}: {exc.strerror or exc}", *path)
        return set()
    if len(data) > _MAX_ICS_BYTES:
        problems.add(f"holidays_ics: {raw!r} is larger than 2 MB", *path)
        return set()
    found = _read_ics(data)
    if isinstance(found, str):
        problems.add(f"holidays_ics: {raw!r} {found}", *path)
        return set()
    return found


def _read_ics(data: bytes) -> set[date] | str:
    import icalendar

    try:
        parsed = icalendar.Calendar.from_ical(data)
    except Exception:  # noqa: BLE001 - any parser failure on an untrusted file is one problem
        return "is not an iCalendar file"
    out: set[date] = set()
    try:
        for event in parsed.walk("VEVENT"):
            if event.get("RRULE") is not None:
                return (
                    f"has a repeating event ({_summary(event)}): list each year's dates, "
                    "repeats are not expanded"
                )
            start = _ics_day(event.get("DTSTART"))
            if start is None:
                return f"has an event without a start date ({_summary(event)})"
            end = _ics_day(event.get("DTEND"))
            duration = event.get("DURATION")
            if end is None and duration is not None and isinstance(duration.dt, timedelta):
                end = start + timedelta(days=max(1, duration.dt.days))
            if end is None or end <= start:
                end = start + timedelta(days=1)
            if (end - start).days > _MAX_RANGE_DAYS:
                return f"has an event longer than a year ({_summary(event)})"
            out.update(start + timedelta(days=n) for n in range((end - start).days))
    except Exception:  # noqa: BLE001 - malformed properties surface while reading them
        return "has an event the calendar cannot read"
    return out


def _ics_day(prop: Any) -> date | None:
    value = getattr(prop, "dt", None)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None


def _summary(event: Any) -> str:
    text = str(event.get("SUMMARY", "") or "")[:40]
    return repr(text) if text else "no summary"


class _ItemLines:
    """The line of one item of a multi-line array: a problem with the tenth holiday points at
    the tenth holiday's line, not at `holidays =`."""

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()

    def add(self, problems: Problems, message: str, path: tuple[str, ...], item: Any) -> None:
        """A problem on the line of `item` inside the array at `path`."""
        line = self.find(problems.lines.near(*path), item)
        problems.append(Problem(problems.source, line, message))

    def find(self, from_line: int | None, item: Any) -> int | None:
        if from_line is None or not isinstance(item, str):
            return from_line
        needles = (f'"{item}"', f"'{item}'")
        for number in range(from_line, min(len(self._lines), from_line + 500) + 1):
            line = self._lines[number - 1]
            if any(n in line for n in needles):
                return number
            if number > from_line and _starts_key_or_table(line):
                break
        return from_line


def _starts_key_or_table(line: str) -> bool:
    stripped = line.strip()
    return (
        stripped.startswith("[")
        and not stripped.startswith(('["', "['"))
        or ("=" in stripped and not stripped.startswith(("#", '"', "'")))
    )


def describe_hours(hours: Iterable[tuple[int, int]]) -> str:
    """ "09:00-12:00 13:30-18:30", or "closed"."""
    text = " ".join(f"{_hhmm(s)}-{_hhmm(e)}" for s, e in hours)
    return text or "closed"


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def weekly_hours(calendar: Calendar) -> Mapping[str, Hours]:
    return dict(zip(WEEKDAYS, calendar.week, strict=True))
