"""`cs-tui calendar show / check / next`, run through `cs_tui.cli.main` as the script runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cs_tui.cli import main

POLICY = """\
[calendars.office]
timezone = "Asia/Shanghai"
week = { mon = ["09:00-12:00", "13:30-18:30"], tue = ["09:00-12:00", "13:30-18:30"], wed = ["09:00-12:00", "13:30-18:30"], thu = ["09:00-12:00", "13:30-18:30"], fri = ["09:00-12:00", "13:30-18:30"] }
holidays = ["2025-10-01..2025-10-08"]
workdays = ["2025-09-28", "2025-10-11"]

[channels.email]
calendar = "office"
"""


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "sla.toml"
    path.write_text(POLICY, encoding="utf-8")
    return path


def test_next_prints_the_deadline_in_the_calendars_zone(capsys, policy):
    rc, out, _ = cli(
        capsys, "calendar", "next", "office", "--from", "2025-09-30T17:00", "--add", "8h",
        "--policy", str(policy),
    )  # fmt: skip
    assert (rc, out) == (0, "2025-10-09T17:00:00+08:00\n")
    rc, out, _ = cli(
        capsys, "calendar", "next", "office", "--from", "2025-10-10T10:45:00Z", "--add", "4h",
        "--policy", str(policy), "--utc",
    )  # fmt: skip
    assert (rc, out) == (0, "2025-10-11T06:30:00+00:00\n")  # 14:30 on the Saturday make-up day


def test_next_uses_the_configured_policy_and_explains_bad_arguments(capsys, policy, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'sla_policy = "{policy}"\n', encoding="utf-8")
    rc, out, _ = cli(
        capsys, "calendar", "next", "office", "--from", "2025-09-30T17:00+08:00", "--add", "1h30m",
        "--config", str(config),
    )  # fmt: skip
    assert (rc, out) == (0, "2025-09-30T18:30:00+08:00\n")
    base = ("calendar", "next", "--policy", str(policy))
    rc, _, err = cli(capsys, *base, "night", "--from", "2025-09-30T17:00", "--add", "1h")
    assert rc == 2 and err == f"cs-tui: no calendar 'night' in {policy} (defined: office)\n"
    rc, _, err = cli(capsys, *base, "office", "--from", "tomorrow", "--add", "1h")
    assert rc == 2 and "--from: 'tomorrow' is not an ISO date and time" in err
    rc, _, err = cli(capsys, *base, "office", "--from", "2025-09-30T17:00", "--add", "soon")
    assert rc == 2 and "--add: 'soon' is not a duration" in err
    rc, _, err = cli(capsys, *base, "office", "--from", "2025-09-30T17:00", "--add", "99999999w")
    assert (rc, err) == (2, "cs-tui: cannot compute the deadline: it falls after the year 9998\n")


def test_show_draws_the_month_readable_without_colour(capsys, policy):
    rc, out, _ = cli(
        capsys,
        "calendar",
        "show",
        "office",
        "--month",
        "2025-10",
        "--policy",
        str(policy),
        "--lang",
        "en",
    )
    assert rc == 0
    assert out.splitlines() == [
        "office  Asia/Shanghai  October 2025",
        "Mon  Tue  Wed  Thu  Fri  Sat  Sun",
        "           1H   2H   3H   4H   5H",
        " 6H   7H   8H   9   10   11W  12.",
        "13   14   15   16   17   18.  19.",
        "20   21   22   23   24   25.  26.",
        "27   28   29   30   31",
        "Open: Mon-Fri 09:00-12:00 13:30-18:30; Sat-Sun closed",
        "H holiday (closed)   W make-up workday (09:00-12:00 13:30-18:30)   . closed   (blank) open",
    ]
    assert "\x1b" not in out


def test_show_in_chinese_marks_holidays_and_make_up_days_as_a_wall_calendar_does(capsys, policy):
    rc, out, _ = cli(
        capsys, "calendar", "show", "--month", "2025-09", "--policy", str(policy), "--lang", "zh"
    )
    lines = out.splitlines()
    assert rc == 0 and lines[0] == "office  Asia/Shanghai  2025年9月"
    assert lines[1] == "一   二   三   四   五   六   日"
    assert lines[5] == "22   23   24   25   26   27.  28班"
    assert lines[-2] == "营业时间: 周一至周五 09:00-12:00 13:30-18:30; 周六至周日 休息"
    assert lines[-1].startswith("休 节假日(休息)   班 调休上班日(09:00-12:00 13:30-18:30)")


def test_show_without_calendars_says_clocks_run_around_the_clock(capsys, tmp_path):
    bare = tmp_path / "bare.toml"
    bare.write_text('[targets]\nfirst_response = "20s"\n', encoding="utf-8")
    rc, out, _ = cli(capsys, "calendar", "show", "--policy", str(bare), "--lang", "en")
    assert (rc, out) == (0, f"no calendars in {bare}: every clock runs around the clock\n")


def test_check_lists_every_problem_with_its_line(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        POLICY.replace('"2025-10-11"', '"2025-10-32"').replace("Asia/Shanghai", "Asia/Atlantis"),
        encoding="utf-8",
    )
    rc, out, err = cli(capsys, "calendar", "check", str(bad))
    assert rc == 1
    assert out.splitlines() == [
        f"{bad}:2: calendar office: unknown time zone 'Asia/Atlantis'",
        f"{bad}:5: bad date '2025-10-32' (expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD)",
    ]
    assert err == "2 problem(s)\n"


def test_check_of_a_good_file_and_of_the_shipped_policy(capsys, policy):
    rc, out, _ = cli(capsys, "calendar", "check", str(policy))
    assert (rc, out) == (0, f"{policy}: valid; calendars: office (Asia/Shanghai, 40h a week)\n")
    rc, out, _ = cli(capsys, "calendar", "check")
    assert rc == 0
    assert out == (
        "cs_tui/policy/sla.toml: valid; calendars: office (Asia/Shanghai, 47h30m a week)\n"
    )


def test_check_of_a_file_that_is_not_there_or_not_toml(capsys, tmp_path):
    rc, out, _ = cli(capsys, "calendar", "check", str(tmp_path / "nope.toml"))
    assert rc == 1 and out.startswith(f"{tmp_path / 'nope.toml'}:1: cannot read policy file")
    junk = tmp_path / "junk.toml"
    junk.write_text("[calendars.office\nweek = 3\n", encoding="utf-8")
    rc, out, _ = cli(capsys, "calendar", "check", str(junk))
    assert rc == 1 and out.startswith(f"{junk}:1: not valid TOML")
