"""Pure KPI definitions: percentiles, percentages, targets, early-warning config and evaluation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cs_tui.metrics import (
    TARGETS,
    KpiCounts,
    WarningConfig,
    WarningConfigError,
    WindowCounts,
    angry_tally,
    compliance_tally,
    evaluate_warnings,
    format_value,
    is_angry,
    kpis_from_counts,
    nearest_rank,
    parse_since,
    pct,
    percentile,
    warning_config,
)
from tests.conftest import START


@pytest.mark.parametrize(
    ("n", "p", "rank"),
    [
        (0, 50, 0),
        (1, 50, 1),
        (1, 90, 1),
        (4, 50, 2),  # 0.5 * 4 = 2 exactly: the lower middle value
        (5, 50, 3),  # ceil(2.5)
        (10, 90, 9),  # exactly 9, not 10 through float noise
        (11, 90, 10),  # ceil(9.9)
        (100, 99, 99),
        (3, 100, 3),
        (7, 0.1, 1),
    ],
)
def test_nearest_rank(n, p, rank):
    assert nearest_rank(n, p) == rank


def test_percentile_is_a_measured_value():
    assert percentile([40, 10, 30, 20], 50) == 20
    assert percentile([40, 10, 30, 20], 90) == 40
    assert percentile([7.5], 90) == 7.5
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        nearest_rank(3, 0)


def test_pct_rounds_and_guards_zero():
    assert pct(1, 3) == 33.33
    assert pct(2, 3) == 66.67
    assert pct(0, 0) is None
    assert pct(0, 5) == 0.0


def test_parse_since():
    assert [parse_since(s) for s in ("1d", "7d", "30d", " 7D ")] == [1, 7, 30, 7]
    with pytest.raises(ValueError, match="--since must be one of 1d, 7d, 30d"):
        parse_since("2w")


def test_targets_from_the_standards():
    assert TARGETS["frt_p50_s"].met(30) is True and TARGETS["frt_p50_s"].met(30.1) is False
    assert TARGETS["fcr_pct"].met(90) is True and TARGETS["fcr_pct"].met(89.9) is False
    assert TARGETS["complaint_pct"].met(1.0) is False and TARGETS["complaint_pct"].met(0.99)
    assert TARGETS["transfer_pct"].met(20) is True  # "at least 80 % without transfer"
    assert TARGETS["csat_pct"].met(None) is None
    assert TARGETS["volume_per_agent_day"].met(49) is None  # a reference, not a line
    assert str(TARGETS["complaint_pct"]) == "< 1" and str(TARGETS["volume_per_agent_day"]) == "~50"


def test_kpis_from_counts():
    c = KpiCounts(
        start=START - timedelta(days=7),
        end=START,
        conversations=200,
        frt_count=150,
        frt_p50_s=12.0004,
        frt_met=120,
        frt_missed_unanswered=10,
        nrt_count=4,
        nrt_sum_s=100.0,
        resolved_ever=100,
        resolved=95,
        fcr=88,
        transferred=30,
        csat_count=40,
        csat_sum=180,
        csat_satisfied=38,
        complaints=3,
        assigned=140,
        agents=4,
    )
    k = kpis_from_counts(c, compliant=(87, 100))
    assert k.frt_p50_s == 12.0  # rounded to the millisecond
    assert k.first_response_sla_pct == 75.0  # 120 / (150 + 10)
    assert k.nrt_avg_s == 25.0
    assert k.fcr_pct == 88.0
    assert k.transfer_pct == 15.0
    assert k.csat_avg == 4.5 and k.csat_pct == 95.0
    assert k.complaint_pct == 1.5
    assert k.compliant_pct == 87.0 and k.compliant_checked == 100
    assert k.volume_per_agent_day == 5.0  # 140 / 4 agents / 7 days
    d = k.as_dict()
    assert d["start"] == "2026-11-04T09:00:00+00:00" and d["conversations"] == 200


def test_format_value():
    assert format_value("frt_p50_s", 12.34) == "12.3 s"
    assert format_value("resolution_p50_s", 600) == "10.0 min"
    assert format_value("fcr_pct", 88) == "88.0 %"
    assert format_value("fcr_pct", None) == "-"
    assert format_value("conversations", 12345) == "12,345"


def test_compliance_and_anger_tallies():
    def check(text):
        return ["bare refusal"] if "不行" in text else []

    assert compliance_tally(["您好", "不行", "好的"], check) == (2, 3)
    assert compliance_tally([], check) == (0, 0)
    assert angry_tally(["!!", "ok"], lambda t: "angry" if "!" in t else "calm") == (1, 2)


class Result:
    def __init__(self, emotion):
        self.emotion = emotion


@pytest.mark.parametrize(
    ("result", "angry"),
    [
        ("angry", True),
        ("anxious", False),
        (None, False),
        (Result("angry"), True),
        (Result("calm"), False),
        ({"angry": 0.9}, True),
        ({"calm": 1}, False),
        (["anxious", "angry"], True),
        ([Result("calm")], False),
    ],
)
def test_is_angry_accepts_the_shapes_a_detector_returns(result, angry):
    assert is_angry(result) is angry


# -- early-warning configuration ----------------------------------------------------------


def test_warning_config_defaults_and_values():
    cfg = warning_config({})
    assert cfg == WarningConfig()
    cfg = warning_config({"complaint_pct": 3, "window": "30m", "min_volume": 5})
    assert cfg.thresholds["complaint_pct"] == 3.0
    assert cfg.window_s == 1800 and cfg.min_volume == 5


def test_warning_config_errors_name_file_and_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        'agent = "boss"\n\n[warnings]\ncomplaint_pct = 3\nangry_pct = 140\n', encoding="utf-8"
    )
    with pytest.raises(WarningConfigError, match=r"config.toml:5: angry_pct is a percentage"):
        warning_config({"complaint_pct": 3, "angry_pct": 140}, str(path))
    path.write_text('[warnings]\nwindow = "soon"\n', encoding="utf-8")
    with pytest.raises(WarningConfigError, match=r"config.toml:2: window: 'soon' is not"):
        warning_config({"window": "soon"}, str(path))
    path.write_text("[warnings]\nbreach = 5\n", encoding="utf-8")
    with pytest.raises(WarningConfigError, match=r":2: unknown warnings key 'breach'"):
        warning_config({"breach": 5}, str(path))
    with pytest.raises(WarningConfigError, match="must be a number"):
        warning_config({"breach_pct": "high"})
    with pytest.raises(WarningConfigError, match="from 1m to 7d"):
        warning_config({"window": "30s"})
    with pytest.raises(WarningConfigError, match="whole number"):
        warning_config({"min_volume": 2.5})


def test_warnings_fire_at_the_threshold_and_clear_below_it():
    cfg = warning_config({"complaint_pct": 5, "breach_pct": 20, "angry_pct": 10, "min_volume": 20})

    def raised(counts):
        return {r.metric for r in evaluate_warnings(counts, cfg) if r.raised}

    assert raised(WindowCounts(conversations=100, complaints=4, breached=19)) == set()
    # 5 of 100 is exactly the threshold: raised.
    assert raised(WindowCounts(conversations=100, complaints=5, breached=20)) == {
        "complaint_pct",
        "breach_pct",
    }
    assert raised(WindowCounts(customer_messages=50, angry=5)) == {"angry_pct"}
    # Too few conversations to judge: 3 of 10 complaints is not a crisis signal yet.
    readings = evaluate_warnings(WindowCounts(conversations=10, complaints=3), cfg)
    assert readings[0].metric == "complaint_pct" and readings[0].value is None
    assert not readings[0].raised


def test_a_zero_threshold_turns_a_warning_off():
    cfg = warning_config({"complaint_pct": 0, "min_volume": 1})
    [complaint] = [
        r
        for r in evaluate_warnings(WindowCounts(conversations=1, complaints=1), cfg)
        if r.metric == "complaint_pct"
    ]
    assert complaint.value == 100.0 and not complaint.raised


def test_domain_modules_do_not_import_textual():
    import subprocess
    import sys

    code = (
        "import sys, cs_tui.metrics, cs_tui.data.kpi_queries; "
        "assert 'textual' not in sys.modules, 'textual imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_warning_config_points_at_the_warnings_table_not_a_same_named_key_elsewhere(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        '# warnings: see below\nagent = "boss"\n[keymap]\nwindow = "f5"\n\n[warnings]\n'
        'window = "soon"\n',
        encoding="utf-8",
    )
    with pytest.raises(WarningConfigError) as err:
        warning_config({"window": "soon"}, str(path))
    assert str(err.value).startswith(f"{path}:7: window: 'soon' is not")
    path.write_text('agent = "boss"\nwarnings = { angry_pct = 140 }\n', encoding="utf-8")
    with pytest.raises(WarningConfigError, match=r"config.toml:2: angry_pct is a percentage"):
        warning_config({"angry_pct": 140}, str(path))


def test_warning_config_without_a_file_names_no_line():
    with pytest.raises(WarningConfigError) as err:
        warning_config({"angry_pct": 140})
    assert str(err.value) == "config: angry_pct is a percentage from 0 to 100"
