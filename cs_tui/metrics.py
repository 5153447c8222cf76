"""Team and agent KPIs (STANDARDS.md §7) and the crisis early warning: pure definitions.

The store aggregates raw counts in SQL (`cs_tui.data.kpi_queries`); this module turns them into the
figures a supervisor reads, compares them with the targets, and decides whether an early warning
is raised. No SQL and no textual here, so every definition is testable with plain numbers.

Definitions (docs/metrics.md explains them for supervisors):

* **Window.** `[start, end)`, usually the last 1, 7 or 30 days ending now. A conversation belongs
  to the window when it was *created* in it (an arrival cohort); every KPI of a window is about
  the same conversations. Role-play (`training`) conversations are never counted.
* **Percentiles** are nearest-rank: the value at rank `ceil(p/100 * n)` of the ascending values
  (rank at least 1). p50 of 10, 20, 30, 40 is 20; p90 is 40. It is always one of the measured
  values, and both backends compute it the same way (the rank is fetched with ORDER BY/OFFSET).
* **FRT** (first response time): `first_response_s`, from the first customer message to the first
  agent reply, over channels where the first-response clock runs (chat, phone, social; tickets
  and e-mail have an assignment clock instead).
* **first_response_sla_pct**: of those channels' conversations whose first reply was due (replied,
  or unanswered past their deadline), the share replied within the policy target for their
  channel/category/priority (`SlaPolicy.target("first_response", ...)`).
* **NRT** (next response time): on chat and social, each customer message that is directly
  followed by an agent reply (notes and system lines ignored), excluding the first reply: the
  seconds between them, averaged. This matches the SLA engine, whose next-response clock runs from
  the last customer message.
* **Resolution time**: `resolved_at - first customer message` (created_at when there is none) of
  conversations resolved now (status resolved or closed).
* **FCR** (first-contact resolution): of conversations ever resolved, the share resolved now, never
  transferred between agents (`transfers == 0`) and resolved exactly once (a second `resolve`
  event means it was reopened; one reopened and still open counts as not FCR).
* **transfer_pct**: conversations handed from one agent to another / all.
* **CSAT**: `csat_avg` is the mean score (1-5) of rated conversations; `csat_pct` the share rated
  4 or 5 ("satisfied"), the figure the 95 % target is about.
* **complaint_pct**: complaint-category conversations / all.
* **compliant_pct**: agent messages sent in the window without a finding of the compliance checker
  / agent messages checked (the newest `sample` messages, so the cost is bounded).
* **volume per agent**: conversations with an assignee / distinct assignees / days in the window.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from cs_tui.content import KeyLines, Problem
from cs_tui.durations import parse_duration
from cs_tui.i18n import N_, _

if TYPE_CHECKING:
    from cs_tui.data.store import Store
    from cs_tui.data.views import AgentInfo

SINCE_CHOICES = {"1d": 1, "7d": 7, "30d": 30}


def nearest_rank(n: int, pct: float) -> int:
    """The 1-based rank of the pct-th percentile among n ascending values (0 when n is 0)."""
    if n <= 0:
        return 0
    if not 0 < pct <= 100:
        raise ValueError("a percentile is above 0 and at most 100")
    # Exact arithmetic: 90 % of 10 is rank 9, not ceil(9.000000000000002) = 10.
    rank = math.ceil(Fraction(str(pct)) * n / 100)
    return max(1, min(n, rank))


def percentile(values: Iterable[float], pct: float) -> float | None:
    """Nearest-rank percentile of `values`; None when there are none."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[nearest_rank(len(ordered), pct) - 1]


def pct(part: int | float, whole: int | float) -> float | None:
    """part/whole as a percentage, None when there is nothing to divide by."""
    if not whole:
        return None
    return round(100.0 * part / whole, 2)


def parse_since(text: str) -> int:
    """Days in a --since value: 1d, 7d or 30d."""
    days = SINCE_CHOICES.get((text or "").strip().lower())
    if days is None:
        raise ValueError(f"--since must be one of {', '.join(SINCE_CHOICES)}, not {text!r}")
    return days


def window(end: datetime, days: int) -> tuple[datetime, datetime]:
    return end - timedelta(days=days), end


# -- targets (STANDARDS.md §7) -----------------------------------------------------------


@dataclass(frozen=True)
class Target:
    op: str  # "<=", ">=", "<", "~"
    value: float
    note: str = ""

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        if self.op == "<=":
            return value <= self.value
        if self.op == ">=":
            return value >= self.value
        if self.op == "<":
            return value < self.value
        return None  # "~": a reference, not a pass/fail line

    def __str__(self) -> str:
        number = f"{self.value:g}"
        return f"{self.op} {number}" if self.op != "~" else f"~{number}"


TARGETS: dict[str, Target] = {
    "frt_p50_s": Target("<=", 30, "first response (IM) within 30 s"),
    "frt_p90_s": Target("<=", 30, "first response (IM) within 30 s"),
    "nrt_avg_s": Target("<=", 60, "each later message answered within 60 s"),
    "resolution_p50_s": Target("<=", 600, "routine problems resolved within 10 min"),
    "frt_business_p50_s": Target("<=", 30, "first response (IM) within 30 s"),
    "frt_business_p90_s": Target("<=", 30, "first response (IM) within 30 s"),
    "resolution_business_p50_s": Target("<=", 600, "routine problems resolved within 10 min"),
    "fcr_pct": Target(">=", 90, "first-contact resolution"),
    "transfer_pct": Target("<=", 20, "at least 80 % handled without transfer"),
    "csat_pct": Target(">=", 95, "customers satisfied (4-5 of 5)"),
    "complaint_pct": Target("<", 1, "complaint rate"),
    "compliant_pct": Target(">=", 87, "mystery-shopper audits: 61 % -> 87 % after training"),
    "volume_per_agent_day": Target("~", 50, "about 50 problems per agent a day"),
}


# -- raw counts in, KPIs out -------------------------------------------------------------


@dataclass(frozen=True)
class KpiCounts:
    """What the store aggregates for one window; every field is a count, sum or measured value."""

    start: datetime
    end: datetime
    conversations: int = 0
    frt_count: int = 0  # replied conversations on first-response channels
    frt_p50_s: float | None = None
    frt_p90_s: float | None = None
    frt_met: int = 0  # within target, in business time where a calendar applies
    frt_missed_unanswered: int = 0
    frt_business_p50_s: float | None = None
    frt_business_p90_s: float | None = None
    resolution_business_p50_s: float | None = None
    resolution_business_p90_s: float | None = None
    nrt_count: int = 0
    nrt_sum_s: float = 0.0
    resolved_ever: int = 0
    resolved: int = 0
    resolution_p50_s: float | None = None
    resolution_p90_s: float | None = None
    fcr: int = 0
    transferred: int = 0
    csat_count: int = 0
    csat_sum: int = 0
    csat_satisfied: int = 0
    complaints: int = 0
    assigned: int = 0
    agents: int = 0


@dataclass(frozen=True)
class Kpis:
    start: datetime
    end: datetime
    conversations: int
    frt_p50_s: float | None
    frt_p90_s: float | None
    first_response_sla_pct: float | None
    nrt_avg_s: float | None
    resolved: int
    resolution_p50_s: float | None
    resolution_p90_s: float | None
    frt_business_p50_s: float | None
    frt_business_p90_s: float | None
    resolution_business_p50_s: float | None
    resolution_business_p90_s: float | None
    fcr_pct: float | None
    transfer_pct: float | None
    csat_avg: float | None
    csat_pct: float | None
    csat_count: int
    complaint_pct: float | None
    compliant_pct: float | None
    compliant_checked: int
    volume_per_agent_day: float | None
    agents: int

    def as_dict(self) -> dict:
        out = asdict(self)
        out["start"] = self.start.isoformat()
        out["end"] = self.end.isoformat()
        return out


def kpis_from_counts(
    c: KpiCounts, *, compliant: tuple[int, int] | None = None, days: float | None = None
) -> Kpis:
    """The KPIs of one window; `compliant` is (messages without findings, messages checked)."""
    due = c.frt_count + c.frt_missed_unanswered
    days = days if days is not None else max((c.end - c.start).total_seconds() / 86400, 1e-9)
    ok, checked = compliant if compliant is not None else (0, 0)
    return Kpis(
        start=c.start,
        end=c.end,
        conversations=c.conversations,
        frt_p50_s=_round(c.frt_p50_s),
        frt_p90_s=_round(c.frt_p90_s),
        first_response_sla_pct=pct(c.frt_met, due),
        nrt_avg_s=_round(c.nrt_sum_s / c.nrt_count) if c.nrt_count else None,
        resolved=c.resolved,
        resolution_p50_s=_round(c.resolution_p50_s),
        resolution_p90_s=_round(c.resolution_p90_s),
        frt_business_p50_s=_round(c.frt_business_p50_s),
        frt_business_p90_s=_round(c.frt_business_p90_s),
        resolution_business_p50_s=_round(c.resolution_business_p50_s),
        resolution_business_p90_s=_round(c.resolution_business_p90_s),
        fcr_pct=pct(c.fcr, c.resolved_ever),
        transfer_pct=pct(c.transferred, c.conversations),
        csat_avg=round(c.csat_sum / c.csat_count, 2) if c.csat_count else None,
        csat_pct=pct(c.csat_satisfied, c.csat_count),
        csat_count=c.csat_count,
        complaint_pct=pct(c.complaints, c.conversations),
        compliant_pct=pct(ok, checked),
        compliant_checked=checked,
        volume_per_agent_day=round(c.assigned / c.agents / days, 2) if c.agents else None,
        agents=c.agents,
    )


def _round(value: float | None) -> float | None:
    # Sub-millisecond noise from date arithmetic in SQL is not a measurement.
    return None if value is None else round(float(value), 3)


def compliance_tally(bodies: Iterable[str], check: Callable[[str], object]) -> tuple[int, int]:
    """(messages without findings, messages checked); `check(text)` returns the findings."""
    ok = checked = 0
    for body in bodies:
        checked += 1
        if not check(body):
            ok += 1
    return ok, checked


def is_angry(result: object) -> bool:
    """Whether a sentiment result says "angry", whatever shape the detector returns."""
    if result is None:
        return False
    if isinstance(result, str):
        return result == "angry"
    for attr in ("emotion", "label", "primary", "kind"):
        value = getattr(result, attr, None)
        if isinstance(value, str):
            return value == "angry"
    if isinstance(result, Mapping):
        return bool(result.get("angry"))
    if isinstance(result, Iterable):
        return any(
            is_angry(item) if not isinstance(item, str) else item == "angry" for item in result
        )
    return False


def angry_tally(bodies: Iterable[str], detect: Callable[[str], object]) -> tuple[int, int]:
    angry = checked = 0
    for body in bodies:
        checked += 1
        if is_angry(detect(body)):
            angry += 1
    return angry, checked


KPI_ROWS = (
    ("conversations", N_("conversations")),
    ("frt_p50_s", N_("first response p50")),
    ("frt_p90_s", N_("first response p90")),
    ("first_response_sla_pct", N_("first response within policy")),
    ("nrt_avg_s", N_("next response (avg)")),
    ("resolved", N_("resolved")),
    ("resolution_p50_s", N_("resolution time p50")),
    ("resolution_p90_s", N_("resolution time p90")),
    ("fcr_pct", N_("first-contact resolution")),
    ("transfer_pct", N_("transferred")),
    ("csat_avg", N_("CSAT average (1-5)")),
    ("csat_pct", N_("CSAT satisfied (4-5)")),
    ("complaint_pct", N_("complaint rate")),
    ("compliant_pct", N_("compliant language")),
    ("volume_per_agent_day", N_("conversations per agent a day")),
)
"""The KPIs in the order the report and the dashboard show them; labels translated where shown."""
BUSINESS_ROWS = {
    "frt_p90_s": (
        ("frt_business_p50_s", N_("first response p50, business time")),
        ("frt_business_p90_s", N_("first response p90, business time")),
    ),
    "resolution_p90_s": (
        ("resolution_business_p50_s", N_("resolution time p50, business time")),
        ("resolution_business_p90_s", N_("resolution time p90, business time")),
    ),
}
"""The report's business-time rows, each pair after the wall-time figure it counts again."""


def target_text(key: str) -> str:
    target = TARGETS.get(key)
    if target is None:
        return ""
    if key.endswith("_s"):
        return _("{value} s").format(value=target)
    return f"{target} %" if key.endswith("_pct") else str(target)


def kpi_rows(data: Mapping[str, Any], *, business: bool = False) -> list[tuple[str, str, str, str]]:
    """(figure, value, target, verdict) per KPI of `Kpis.as_dict()`; verdict ok / MISSED / "".
    With `business`, the business-time figures follow their wall-time ones."""
    rows: list[tuple[str, str]] = []
    for key, label in KPI_ROWS:
        rows.append((key, label))
        if business:
            rows.extend(BUSINESS_ROWS.get(key, ()))
    out = []
    for key, label in rows:
        target = TARGETS.get(key)
        value = data.get(key)
        met = target.met(value) if target else None
        shown = format_value(key, value)
        if key == "compliant_pct" and value is not None:
            shown += f" (n={data.get('compliant_checked', 0):,})"
        if key == "csat_avg" and value is not None:
            shown += f" (n={data.get('csat_count', 0):,})"
        verdict = {True: _("ok"), False: _("MISSED"), None: ""}[met]
        out.append((_(label), shown, target_text(key), verdict))
    return out


def format_seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 60:
        return _("{value} s").format(value=f"{value:.1f}")
    if value < 3600:
        return _("{value} min").format(value=f"{value / 60:.1f}")
    if value < 86400:
        return _("{value} h").format(value=f"{value / 3600:.1f}")
    return _("{value} d").format(value=f"{value / 86400:.1f}")


def format_value(key: str, value: float | None) -> str:
    if value is None:
        return "-"
    if key.endswith("_s"):
        return format_seconds(value)
    if key.endswith("_pct"):
        return f"{value:.1f} %"
    if isinstance(value, float):
        return f"{value:.2f}"
    return f"{value:,}"


# -- crisis early warning ----------------------------------------------------------------


class WarningConfigError(ValueError):
    """Early-warning settings that cannot be used; the message names file:line."""


WARNING_METRICS = ("complaint_pct", "angry_pct", "breach_pct")
WARNING_DEFAULTS: dict[str, float] = {
    "complaint_pct": 5.0,
    "angry_pct": 20.0,
    "breach_pct": 25.0,
    "window": 3600.0,
    "min_volume": 20.0,
}


@dataclass(frozen=True)
class WarningConfig:
    """Thresholds in percent; `window` in seconds; nothing is judged on fewer than `min_volume`."""

    thresholds: dict[str, float] = field(
        default_factory=lambda: {k: WARNING_DEFAULTS[k] for k in WARNING_METRICS}
    )
    window_s: float = WARNING_DEFAULTS["window"]
    min_volume: int = int(WARNING_DEFAULTS["min_volume"])


def _at(where: str, text: str | None, key: str) -> str:
    """``file:line`` of ``key`` in the [warnings] table (or of the table itself, when the key is
    in an inline one); just ``file`` when there is no file text to point into."""
    line = KeyLines(text).near("warnings", key) if text else None
    return Problem(where, line, "").where


def warning_config(raw: Mapping[str, object] | None, source: str | None = None) -> WarningConfig:
    """Validate the `[warnings]` table of the config file.

    Keys: complaint_pct, angry_pct, breach_pct (percent, 0-100; 0 turns that warning off),
    window (a duration such as "1h", at most 7 days) and min_volume (conversations or messages a
    window needs before it is judged). Errors name file:line when `source` is the config file.
    """
    text = None
    if source:
        try:
            with open(source, encoding="utf-8") as fh:
                text = fh.read()
        except OSError:
            text = None
    where = source or "config"
    values = dict(WARNING_DEFAULTS)
    for key, value in (raw or {}).items():
        if key not in WARNING_DEFAULTS:
            raise WarningConfigError(
                f"{_at(where, text, key)}: unknown warnings key {key!r} "
                f"(known: {', '.join(WARNING_DEFAULTS)})"
            )
        if key == "window":
            try:
                seconds = parse_duration(value)  # type: ignore[arg-type]
            except (ValueError, TypeError) as exc:
                raise WarningConfigError(f"{_at(where, text, key)}: window: {exc}") from None
            if not 60 <= seconds <= 7 * 86400:
                raise WarningConfigError(f"{_at(where, text, key)}: window must be from 1m to 7d")
            values[key] = seconds
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise WarningConfigError(f"{_at(where, text, key)}: {key} must be a number")
        if key == "min_volume":
            if value < 1 or value != int(value):
                raise WarningConfigError(
                    f"{_at(where, text, key)}: min_volume must be a whole number from 1"
                )
        elif not 0 <= value <= 100:
            raise WarningConfigError(
                f"{_at(where, text, key)}: {key} is a percentage from 0 to 100"
            )
        values[key] = float(value)
    return WarningConfig(
        thresholds={k: values[k] for k in WARNING_METRICS},
        window_s=values["window"],
        min_volume=int(values["min_volume"]),
    )


@dataclass(frozen=True)
class WindowCounts:
    """The sliding window's raw counts for the early warning."""

    conversations: int = 0
    complaints: int = 0
    breached: int = 0
    customer_messages: int = 0  # customer messages checked for emotion
    angry: int = 0


@dataclass(frozen=True)
class WarningReading:
    metric: str
    value: float | None  # None: too little volume to judge
    threshold: float
    raised: bool


def evaluate_warnings(counts: WindowCounts, config: WarningConfig) -> list[WarningReading]:
    """One reading per metric. A warning is raised at or above its threshold and clears below
    it; a window with fewer than `min_volume` items is not judged (reads as not raised), so a
    quiet night does not alarm on one complaint out of two conversations. A threshold of 0 is off.
    """
    out = []
    sources = {
        "complaint_pct": (counts.complaints, counts.conversations),
        "breach_pct": (counts.breached, counts.conversations),
        "angry_pct": (counts.angry, counts.customer_messages),
    }
    for metric in WARNING_METRICS:
        threshold = config.thresholds[metric]
        part, whole = sources[metric]
        value = pct(part, whole) if whole >= config.min_volume else None
        raised = threshold > 0 and value is not None and value >= threshold
        out.append(WarningReading(metric, value, threshold, raised))
    return out


# -- orchestration: the store's counts plus the text checks, for the CLI and the dashboard -------


def default_check() -> Callable[[str], object]:
    """The compliance checker's `check(text)`. Imported here, not at the top: the rules load
    with it, and only a window that is counted needs them."""
    from cs_tui.compliance import check

    return check


def default_detect() -> Callable[[str], object]:
    """The emotion detector's `detect(text)`, imported when a window is read (as above)."""
    from cs_tui.sentiment import detect

    return detect


COMPLIANCE_SAMPLE = 2000
"""Agent messages checked per window: the newest ones (about 20 µs each)."""
EMOTION_SAMPLE = 500
"""Customer messages read for the angry share of the early-warning window (about 90 µs each)."""


def kpis_for(
    store: Store,
    start: datetime,
    end: datetime,
    *,
    agent_id: int | None = None,
    sample: int = COMPLIANCE_SAMPLE,
    check: Callable[[str], object] | None = None,
) -> Kpis:
    """The KPIs of conversations created in [start, end): SQL counts plus a bounded
    compliance check of the window's newest agent messages (sample=0 skips it)."""
    counts = store.kpi_counts(start, end, agent_id=agent_id)
    compliant = None
    if sample > 0:
        check = check or default_check()
        bodies = store.message_sample(
            start, end, author_kind="agent", limit=sample, agent_id=agent_id
        )
        compliant = compliance_tally(bodies, check)
    return kpis_from_counts(counts, compliant=compliant, days=(end - start).total_seconds() / 86400)


def read_early_warning(
    store: Store,
    config: WarningConfig,
    *,
    detect: Callable[[str], object] | None = None,
    sample: int = EMOTION_SAMPLE,
) -> list[WarningReading]:
    """Evaluate the sliding window ending now (reads only; see `record_early_warning`)."""
    end = store.clock.now()
    start = end - timedelta(seconds=config.window_s)
    counts = store.warning_counts(start, end)
    if sample > 0:
        detect = detect or default_detect()
        bodies = store.message_sample(start, end, author_kind="customer", limit=sample)
        angry, checked = angry_tally(bodies, detect)
        counts = WindowCounts(
            counts.conversations, counts.complaints, counts.breached, checked, angry
        )
    return evaluate_warnings(counts, config)


def record_early_warning(
    store: Store, actor: AgentInfo, readings: Iterable[WarningReading]
) -> list[str]:
    """Record each reading whose state changed; returns the metrics whose state changed.

    A window with too little volume to judge reads as "not raised", so it clears a warning; a
    metric switched off here (threshold 0) leaves the team's recorded state alone.
    """
    changed = []
    for r in readings:
        if r.threshold <= 0:
            continue
        if store.record_early_warning(actor, r.metric, r.raised, r.value, r.threshold):
            changed.append(r.metric)
    return changed
