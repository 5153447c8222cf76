"""Outside service hours the page says so, and when someone will answer: the team's SLA policy
puts chat on a calendar, and even with an agent's workstation running the page shows the
auto-reply menu with the next opening in the calendar's zone ("We're back Thu 09:00")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

from tests.webchat.conftest import web_gateway
from tests.webchat.page import ChatPage
from tests.webchat.test_chat_page import team, visitor_conversation

pytestmark = pytest.mark.slow

ZONE = ZoneInfo("Asia/Shanghai")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def closed_now_policy() -> tuple[str, int]:
    """The shipped policy with chat on a calendar open one hour a week, three days from today
    (in the calendar's zone): closed whenever the test runs; and that day's weekday."""
    shipped = resources.files("cs_tui").joinpath("policy", "sla.toml").read_text("utf-8")
    day = (datetime.now(UTC).astimezone(ZONE) + timedelta(days=3)).weekday()
    extra = (
        "\n[calendars.shop_hours]\n"
        'timezone = "Asia/Shanghai"\n'
        f'week = {{ {DAYS[day]} = ["09:00-10:00"] }}\n'
        "\n[channels.chat]\n"
        'calendar = "shop_hours"\n'
    )
    return shipped + extra, day


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_outside_service_hours_the_page_says_when_the_team_is_back(tmp_path, browser, lang):
    policy, day = closed_now_policy()
    gateways = web_gateway(tmp_path, policy=policy)
    gateway = next(gateways)
    try:
        team(gateway.store)  # alice's workstation runs, but the team is closed
        page = ChatPage(browser()).open(f"{gateway.url}/chat/shop?lang={lang}")
        page.wait_online()
        menu = page.wait(lambda: page.texts("system"), "no menu outside service hours")[0]
        back = f"We're back {EN[day]} 09:00" if lang == "en" else f"我们{ZH[day]} 09:00恢复服务"
        assert back in menu
        assert ("4. Talk to a person" if lang == "en" else "4. 转人工") in menu

        page.send("4")
        page.wait_sent("4")
        honest = (
            f"when we're back, {EN[day]} 09:00"
            if lang == "en"
            else f"客服会在{ZH[day]} 09:00上班后在这里回复您"
        )
        page.wait(lambda: any(honest in t for t in page.texts("system")), "no time for a person")
        # The conversation is in the queue with its clock, waiting for the calendar.
        row = gateway.store.queue_row(visitor_conversation(gateway.store))
        assert row.channel == "chat" and row.status == "new" and row.due_at is not None
    finally:
        next(gateways, None)
