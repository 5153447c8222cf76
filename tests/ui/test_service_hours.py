"""Service hours on screen: an e-mail's clock waits through the weekend, and says when it resumes.

The shipped policy puts e-mail and tickets on office hours (Monday to Friday, 09:00-18:30,
Asia/Shanghai) and keeps chat around the clock. On a Saturday the e-mail's row shows `=` and
the time its clock resumes, in the queue and in the conversation header; the status line says
which channels are outside their hours; once the office opens, the countdown runs again.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from textual.geometry import Region

from cs_tui.app import make_app
from cs_tui.clock import FakeClock
from cs_tui.data.store import Store
from cs_tui.i18n import set_language
from cs_tui.jsonl_lines import IngestRecord
from cs_tui.widgets.message_view import ConversationHeader
from cs_tui.widgets.queue_list import QueueList
from cs_tui.widgets.status_line import StatusLine
from tests.ui.pilot_helpers import app_for, open_row, settle, until

SH = ZoneInfo("Asia/Shanghai")
FRIDAY_EVENING = datetime(2026, 11, 13, 18, 0, tzinfo=SH)
SATURDAY = datetime(2026, 11, 14, 10, 0, tzinfo=SH)
MONDAY = datetime(2026, 11, 16, 9, 30, tzinfo=SH)

WORDS = {
    "en": {
        "resume": "Mon 09:00",
        "waiting": "waiting for service hours",
        "closed": "ticket, email closed until Mon 09:00",
    },
    "zh": {
        "resume": "09:00周一",
        "waiting": "等待服务时间",
        "closed": "工单, 邮件 非服务时间,09:00周一 恢复",
    },
}


@pytest.fixture(autouse=True)
def _english_after():
    yield
    set_language("en")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(SATURDAY)


@pytest.fixture
def store(tmp_path, clock):
    with Store.open(str(tmp_path / "store.db"), clock=clock) as s:
        s.ingest(
            [
                IngestRecord(
                    "m1", "MAIL-1", "email", "c1", "customer", "Where is it?", FRIDAY_EVENING
                ),
                IngestRecord("m2", "CHAT-1", "chat", "c2", "customer", "hello?", SATURDAY),
            ]
        )
        yield s


def row_line(pilot, external_id: str) -> str:
    queue = pilot.app.screen.query_one(QueueList)
    start, rows = queue.window
    index = next(i for i, r in enumerate(rows) if r.external_id == external_id) + start
    return queue.render_line(index * queue.lines_per_row - int(queue.scroll_offset.y)).text


def drawn(widget) -> str:
    width, height = widget.size
    return "\n".join(s.text for s in widget.render_lines(Region(0, 0, width, max(height, 1))))


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_an_email_waits_for_office_hours_and_says_when_it_resumes(store, clock, lang, width):
    words = WORDS[lang]
    app = app_for(store, clock, lang=lang)
    async with app.run_test(size=(width, 30)) as pilot:
        await settle(pilot)
        mail = row_line(pilot, "MAIL-1")
        assert mail.startswith("=") and words["resume"] in mail
        chat = row_line(pilot, "CHAT-1")
        assert not chat.startswith("=") and words["resume"] not in chat  # around the clock

        status = pilot.app.screen.query_one(StatusLine)
        shown = drawn(status)  # as drawn: at 80 columns too, with the clock (02:00 UTC)
        assert words["closed"] in shown and "02:00" in shown

        mail_row = next(
            r for r in pilot.app.screen.query_one(QueueList).window[1] if r.external_id == "MAIL-1"
        )
        await open_row(pilot, mail_row)
        header = drawn(pilot.app.screen.query_one(ConversationHeader))
        assert f"={words['resume']} {words['waiting']}" in header

        # Monday 09:30: the office is open and the e-mail's countdown runs: due Wednesday
        # 13:30, 23 of its 24 office hours left (on time, no symbol).
        clock.set(MONDAY.astimezone(clock.now().tzinfo))
        pilot.app.screen.tick()
        await until(pilot, lambda: words["resume"] not in row_line(pilot, "MAIL-1"))
        mail = row_line(pilot, "MAIL-1")
        assert mail.startswith(" ") and "2d" in mail
        assert words["closed"] not in status.build().plain


def _with_holiday(day: str):
    from importlib import resources

    from cs_tui.sla import parse_policy

    text = resources.files("cs_tui.policy").joinpath("sla.toml").read_text(encoding="utf-8")
    changed = text.replace("holidays = []", f'holidays = ["{day}"]', 1)
    assert changed != text
    return parse_policy(changed, "team-sla.toml")


async def test_an_open_headers_clock_follows_a_recompute_made_by_another_process(
    store, clock, tmp_path
):
    """The team adds Tuesday as a holiday and another process (a `cs-tui db upgrade`, a
    workstation started with the new policy file) recomputes the stored deadlines: the e-mail
    open on this agent's screen is due a working day later, and its header says so without the
    agent touching it (before, the header kept the old clock until the conversation changed)."""
    clock.set(MONDAY.astimezone(clock.now().tzinfo))
    app = make_app(store, "alice", clock=clock, lang="en", live=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        mail_row = next(
            r for r in pilot.app.screen.query_one(QueueList).window[1] if r.external_id == "MAIL-1"
        )
        await open_row(pilot, mail_row)
        header = pilot.app.screen.query_one(ConversationHeader)
        assert "2d" in drawn(header)  # due Wednesday 13:30

        with Store.open(
            str(tmp_path / "store.db"), clock=clock, policy=_with_holiday("2026-11-17")
        ):
            pass  # opening with the new policy recomputes (one `sla_recompute` event)

        pilot.app.screen._live._poll()
        await until(pilot, lambda: "3d" in drawn(header))  # due Thursday 13:30
        assert "2d" not in drawn(header)
