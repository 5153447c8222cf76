"""KPI and dashboard reads: SQL aggregations that give the same answer on SQLite and PostgreSQL.

The definitions live in `cs_tui.metrics` (its docstring and docs/metrics.md); this module only
counts. Percentiles are nearest-rank, computed the same way on both backends: count the values,
then fetch the one at that rank with ORDER BY ... LIMIT 1 OFFSET rank-1 (one row crosses the
wire, whatever the window's size). Date arithmetic is the one dialect difference: julianday() on
SQLite, EXTRACT(EPOCH ...) on PostgreSQL, both in `_seconds`.

Early-warning state is one row per metric in `schema_meta` (key `early_warning.<metric>`), changed
by a conditional update in the same transaction as its `early_warning` event, so two supervisors'
dashboards evaluating at once record one event, not two.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cs_tui.calendars import open_seconds
from cs_tui.data.coltypes import FAR_FUTURE, UTCDateTime
from cs_tui.data.core import StoreCore
from cs_tui.data.queries import _queue_select
from cs_tui.data.tables import AGENT, CONV, EVENT, META, MSG
from cs_tui.data.views import AgentInfo, QueueRow, queue_row_from
from cs_tui.sla import CATEGORIES, CHANNELS, PRIORITIES, STATUSES


def _sla_urgency() -> sa.ColumnElement[datetime]:
    """The conversation's SLA deadline as the queue sorts it, without the lift an undelivered
    reply gives it (slarow.sla_columns): a reply that did not reach the customer tops its
    owner's queue but is no SLA breach in the team's figures."""
    return sa.case(
        (
            CONV.c.undelivered_at.is_not(None),
            sa.func.coalesce(CONV.c.due_at, sa.literal(FAR_FUTURE, UTCDateTime())),
        ),
        else_=CONV.c.urgency_at,
    )


if TYPE_CHECKING:
    # Imported where used: the store is opened on every start, the KPI figures only for the
    # dashboard and reports.
    from cs_tui.metrics import KpiCounts, WindowCounts


FIRST_RESPONSE_CHANNELS = ("chat", "phone", "social")
"""Channels where the first-response clock runs (tickets and e-mail have an assignment clock)."""
NEXT_RESPONSE_CHANNELS = ("chat", "social")
"""Instant messaging: every later customer message is owed a reply within a minute."""
PAUSED = ("pending", "snoozed")
DONE = ("resolved", "closed")
WARNING_KEY = "early_warning."


@dataclass(frozen=True)
class _Business:
    """Business-time figures; None where no calendar applies (they equal the wall figures)."""

    frt: tuple[float | None, float | None] | None  # p50, p90
    frt_met: int | None
    resolution: tuple[float | None, float | None] | None


@dataclass(frozen=True)
class AgentKpiRow:
    """One agent's line in the KPI report over a period."""

    handle: str
    display_name: str
    conversations: int
    resolved: int
    transferred: int
    frt_avg_s: float | None
    csat_avg: float | None


@dataclass(frozen=True)
class LiveCounts:
    """Right now: conversations per status (all, not training) and SLA state of the open ones."""

    by_status: dict[str, int]
    by_state: dict[str, int]  # breached / warning / ok / paused / none, over visible open work
    hidden: int  # snoozed or follow-ups not yet due


@dataclass(frozen=True)
class AgentLoad:
    """One agent on the supervisor's dashboard: what they hold, how much is late, the oldest."""

    handle: str
    display_name: str
    role: str
    last_seen_at: datetime | None
    load: int  # open conversations assigned (not resolved/closed)
    breached: int
    oldest_id: int | None  # the assigned conversation whose running clock started first
    oldest_external_id: str | None
    oldest_since: datetime | None


@dataclass(frozen=True)
class Trend:
    """Conversations per hour since `start`, and how many of them missed the first reply."""

    start: datetime
    volume: list[int]  # conversations created per hour
    breaches: list[int]  # of those, first response missed (late, or unanswered past due)


@dataclass(frozen=True)
class WarningState:
    """The last state of one early-warning metric (raised or cleared), so it is told once."""

    metric: str
    state: str  # raised | cleared
    value: float | None
    threshold: float
    at: datetime


def _policy_targets(policy) -> set[float]:
    """Every target value the policy can give (the stored sla_target_s is one of them).

    Cheaper than SELECT DISTINCT over the conversation rows, which reads every row.
    """
    values = set(policy.targets.values())
    for layer in (policy.channels, policy.categories, policy.priorities):
        for table in layer.values():
            values.update(table.values())
    for override in policy.overrides:
        values.update(override.targets.values())
    return values


class KpiQueriesMixin(StoreCore):
    # -- building blocks -------------------------------------------------------------

    def _seconds(self, later, earlier):
        """Seconds from `earlier` to `later` as a float SQL expression."""
        if self.dialect == "postgresql":
            return sa.cast(sa.extract("epoch", later - earlier), sa.Float)
        return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0

    def _cohort(self, start: datetime, end: datetime, agent_id: int | None = None) -> list:
        cond = [
            CONV.c.training.is_(False),
            CONV.c.created_at >= start,
            CONV.c.created_at < end,
        ]
        if agent_id is not None:
            cond.append(CONV.c.assignee_id == agent_id)
        return cond

    def _first_response_target(self):
        """The policy's first-response target for each row's channel/category/priority."""
        groups: dict[float, list[tuple[str, str, str]]] = {}
        for channel in FIRST_RESPONSE_CHANNELS:
            for category in CATEGORIES:
                for priority in PRIORITIES:
                    t = self.policy.target("first_response", channel, category, priority)
                    groups.setdefault(t, []).append((channel, category, priority))
        common = max(groups, key=lambda t: len(groups[t]))
        whens = [
            (sa.tuple_(CONV.c.channel, CONV.c.category, CONV.c.priority).in_(combos), t)
            for t, combos in sorted(groups.items())
            if t != common
        ]
        if not whens:
            return sa.literal(common, sa.Float)
        return sa.case(*whens, else_=sa.literal(common, sa.Float))

    def _frt_met(self):
        return sa.and_(
            CONV.c.channel.in_(FIRST_RESPONSE_CHANNELS),
            CONV.c.first_response_s.is_not(None),
            CONV.c.first_response_s <= self._first_response_target(),
        )

    def _frt_missed_unanswered(self, now: datetime):
        return sa.and_(
            CONV.c.channel.in_(FIRST_RESPONSE_CHANNELS),
            CONV.c.first_agent_at.is_(None),
            CONV.c.sla_clock == "first_response",
            CONV.c.status.not_in(PAUSED),
            CONV.c.due_at < now,
        )

    def _frt_breached(self, now: datetime):
        """First response missed: replied late, or still unanswered past the deadline."""
        return sa.or_(
            sa.and_(
                CONV.c.channel.in_(FIRST_RESPONSE_CHANNELS),
                CONV.c.first_response_s.is_not(None),
                CONV.c.first_response_s > self._first_response_target(),
            ),
            self._frt_missed_unanswered(now),
        )

    @staticmethod
    def _count_if(cond):
        return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)

    def _value_at_rank(
        self, conn: Connection, expr, cond: list, n: int, pct: float
    ) -> float | None:
        from cs_tui.metrics import nearest_rank

        rank = nearest_rank(n, pct)
        if rank == 0:
            return None
        value = conn.execute(
            sa.select(expr).where(*cond, expr.is_not(None)).order_by(expr).limit(1).offset(rank - 1)
        ).scalar()
        return None if value is None else float(value)

    # -- KPIs --------------------------------------------------------------------------

    def kpi_counts(
        self, start: datetime, end: datetime, *, agent_id: int | None = None
    ) -> KpiCounts:
        """Raw counts for the KPIs of conversations created in [start, end)."""
        now = self.clock.now()
        cohort = self._cohort(start, end, agent_id)
        resolved_now = sa.and_(CONV.c.resolved_at.is_not(None), CONV.c.status.in_(DONE))
        resolves = (
            sa.select(sa.func.count())
            .select_from(EVENT)
            .where(EVENT.c.conversation_id == CONV.c.id, EVENT.c.kind == "resolve")
            .scalar_subquery()
        )
        frt_cond = [*cohort, CONV.c.channel.in_(FIRST_RESPONSE_CHANNELS)]
        started = sa.func.coalesce(CONV.c.first_customer_at, CONV.c.created_at)
        resolution = self._seconds(CONV.c.resolved_at, started)
        with self._read() as conn:
            row = conn.execute(
                sa.select(
                    sa.func.count().label("n"),
                    self._count_if(
                        sa.and_(
                            CONV.c.channel.in_(FIRST_RESPONSE_CHANNELS),
                            CONV.c.first_response_s.is_not(None),
                        )
                    ).label("frt_count"),
                    self._count_if(self._frt_met()).label("frt_met"),
                    self._count_if(self._frt_missed_unanswered(now)).label("frt_missed"),
                    self._count_if(CONV.c.resolved_at.is_not(None)).label("resolved_ever"),
                    self._count_if(resolved_now).label("resolved"),
                    self._count_if(CONV.c.transfers > 0).label("transferred"),
                    sa.func.count(CONV.c.csat).label("csat_count"),
                    sa.func.coalesce(sa.func.sum(CONV.c.csat), 0).label("csat_sum"),
                    self._count_if(CONV.c.csat >= 4).label("csat_satisfied"),
                    self._count_if(CONV.c.category == "complaint").label("complaints"),
                    sa.func.count(CONV.c.assignee_id).label("assigned"),
                    sa.func.count(sa.distinct(CONV.c.assignee_id)).label("agents"),
                ).where(*cohort)
            ).one()
            fcr = conn.execute(
                sa.select(sa.func.count()).where(
                    *cohort, resolved_now, CONV.c.transfers == 0, resolves <= 1
                )
            ).scalar_one()
            frt = CONV.c.first_response_s
            frt_p50 = self._value_at_rank(conn, frt, frt_cond, row.frt_count, 50)
            frt_p90 = self._value_at_rank(conn, frt, frt_cond, row.frt_count, 90)
            res_cond = [*cohort, resolved_now]
            res_p50 = self._value_at_rank(conn, resolution, res_cond, row.resolved, 50)
            res_p90 = self._value_at_rank(conn, resolution, res_cond, row.resolved, 90)
            nrt_count, nrt_sum = self._next_response(conn, cohort)
            business = self._business_times(conn, frt_cond, res_cond)
        from cs_tui.metrics import KpiCounts

        frt_met = row.frt_met if business.frt_met is None else business.frt_met
        # no calendar applies: business time is wall time
        frt_business = business.frt or (frt_p50, frt_p90)
        res_business = business.resolution or (res_p50, res_p90)

        return KpiCounts(
            start=start,
            end=end,
            conversations=row.n,
            frt_count=row.frt_count,
            frt_p50_s=frt_p50,
            frt_p90_s=frt_p90,
            frt_met=frt_met,
            frt_missed_unanswered=row.frt_missed,
            frt_business_p50_s=frt_business[0],
            frt_business_p90_s=frt_business[1],
            resolution_business_p50_s=res_business[0],
            resolution_business_p90_s=res_business[1],
            nrt_count=nrt_count,
            nrt_sum_s=nrt_sum,
            resolved_ever=row.resolved_ever,
            resolved=row.resolved,
            resolution_p50_s=res_p50,
            resolution_p90_s=res_p90,
            fcr=fcr,
            transferred=row.transferred,
            csat_count=row.csat_count,
            csat_sum=int(row.csat_sum),
            csat_satisfied=row.csat_satisfied,
            complaints=row.complaints,
            assigned=row.assigned,
            agents=row.agents,
        )

    def _calendar_applies(self, channels: tuple[str, ...]) -> bool:
        """Whether any conversation on these channels has its clocks on a calendar."""
        policy = self.policy
        return bool(policy.calendars) and any(
            policy.calendar_for(channel, category, priority) is not None
            for channel in channels
            for category in CATEGORIES
            for priority in PRIORITIES
        )

    def _business_times(self, conn: Connection, frt_cond: list, res_cond: list) -> _Business:
        """First response and resolution in business time, and the first responses within
        their target counted in business time, where a calendar applies.

        Open time comes from the policy's calendars (Python, not SQL), so the rows are read: only
        for the figures a calendar touches (with the shipped policy, resolution, because tickets
        and e-mail count office hours; chat, phone and social run around the clock). A row
        without a calendar counts its wall time. None: no calendar applies, business = wall."""
        from cs_tui.metrics import percentile

        policy = self.policy
        started = sa.func.coalesce(CONV.c.first_customer_at, CONV.c.created_at)
        keys = (CONV.c.channel, CONV.c.category, CONV.c.priority)
        frt = met = resolution = None
        if self._calendar_applies(FIRST_RESPONSE_CHANNELS):
            values: list[float] = []
            met = 0
            rows = conn.execute(
                sa.select(*keys, started, CONV.c.first_response_s).where(
                    *frt_cond, CONV.c.first_response_s.is_not(None)
                )
            )
            for channel, category, priority, start, wall in rows:
                calendar = policy.calendar_for(channel, category, priority)
                seconds = float(wall)
                if calendar is not None:
                    seconds = open_seconds(calendar, start, start + timedelta(seconds=seconds))
                values.append(seconds)
                target = policy.target("first_response", channel, category, priority)
                met += seconds <= target
            frt = (percentile(values, 50), percentile(values, 90))
        if self._calendar_applies(CHANNELS):
            values = []
            rows = conn.execute(sa.select(*keys, started, CONV.c.resolved_at).where(*res_cond))
            for channel, category, priority, start, resolved_at in rows:
                calendar = policy.calendar_for(channel, category, priority)
                if calendar is None:
                    values.append((resolved_at - start).total_seconds())
                else:
                    values.append(open_seconds(calendar, start, resolved_at))
            resolution = (percentile(values, 50), percentile(values, 90))
        return _Business(frt, met, resolution)

    def _next_response(self, conn: Connection, cohort: list) -> tuple[int, float]:
        """(replies, total seconds) of customer message -> directly following agent reply.

        The cohort is picked first (an IN list) so the window function walks each chosen
        conversation's messages in index order (ix_message_conv) without a join per row.
        """
        order = (MSG.c.sent_at, MSG.c.id)
        part = MSG.c.conversation_id
        chosen = sa.select(CONV.c.id).where(
            *cohort,
            CONV.c.channel.in_(NEXT_RESPONSE_CHANNELS),
            CONV.c.first_agent_at.is_not(None),
        )
        turns = (
            sa.select(
                MSG.c.conversation_id.label("cid"),
                MSG.c.author_kind.label("kind"),
                MSG.c.sent_at.label("at"),
                sa.func.lead(MSG.c.author_kind)
                .over(partition_by=part, order_by=order)
                .label("next_kind"),
                sa.func.lead(MSG.c.sent_at)
                .over(partition_by=part, order_by=order)
                .label("next_at"),
            )
            .where(
                MSG.c.conversation_id.in_(chosen),
                MSG.c.author_kind.in_(("customer", "agent")),
            )
            .subquery()
        )
        gap = self._seconds(turns.c.next_at, turns.c.at)
        row = conn.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(gap), 0.0))
            .select_from(turns.join(CONV, CONV.c.id == turns.c.cid))
            .where(
                turns.c.kind == "customer",
                turns.c.next_kind == "agent",
                turns.c.next_at > CONV.c.first_agent_at,
            )
        ).one()
        return int(row[0]), float(row[1])

    def kpi_by_agent(self, start: datetime, end: datetime) -> list[AgentKpiRow]:
        """Per assignee: the conversations of the window they hold, most first."""
        resolved_now = sa.and_(CONV.c.resolved_at.is_not(None), CONV.c.status.in_(DONE))
        frt = sa.case(
            (CONV.c.channel.in_(FIRST_RESPONSE_CHANNELS), CONV.c.first_response_s), else_=None
        )
        query = (
            sa.select(
                AGENT.c.handle,
                AGENT.c.display_name,
                sa.func.count().label("n"),
                self._count_if(resolved_now).label("resolved"),
                self._count_if(CONV.c.transfers > 0).label("transferred"),
                sa.func.avg(frt).label("frt_avg"),
                sa.func.avg(CONV.c.csat * 1.0).label("csat_avg"),
            )
            .select_from(CONV.join(AGENT, AGENT.c.id == CONV.c.assignee_id))
            .where(*self._cohort(start, end))
            .group_by(AGENT.c.handle, AGENT.c.display_name)
            .order_by(sa.func.count().desc(), AGENT.c.handle)
        )
        with self._read() as conn:
            return [
                AgentKpiRow(
                    r.handle,
                    r.display_name,
                    r.n,
                    r.resolved,
                    r.transferred,
                    None if r.frt_avg is None else round(float(r.frt_avg), 3),
                    None if r.csat_avg is None else round(float(r.csat_avg), 2),
                )
                for r in conn.execute(query)
            ]

    def message_sample(
        self,
        start: datetime,
        end: datetime,
        *,
        author_kind: str,
        limit: int = 2000,
        agent_id: int | None = None,
    ) -> list[str]:
        """The newest `limit` message bodies of one kind sent in [start, end) (no role-play)."""
        query = (
            sa.select(MSG.c.body)
            .select_from(MSG.join(CONV, CONV.c.id == MSG.c.conversation_id))
            .where(
                MSG.c.author_kind == author_kind,
                MSG.c.sent_at >= start,
                MSG.c.sent_at < end,
                CONV.c.training.is_(False),
            )
            .order_by(MSG.c.id.desc())
            .limit(max(0, limit))
        )
        if agent_id is not None:
            query = query.where(MSG.c.author_agent_id == agent_id)
        with self._read() as conn:
            return list(conn.execute(query).scalars())

    # -- the live dashboard --------------------------------------------------------------

    def live_counts(self) -> LiveCounts:
        """Conversations per status, and the SLA state of the open work the queue shows."""
        now = self.clock.now()
        visible = sa.or_(CONV.c.hidden_until.is_(None), CONV.c.hidden_until <= now)
        with self._read() as conn:
            targets = sorted(_policy_targets(self.policy))
            ratio = self.policy.warning_ratio
            warning_whens = [
                (
                    sa.and_(
                        CONV.c.sla_target_s == t,
                        _sla_urgency() <= now + timedelta(seconds=t * ratio),
                    ),
                    "warning",
                )
                for t in targets
            ]
            state = sa.case(
                (CONV.c.active.is_(False), "done"),
                (sa.not_(visible), "hidden"),
                (CONV.c.status.in_(PAUSED), "paused"),
                (_sla_urgency() >= FAR_FUTURE, "none"),
                (_sla_urgency() < now, "breached"),
                *warning_whens,
                else_="ok",
            ).label("state")
            rows = conn.execute(
                sa.select(CONV.c.status, state, sa.func.count())
                .where(CONV.c.training.is_(False))
                .group_by(CONV.c.status, state)
            ).all()
        by_status = {s: 0 for s in STATUSES}
        by_state = {s: 0 for s in ("breached", "warning", "ok", "paused", "none")}
        hidden = 0
        for status, st, n in rows:
            by_status[status] = by_status.get(status, 0) + n
            if st == "hidden":
                hidden += n
            elif st != "done":
                by_state[st] += n
        return LiveCounts(by_status, by_state, hidden)

    def breach_list(self, *, limit: int = 100) -> list[QueueRow]:
        """Open work past its deadline, most overdue first (the queue's own index order)."""
        now = self.clock.now()
        query = (
            _queue_select()
            .where(
                CONV.c.active.is_(True),
                CONV.c.training.is_(False),
                _sla_urgency() < now,
                CONV.c.status.not_in(PAUSED),
                sa.or_(CONV.c.hidden_until.is_(None), CONV.c.hidden_until <= now),
            )
            .order_by(_sla_urgency(), CONV.c.id)
            .limit(max(0, limit))
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [queue_row_from(r, ()) for r in rows]

    def agent_loads(self) -> list[AgentLoad]:
        """Every active agent and supervisor with open work, breaches and oldest waiting item."""
        now = self.clock.now()
        open_work = sa.and_(
            CONV.c.training.is_(False),
            CONV.c.active.is_(True),
            CONV.c.status.not_in(DONE),
        )
        waiting = sa.and_(
            open_work,
            CONV.c.status.not_in(PAUSED),
            CONV.c.sla_started_at.is_not(None),
            CONV.c.assignee_id.is_not(None),
        )
        ranked = (
            sa.select(
                CONV.c.assignee_id,
                CONV.c.id,
                CONV.c.external_id,
                CONV.c.sla_started_at,
                sa.func.row_number()
                .over(
                    partition_by=CONV.c.assignee_id,
                    order_by=(CONV.c.sla_started_at, CONV.c.id),
                )
                .label("rn"),
            )
            .where(waiting)
            .subquery()
        )
        with self._read() as conn:
            loads = {
                r.assignee_id: (r.load, r.breached)
                for r in conn.execute(
                    sa.select(
                        CONV.c.assignee_id,
                        sa.func.count().label("load"),
                        self._count_if(
                            sa.and_(_sla_urgency() < now, CONV.c.status.not_in(PAUSED))
                        ).label("breached"),
                    )
                    .where(open_work, CONV.c.assignee_id.is_not(None))
                    .group_by(CONV.c.assignee_id)
                )
            }
            oldest = {
                r.assignee_id: r for r in conn.execute(sa.select(ranked).where(ranked.c.rn == 1))
            }
            agents = conn.execute(
                sa.select(AGENT)
                .where(AGENT.c.active.is_(True), AGENT.c.role != "trainer")
                .order_by(AGENT.c.handle)
            ).all()
        out = []
        for a in agents:
            load, breached = loads.get(a.id, (0, 0))
            o = oldest.get(a.id)
            out.append(
                AgentLoad(
                    a.handle,
                    a.display_name,
                    a.role,
                    a.last_seen_at,
                    load,
                    breached,
                    o.id if o else None,
                    o.external_id if o else None,
                    o.sla_started_at if o else None,
                )
            )
        out.sort(key=lambda x: (-x.breached, -x.load, x.handle))
        return out

    def hourly_trend(self, end: datetime, *, hours: int = 24) -> Trend:
        """Arrivals and first-response breaches per hour over the `hours` before `end`."""
        now = self.clock.now()
        start = end - timedelta(hours=hours)
        since = sa.literal(start, UTCDateTime())
        offset = self._seconds(CONV.c.created_at, since) / 3600.0
        bucket = (
            sa.func.floor(offset) if self.dialect == "postgresql" else sa.cast(offset, sa.Integer)
        )
        query = (
            sa.select(
                bucket.label("b"),
                sa.func.count().label("n"),
                self._count_if(self._frt_breached(now)).label("breached"),
            )
            .where(*self._cohort(start, end))
            .group_by(bucket)
        )
        volume = [0] * hours
        breaches = [0] * hours
        with self._read() as conn:
            for b, n, br in conn.execute(query):
                i = int(b)
                if 0 <= i < hours:
                    volume[i] += n
                    breaches[i] += br
        return Trend(start, volume, breaches)

    # -- early warning -----------------------------------------------------------------

    def warning_counts(self, start: datetime, end: datetime) -> WindowCounts:
        """Conversations created in [start, end): how many, complaints, and breached ones
        (first response missed, or open work past its deadline now)."""
        now = self.clock.now()
        breached = sa.or_(
            self._frt_breached(now),
            sa.and_(
                CONV.c.active.is_(True),
                CONV.c.status.not_in(PAUSED),
                _sla_urgency() < now,
                sa.or_(CONV.c.hidden_until.is_(None), CONV.c.hidden_until <= now),
            ),
        )
        with self._read() as conn:
            row = conn.execute(
                sa.select(
                    sa.func.count(),
                    self._count_if(CONV.c.category == "complaint"),
                    self._count_if(breached),
                ).where(*self._cohort(start, end))
            ).one()
        from cs_tui.metrics import WindowCounts

        return WindowCounts(conversations=row[0], complaints=row[1], breached=row[2])

    def early_warnings(self) -> list[WarningState]:
        """The last recorded state of each early-warning metric."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(META.c.key, META.c.value).where(META.c.key.like(WARNING_KEY + "%"))
            ).all()
        out = []
        for key, value in rows:
            try:
                data = json.loads(value)
                out.append(
                    WarningState(
                        key[len(WARNING_KEY) :],
                        data["state"],
                        data.get("value"),
                        float(data["threshold"]),
                        datetime.fromisoformat(data["at"]),
                    )
                )
            except (ValueError, KeyError, TypeError):
                continue  # a damaged row reads as no warning rather than breaking the screen
        return sorted(out, key=lambda w: w.metric)

    def record_early_warning(
        self,
        actor: AgentInfo | None,
        metric: str,
        raised: bool,
        value: float | None,
        threshold: float,
    ) -> bool:
        """Record a raise or clear; True only when the state changed (and an event was written).

        The first reading of a metric records only a raise: "cleared" is the state of a metric
        that never fired.
        """
        state = "raised" if raised else "cleared"
        now = self.clock.now()
        key = WARNING_KEY + metric
        payload = {"metric": metric, "state": state, "value": value, "threshold": threshold}
        stored = json.dumps({**payload, "at": now.isoformat()})
        with self._write() as conn:
            current = conn.execute(
                sa.select(META.c.value).where(META.c.key == key).with_for_update()
            ).scalar()
            if current is None:
                if not raised:
                    return False
                inserted = conn.execute(
                    self._insert_fn()(META)
                    .values(key=key, value=stored)
                    .on_conflict_do_nothing()
                    .returning(META.c.key)
                ).first()
                if inserted is None:
                    return False  # another supervisor's screen recorded it a moment ago
            else:
                try:
                    previous = json.loads(current).get("state")
                except (ValueError, AttributeError):
                    previous = None
                if previous == state:
                    return False
                conn.execute(sa.update(META).where(META.c.key == key).values(value=stored))
            self._event(conn, actor.id if actor else None, "early_warning", None, payload)
        return True
