"""Role-play through Pilot: a solo session with the scripted customer, and a live trainer/trainee
pair as two apps on one store.

Time moves only with the FakeClock: a test advances it and calls the screen's once-a-second tick
itself, then waits for the workers (never for wall-clock time). Live updates between the two
apps go through the real change poller (`_live._poll()`), as in the workstation tests.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from textual.geometry import Region

from cs_tui.data.store import Store
from cs_tui.roleplay import find_scenario
from cs_tui.screens.roleplay import (
    BriefPanel,
    RolePlayWorkstation,
    RubricPanel,
    ScorecardScreen,
    TraineeApp,
    TrainerApp,
    TrainerScreen,
)
from cs_tui.widgets.composer import Composer
from cs_tui.widgets.message_view import Transcript
from cs_tui.widgets.queue_list import QueueList
from tests.ui.pilot_helpers import settle

START = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "store.db")


@pytest.fixture
def store(db, clock):
    s = Store.open(db, clock=clock)
    s.ensure_agent("bob", "Bob")
    s.ensure_agent("tina", "Tina", role="trainer")
    yield s
    s.dispose()


def screen_lines(app) -> list[str]:
    """The screen as drawn (the SVG screenshot's text, line by line): what the compositor put
    together, so a character lost where one widget crosses another is missing here too."""
    shot = app.export_screenshot()
    lines: dict[int, str] = {}
    for number, chunk in re.findall(r'clip-path="url\(#[\w-]+-line-(\d+)\)">([^<]*)</text>', shot):
        lines[int(number)] = lines.get(int(number), "") + html.unescape(chunk).replace("\xa0", " ")
    return [lines.get(n, "") for n in range(max(lines, default=-1) + 1)]


def flat(text: str) -> str:
    return "".join(text.split())


def bodies(store, conversation_id: int) -> list[str]:
    return [m.body for m in store.conversation(conversation_id).messages]


async def send_reply(pilot, text: str) -> None:
    """Reply in the open conversation: `r`, the text, Enter."""
    await pilot.press("r")
    await settle(pilot)
    composer = pilot.app.screen.query_one(Composer)
    assert pilot.app.focused is composer
    composer.insert_text(text)
    await pilot.press("enter")
    await settle(pilot)


async def test_solo_session_end_to_end(store, clock):
    scenario = find_scenario("zh-late-parcel")
    bob = store.get_agent("bob")
    session = store.start_session(bob, scenario)
    cid = session.conversation_id
    app = TraineeApp(store, bob, session, scenario, clock, lang="zh", live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RolePlayWorkstation)
        # The trainee's queue holds the one training conversation, open.
        queue = screen.query_one(QueueList)
        assert queue.total == 1 and queue.current_row.id == cid
        assert screen.detail.row.id == cid
        assert [m.body for m in screen.query_one(Transcript).messages] == [scenario.opening]

        # 29 s of silence: nothing yet. 30 s: the customer gets angrier, by itself.
        clock.advance(29)
        screen.roleplay_tick()
        await settle(pilot)
        assert len(bodies(store, cid)) == 1
        clock.advance(1)
        screen.roleplay_tick()
        await settle(pilot)
        angrier = "我都等了3天了!现在问个客服还要等这么久?"
        assert bodies(store, cid)[-1] == angrier
        assert screen.query_one(Transcript).messages[-1].body == angrier

        # The trainee answers; the scripted customer reacts to what the reply contains.
        clock.advance(5)
        await send_reply(pilot, "您好,非常理解您的心情,让您久等了!我马上帮您联系快递核实。")
        # (The app's own 1 s timer may already have let the customer answer: both are fine.)
        assert [m.author_kind for m in store.conversation(cid).messages][2] == "agent"
        clock.advance(1)
        screen.roleplay_tick()
        await settle(pilot)
        assert bodies(store, cid)[-1].startswith("那你们查到了吗?")

        # F8: the session ends and the scorecard appears.
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, ScorecardScreen)
        stored = store.session(session.id)
        assert stored.finished
        assert app.screen.card == stored.scorecard
        items = {i["criterion"]: i for i in stored.scorecard["items"]}
        assert items["first_response"]["passed"] is False  # 35 s after the opening
        assert items["empathy"]["passed"] is True
        shown = app.screen.query_one("#card-body").render()
        assert "总分" in str(shown) or "Total" in str(shown)
        await pilot.press("escape")
        await settle(pilot)
    assert app.return_code in (0, None)


async def test_time_limit_ends_the_session_with_a_scorecard(store, clock):
    scenario = find_scenario("zh-abusive-customer")  # 6 minutes
    bob = store.get_agent("bob")
    session = store.start_session(bob, scenario)
    app = TraineeApp(store, bob, session, scenario, clock, lang="en", live=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        clock.advance(360)
        app.screen.roleplay_tick()
        await settle(pilot)
        assert isinstance(app.screen, ScorecardScreen)
        card = store.session(session.id).scorecard
        first = next(i for i in card["items"] if i["criterion"] == "first_response")
        assert first["passed"] is False and first["note"] == "未回复"  # the scenario is in Chinese


async def test_live_pair_trainer_and_trainee_on_one_store(db, store, clock):
    scenario = find_scenario("en-late-parcel")
    bob, tina = store.get_agent("bob"), store.get_agent("tina")
    session = store.start_session(bob, scenario, "live", trainer=tina)
    session = store.join_session(session.id, scenario, bob)  # `roleplay join`
    cid = session.conversation_id
    trainer_store = Store.open(db, clock=clock)  # the trainer's process has its own store
    trainer = TrainerApp(trainer_store, tina, session, scenario, clock, lang="en", live=True)
    trainee = TraineeApp(store, bob, session, scenario, clock, lang="en", live=True)
    try:
        async with trainer.run_test(size=(120, 40)) as tp, trainee.run_test(size=(120, 40)) as bp:
            await settle(tp)
            await settle(bp)
            console = trainer.screen
            workstation = trainee.screen
            assert isinstance(console, TrainerScreen)
            assert isinstance(workstation, RolePlayWorkstation)
            assert trainer.focused is console.query_one("#rp-say")

            # The trainer types as the customer (markup-looking text stays literal).
            await tp.press(*"Hello?? [/] anyone")
            await tp.press("enter")
            await settle(tp)
            assert bodies(store, cid)[-1] == "Hello?? [/] anyone"
            # The trainee's workstation gets it through the change poller; no script runs.
            clock.advance(5)
            workstation.roleplay_tick()
            workstation._live._poll()
            await settle(bp)
            assert trainee.screen.query_one(Transcript).messages[-1].body == "Hello?? [/] anyone"
            assert len(bodies(store, cid)) == 2  # live: the scripted customer stays quiet

            # The trainee replies; the trainer sees it and the rubric fills in.
            await send_reply(bp, "Hello, I'm so sorry for the wait. Let me check with the courier.")
            console._live._poll()
            await settle(tp)
            assert console.query_one(Transcript).messages[-1].author_kind == "agent"
            card = console.query_one(RubricPanel).card
            assert card.item("greeting").passed and card.item("empathy").passed
            assert not card.item("time_commitment").passed

            # The trainer says scripted turn 3 ("checking") by key, from the turn list.
            await tp.press("f3")
            await tp.press("3")
            await settle(tp)
            assert bodies(store, cid)[-1].startswith("Fine, so where is it?")
            # Saying it twice is refused, and nothing is stored twice.
            await tp.press("3")
            await settle(tp)
            assert sum(b.startswith("Fine, so where") for b in bodies(store, cid)) == 1

            # The trainer ends the session: both sides see the same scorecard.
            await tp.press("f8")
            await settle(tp)
            assert isinstance(trainer.screen, ScorecardScreen)
            if not isinstance(trainee.screen, ScorecardScreen):  # the poller's timer may be first
                workstation._live._poll()
            await settle(bp)
            assert isinstance(trainee.screen, ScorecardScreen)
            assert trainee.screen.card == trainer.screen.card == store.session(session.id).scorecard
            assert trainee.screen.card["info"]["mode"] == "live"
    finally:
        trainer_store.dispose()


async def test_customer_text_from_the_trainer_is_shown_safely(store, clock):
    scenario = find_scenario("en-late-parcel")
    bob, tina = store.get_agent("bob"), store.get_agent("tina")
    session = store.start_session(bob, scenario, "live", trainer=tina)
    store.post_as_customer(
        tina, session.conversation_id, "[@click=app.quit]x[/] \x1b]52;c;QQ==\x07"
    )
    app = TrainerApp(store, tina, session, scenario, clock, lang="en", live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.is_running
        app.screen.query_one(Transcript).scroll_home(animate=False)
        await pilot.pause()
        shot = app.export_screenshot()
        assert "[@click=app.quit]x[/]" in shot
        widget = app.screen.query_one("#transcript-body")
        width, height = widget.size
        for strip in widget.render_lines(Region(0, 0, width, height)):
            for segment in strip:
                assert not set(segment.text) & {"\x1b", "\x07"}
                assert "@click" not in (segment.style.meta if segment.style else {})


async def test_the_brief_stays_in_a_panel_whole_and_f1_hides_and_reopens_it(store, clock):
    """The brief used to be a toast over the panes: where the side panel's edge ran under it,
    the Chinese character crossing that column was drawn as blanks (here 静 and 告 at 120
    columns). Now it is a full-width panel that stays, every character in place."""
    scenario = find_scenario("zh-compensation-beyond-policy")
    bob = store.get_agent("bob")
    session = store.start_session(bob, scenario)
    app = TraineeApp(store, bob, session, scenario, clock, lang="zh", live=False)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        panel = app.screen.query_one(BriefPanel)
        assert panel.display
        brief = flat(scenario.brief)
        assert "告" in brief and "政" in brief
        assert brief in flat("".join(screen_lines(app)))
        # Still there minutes later (a toast would have gone).
        clock.advance(5 * 60)
        await settle(pilot)
        assert brief in flat("".join(screen_lines(app)))

        await pilot.press("f1")
        await settle(pilot)
        assert not panel.display
        assert brief not in flat("".join(screen_lines(app)))
        assert "F1 任务说明" in screen_lines(app)[0]  # the bar says how to bring it back
        await pilot.press("f1")
        await settle(pilot)
        assert panel.display
        assert brief in flat("".join(screen_lines(app)))


async def test_english_brief_wraps_at_words_and_chinese_between_characters(store, clock):
    scenario = find_scenario("en-late-parcel")
    bob = store.get_agent("bob")
    session = store.start_session(bob, scenario)
    app = TraineeApp(store, bob, session, scenario, clock, lang="en", live=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lines = [line.strip() for line in screen_lines(app)[2:5]]
        words = " ".join(scenario.brief.split())
        assert " ".join(lines) == words  # no word cut in two, nothing lost
        assert all(len(line) <= 78 for line in lines)


async def test_a_live_session_clock_starts_when_the_trainee_joins(db, store, clock):
    """The trainer opens the console; the trainee takes two minutes to join. Until then the
    console waits (full time, the join command, no customer line); from the join on, the time
    limit and the first-reply target count."""
    scenario = find_scenario("en-late-parcel")
    bob, tina = store.get_agent("bob"), store.get_agent("tina")
    session = store.start_session(bob, scenario, "live", trainer=tina)
    cid = session.conversation_id
    assert bodies(store, cid) == []  # the customer waits for the trainee too
    trainer_store = Store.open(db, clock=clock)
    trainer = TrainerApp(trainer_store, tina, session, scenario, clock, lang="en", live=True)
    try:
        async with trainer.run_test(size=(120, 40)) as tp:
            await settle(tp)
            console = trainer.screen
            head = str(console.query_one("#rp-head").render())
            assert "8:00" in head and "waiting for the trainee" in head
            assert f"cs-tui roleplay join {session.id}" in "".join(screen_lines(trainer))
            # Time passes: no countdown, no "time is up", and nothing is said for the customer.
            clock.advance(600)
            console.tick()
            await tp.press(*"Hello?")
            await tp.press("enter")
            await tp.press("f3", "1")
            await settle(tp)
            assert bodies(store, cid) == []
            assert "8:00" in str(console.query_one("#rp-head").render())

            joined = store.join_session(session.id, scenario, bob)
            assert joined.started_at == clock.now() == session.started_at + timedelta(seconds=600)
            assert store.join_session(session.id, scenario, bob) == joined  # once only
            assert bodies(store, cid) == [scenario.opening]

            trainee = TraineeApp(store, bob, joined, scenario, clock, lang="en", live=False)
            async with trainee.run_test(size=(120, 40)) as bp:
                await settle(bp)
                clock.advance(20)
                trainee.screen.roleplay_tick()
                await settle(bp)
                assert "7:40" in screen_lines(trainee)[0]
                await send_reply(bp, "Hello, I'm sorry for the wait, let me check right away.")
            console._live._poll()
            await settle(tp)
            console.tick()
            assert "7:40" in str(console.query_one("#rp-head").render())
            card = console.query_one(RubricPanel).card
            assert card.item("first_response").passed  # 20 s after the join, not 620 s
    finally:
        trainer_store.dispose()


async def test_a_missed_item_points_at_the_reply_where_it_was_expected(store, clock):
    """No greeting: the scorecard shows the first reply under "Greeting", in the Chinese UI
    with Chinese labels even for an English conversation."""
    scenario = find_scenario("en-late-parcel")
    bob = store.get_agent("bob")
    session = store.start_session(bob, scenario)
    app = TraineeApp(store, bob, session, scenario, clock, lang="zh", live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        clock.advance(10)
        await send_reply(pilot, "Your parcel is with the courier.")
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, ScorecardScreen)
        greeting = next(i for i in app.screen.card["items"] if i["criterion"] == "greeting")
        assert greeting["passed"] is False
        assert [(e["message"], e["text"]) for e in greeting["evidence"]] == [
            (1, "Your parcel is with the courier.")
        ]
        lines = screen_lines(app)
        row = next(n for n, line in enumerate(lines) if "问候" in line)
        assert "#2" in lines[row + 1] and "Your parcel is with the courier." in lines[row + 1]
        for label in ("首次响应及时", "用语规范", "复述确认", "结束语"):
            assert any(label in line for line in lines)
