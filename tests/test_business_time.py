"""'Due soon' counts business time on a calendar: the open hours left, not the wall hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cs_tui.data.slarow import sla_columns
from cs_tui.sla import ConversationFacts, SlaState, default_policy, evaluate
from cs_tui.widgets.sla_badge import clock_badge, sla_state

SH = ZoneInfo("Asia/Shanghai")
POLICY = default_policy()  # e-mail on office hours: Monday-Friday 09:00-18:30, Asia/Shanghai


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


# Thursday 09:00 + 24 office hours: Thursday 9.5, Friday 9.5, Monday 5 -> Monday 14:00.
ARRIVED = sh(2026, 11, 12, 9, 0)
DUE = sh(2026, 11, 16, 14, 0)


def email(**kw) -> ConversationFacts:
    base = dict(
        channel="email",
        category="order",
        priority="normal",
        status="new",
        created_at=ARRIVED,
        first_customer_at=ARRIVED,
        last_customer_at=ARRIVED,
    )
    base.update(kw)
    return ConversationFacts(**base)


def test_an_email_is_due_soon_by_the_office_hours_left():
    sunday_evening = sh(2026, 11, 15, 20, 0)  # 18 wall hours, 5 office hours left
    status = evaluate(POLICY, email(), sunday_evening)
    assert status.due_at == DUE
    assert status.remaining_s == 18 * 3600  # the countdown stays wall time
    assert status.state is SlaState.WARNING

    friday_noon = sh(2026, 11, 13, 12, 0)  # 6.5 h on Friday + 5 h on Monday: on time
    assert evaluate(POLICY, email(), friday_noon).state is SlaState.OK
    assert evaluate(POLICY, email(), DUE + timedelta(seconds=1)).state is SlaState.BREACHED


def test_a_chat_still_counts_wall_time():
    start = sh(2026, 11, 15, 20, 0)
    chat = email(channel="chat", created_at=start, first_customer_at=start, last_customer_at=start)
    assert evaluate(POLICY, chat, start + timedelta(seconds=10)).state is SlaState.OK
    assert evaluate(POLICY, chat, start + timedelta(seconds=25)).state is SlaState.WARNING


class Row:
    def __init__(self, due_at, status="new", channel="email"):
        self.due_at = due_at
        self.sla_target_s = 86400.0
        self.status = status
        self.channel = channel
        self.category = "order"
        self.priority = "normal"


def test_the_badge_waits_outside_hours_and_warns_by_open_time_inside_them():
    calendar = POLICY.calendars["office"]
    monday_1030 = sh(2026, 11, 16, 10, 30)  # open, 3.5 office hours left
    state, remaining = sla_state(POLICY, DUE, 86400.0, "new", monday_1030, calendar)
    assert state is SlaState.WARNING and remaining == 3.5 * 3600
    friday_noon = sh(2026, 11, 13, 12, 0)
    assert sla_state(POLICY, DUE, 86400.0, "new", friday_noon, calendar)[0] is SlaState.OK
    # Sunday: closed, the clock waits and says when it resumes, in the calendar's zone.
    sunday = sh(2026, 11, 15, 20, 0).astimezone(UTC)
    assert clock_badge(POLICY, Row(DUE), sunday) == (SlaState.WAITING, "Mon 09:00")
    # Breached stays breached, open or not.
    late = Row(sh(2026, 11, 13, 18, 0))
    assert clock_badge(POLICY, late, sunday)[0] is SlaState.BREACHED


def test_a_followup_enters_the_queue_when_six_office_hours_are_left():
    """Resolved on Thursday 09:00, the 1-day follow-up is due Monday 14:00 in office time; its
    warning window (a quarter: 6 office hours) opens Friday 17:30, not Monday 08:00."""
    row = {
        "channel": "email",
        "category": "order",
        "priority": "normal",
        "status": "resolved",
        "created_at": ARRIVED - timedelta(hours=1),
        "assignee_id": 1,
        "assigned_at": ARRIVED - timedelta(hours=1),
        "first_customer_at": ARRIVED - timedelta(hours=1),
        "last_customer_at": ARRIVED - timedelta(hours=1),
        "first_agent_at": ARRIVED,
        "last_agent_at": ARRIVED,
        "resolved_at": ARRIVED,
    }
    columns = sla_columns(POLICY, row)
    assert columns["sla_clock"] == "follow_up"
    assert columns["due_at"] == DUE
    assert columns["hidden_until"] == sh(2026, 11, 13, 17, 30)
