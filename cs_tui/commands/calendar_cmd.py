"""`cs-tui calendar ...`: the service-hour calendars of the SLA policy, for people and scripts.

- `calendar show [NAME] [--month YYYY-MM]` draws a month: open days, holidays, make-up workdays,
  readable without colour (letters in English, 休/班 in Chinese as on a Chinese wall calendar);
- `calendar check [FILE]` validates a policy file, one `file:line: problem` per line;
- `calendar next NAME --from ISO --add DURATION` prints when that much open time has passed
  (the deadline a clock on that calendar would get), for scripts and support questions.

The policy is `--policy FILE`, else the config's `sla_policy`, else the shipped one.
"""

from __future__ import annotations

import argparse
import calendar as stdlib_calendar
import sys
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cs_tui.commands.errors import UserError
from cs_tui.commands.options import add_command

if TYPE_CHECKING:
    from cs_tui.calendars import Calendar, Hours
    from cs_tui.sla import SlaPolicy


def register(subparsers: argparse._SubParsersAction) -> None:
    cal = subparsers.add_parser("calendar", help="service-hour calendars of the SLA policy")
    sub = cal.add_subparsers(dest="calendar_command", metavar="ACTION", required=True)

    show = add_command(
        sub,
        "show",
        cmd_calendar_show,
        store=False,
        help="draw a month of a calendar",
        description="Draw a month of a service-hour calendar: open days, holidays and make-up "
        "workdays, with the week's opening hours. Without NAME: every calendar of the policy.",
    )
    show.add_argument("name", nargs="?", metavar="NAME")
    show.add_argument("--month", metavar="YYYY-MM", help="the month (default: this month)")
    show.add_argument("--lang", choices=("zh", "en"), default=argparse.SUPPRESS)
    _policy_option(show)

    check = add_command(
        sub,
        "check",
        cmd_calendar_check,
        store=False,
        help="validate an SLA policy file and its calendars",
        description="Validate an SLA policy file (default: the configured one, else the shipped "
        "one): every problem as file:line: problem. Exit status 1 when there are problems.",
    )
    check.add_argument("file", nargs="?", metavar="FILE")

    nxt = add_command(
        sub,
        "next",
        cmd_calendar_next,
        store=False,
        help="when a duration of open time has passed",
        description="Print the instant (ISO 8601) at which DURATION of open time has passed on "
        "calendar NAME, counting from --from: the deadline a clock on that calendar gets. A "
        "--from without offset is read in the calendar's time zone.",
    )
    nxt.add_argument("name", metavar="NAME")
    nxt.add_argument("--from", dest="start", required=True, metavar="ISO")
    nxt.add_argument("--add", dest="duration", required=True, metavar="DURATION")
    nxt.add_argument("--utc", action="store_true", help="print in UTC, not the calendar's zone")
    _policy_option(nxt)


def _policy_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policy", metavar="FILE", help="SLA policy file (default: the configured one)"
    )


# ---------------------------------------------------------------------- policy


def _configured_policy_path(args: argparse.Namespace) -> str | None:
    from cs_tui.commands.common import settings_for

    return getattr(args, "policy", None) or settings_for(args).sla_policy


def _policy(args: argparse.Namespace) -> SlaPolicy:
    from cs_tui.sla import load_policy

    return load_policy(_configured_policy_path(args))


def _named(policy: SlaPolicy, name: str) -> Calendar:
    found = policy.calendars.get(name)
    if found is None:
        known = ", ".join(sorted(policy.calendars)) or "none"
        raise UserError(f"no calendar {name!r} in {policy.source} (defined: {known})")
    return found


# ---------------------------------------------------------------------- check


def cmd_calendar_check(args: argparse.Namespace) -> int:
    from cs_tui.commands.common import print_problems
    from cs_tui.safe_text import terminal_safe
    from cs_tui.sla import PolicyError, load_policy

    path = args.file or _configured_policy_path(args)
    try:
        policy = load_policy(path)
    except PolicyError as exc:
        print_problems(exc.problems or [exc])
        return 1
    if not policy.calendars:
        summary = "no calendars: every clock runs around the clock"
    else:
        summary = "calendars: " + ", ".join(
            f"{c.name} ({c.timezone}, {_week_hours(c)} a week)" for c in policy.calendars.values()
        )
    sys.stdout.write(terminal_safe(f"{policy.source}: valid; {summary}") + "\n")
    return 0


def _week_hours(calendar: Calendar) -> str:
    minutes = calendar.weekly_open_minutes()
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes % 60 else f"{minutes // 60}h"


# ---------------------------------------------------------------------- next


def cmd_calendar_next(args: argparse.Namespace) -> int:
    from cs_tui.calendars import ALWAYS, add_open_time
    from cs_tui.durations import parse_duration

    try:
        seconds = parse_duration(args.duration)
    except ValueError as exc:
        raise UserError(f"--add: {exc}") from None
    policy = _policy(args)
    calendar = None if args.name == ALWAYS else _named(policy, args.name)
    try:
        start = datetime.fromisoformat(args.start.strip())
    except ValueError:
        raise UserError(
            f"--from: {args.start!r} is not an ISO date and time like 2025-09-30T17:00+08:00"
        ) from None
    if start.tzinfo is None:
        start = start.replace(tzinfo=calendar.zone if calendar else UTC)
    try:
        if calendar is None:
            due = start + timedelta(seconds=seconds)
        else:
            due = add_open_time(calendar, start, seconds)
    except (ValueError, OverflowError) as exc:
        raise UserError(f"cannot compute the deadline: {exc}") from None
    shown = due.astimezone(UTC if args.utc or calendar is None else calendar.zone)
    print(shown.isoformat())
    return 0


# ---------------------------------------------------------------------- show

_TEXT: dict[str, dict[str, Any]] = {
    "en": {
        "weekdays": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        "title": "{name}  {zone}  {month_name} {year}",
        "holiday": "H",
        "workday": "W",
        "closed": ".",
        "hours": "Open: {hours}",
        "closed_word": "closed",
        "legend": "H holiday (closed)   W make-up workday ({hours})   . closed   (blank) open",
        "range": "{first}-{last}",
        "none": "no calendars in {source}: every clock runs around the clock",
    },
    "zh": {
        "weekdays": ("一", "二", "三", "四", "五", "六", "日"),
        "title": "{name}  {zone}  {year}年{month}月",
        "holiday": "休",
        "workday": "班",
        "closed": ".",
        "hours": "营业时间: {hours}",
        "closed_word": "休息",
        "legend": "休 节假日(休息)   班 调休上班日({hours})   . 休息日   (空白) 营业",
        "range": "{first}至{last}",
        "none": "{source} 没有日历: 所有时钟全天候计时",
    },
}
_ZH_DAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_CELL = 5


def cmd_calendar_show(args: argparse.Namespace) -> int:
    from cs_tui.commands.common import settings_for
    from cs_tui.config import resolve_lang
    from cs_tui.safe_text import terminal_safe

    lang = resolve_lang(getattr(args, "lang", None), settings_for(args))
    policy = _policy(args)
    calendars = [_named(policy, args.name)] if args.name else list(policy.calendars.values())
    if not calendars:
        print(terminal_safe(_TEXT[lang]["none"].format(source=policy.source)))
        return 0
    blocks = []
    for calendar in calendars:
        year, month = _month(args.month, calendar)
        blocks.append(render_month(calendar, year, month, lang))
    sys.stdout.write(terminal_safe("\n\n".join(blocks)) + "\n")
    return 0


def _month(text: str | None, calendar: Calendar) -> tuple[int, int]:
    if text is None:
        today = datetime.now(UTC).astimezone(calendar.zone).date()
        return today.year, today.month
    try:
        year_text, month_text = text.strip().split("-")
        year, month = int(year_text), int(month_text)
        date(year, month, 1)
    except ValueError:
        raise UserError(f"--month: {text!r} is not a month like 2025-10") from None
    return year, month


def render_month(calendar: Calendar, year: int, month: int, lang: str) -> str:
    """The month as a Monday-first grid of day numbers, each marked holiday / make-up workday /
    closed, then the week's hours and a legend: no colour needed, CJK columns aligned."""
    from cs_tui.calendars import describe_hours

    text = _TEXT[lang]
    title = text["title"].format(
        name=calendar.name,
        zone=calendar.timezone,
        year=year,
        month=month,
        month_name=stdlib_calendar.month_name[month],
    )
    lines = [title, "".join(_pad(day, _CELL) for day in text["weekdays"]).rstrip()]
    for week in stdlib_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        cells = []
        for day in week:
            if day.month != month:
                cells.append(" " * _CELL)
                continue
            cells.append(_pad(f"{day.day:>2}{_mark(calendar, day, text)}", _CELL))
        lines.append("".join(cells).rstrip())
    lines.append(text["hours"].format(hours=_week_text(calendar, lang)))
    lines.append(text["legend"].format(hours=describe_hours(calendar.workday_hours)))
    return "\n".join(lines)


def _mark(calendar: Calendar, day: date, text: dict[str, Any]) -> str:
    if day in calendar.holidays:
        return str(text["holiday"])
    if day in calendar.workdays:
        return str(text["workday"])
    return "" if calendar.week[day.weekday()] else str(text["closed"])


def _pad(cell: str, width: int) -> str:
    from rich.cells import cell_len

    return cell + " " * max(1, width - cell_len(cell))


def _week_text(calendar: Calendar, lang: str) -> str:
    """ "Mon-Fri 09:00-18:30; Sat-Sun closed": runs of weekdays with the same hours."""
    from cs_tui.calendars import describe_hours

    text = _TEXT[lang]
    names = _ZH_DAY_NAMES if lang == "zh" else text["weekdays"]
    runs: list[tuple[int, int, Hours]] = []
    for index, hours in enumerate(calendar.week):
        if runs and runs[-1][2] == hours:
            runs[-1] = (runs[-1][0], index, hours)
        else:
            runs.append((index, index, hours))
    parts = []
    for first, last, hours in runs:
        days = (
            names[first]
            if first == last
            else str(text["range"]).format(first=names[first], last=names[last])
        )
        shown = describe_hours(hours) if hours else str(text["closed_word"])
        parts.append(f"{days} {shown}")
    return "; ".join(parts)
