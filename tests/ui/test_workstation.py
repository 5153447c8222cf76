"""The workstation driven by real key presses; every flow is checked on what the store holds.

The store is the demo store written at a fixed FakeClock moment (`store` in tests/ui/conftest.py),
so rows, countdowns and snapshots are the same on every run. Workers are awaited (never slept on): `settle` waits for
all of them and lets their result messages be handled.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from textual.geometry import Region
from textual.screen import ModalScreen

from cs_tui.app import make_app
from cs_tui.config import Settings
from cs_tui.data.views import QueueFilter
from cs_tui.widgets.composer import Composer
from cs_tui.widgets.message_view import Transcript
from cs_tui.widgets.queue_list import QueueList
from tests.ui.pilot_helpers import (
    alice,
    app_for,
    first_unassigned,
    mine,
    select,
    settle,
    type_text,
)


def screen(pilot):
    return pilot.app.screen


# -- opening and the queue ---------------------------------------------------------------------


async def test_queue_is_ordered_by_urgency_and_enter_opens(store, clock):
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = screen(pilot).query_one(QueueList)
        expected = store.queue(alice(store), QueueFilter(), limit=5)
        start, rows = queue.window
        assert start == 0 and [r.id for r in rows[:5]] == [r.id for r in expected]
        assert queue.total == store.queue_count(alice(store), QueueFilter())
        await pilot.press("j", "j", "enter")
        await settle(pilot)
        assert screen(pilot).detail is not None
        assert screen(pilot).detail.row.id == expected[2].id


async def test_countdown_ticks_without_reading_the_store(store, clock):
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = screen(pilot).query_one(QueueList)
        _start, rows = queue.window
        now = clock.now()
        index = next(
            i
            for i, r in enumerate(rows)
            if r.due_at and abs((r.due_at - now).total_seconds()) < 3000
        )
        queue.move_to(index)
        await pilot.pause()
        y = index * queue.lines_per_row - int(queue.scroll_offset.y)
        before = queue.render_line(y).text
        calls = []
        original = store.queue
        store.queue = lambda *a, **k: calls.append(1) or original(*a, **k)
        clock.advance(61)
        screen(pilot).tick()
        after = queue.render_line(y).text
        assert before != after  # the countdown moved by a minute
        assert after.split()[1] != before.split()[1]
        assert calls == []  # and nothing was read for it


async def test_claim_then_reply_is_stored(store, clock):
    row = first_unassigned(store)
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("c")
        await settle(pilot)
        assert store.queue_row(row.id).assignee == "alice"
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.focused, Composer)
        await type_text(pilot, "您好,请稍等")  # the customer writes Chinese: so does the reply
        await pilot.press("ctrl+j")
        await type_text(pilot, "正在为您查询")
        await pilot.press("enter")
        await settle(pilot)
        messages = store.conversation(row.id).messages
        assert messages[-1].author_kind == "agent"
        assert messages[-1].body == "您好,请稍等\n正在为您查询"
        assert screen(pilot).query_one(Composer).text == ""
        assert store.load_draft(alice(store).id, row.id) == ""


async def test_failed_send_keeps_the_text_to_retry(store, clock):
    """A reply the store refuses is not shown as sent and stays in the composer."""
    others = store.queue(store.get_agent("sam"), QueueFilter(scope="all"), limit=300)
    theirs = next(
        r
        for r in others
        if r.assignee == "bob" and r.status == "open" and not r.customer_name.isascii()
    )
    app = app_for(store, clock, agent="sam")  # a supervisor sees bob's work...
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, theirs)
        await pilot.press("enter")
        await settle(pilot)
        before = store.conversation(theirs.id).message_count
        # ... and may reply; make the store fail the way a lost connection would.
        from cs_tui.data.errors import StoreUnavailable

        def down(*args, **kwargs):
            raise StoreUnavailable("the store is not reachable")

        store.post_reply = down
        await pilot.press("r")
        await type_text(pilot, "您还在吗")
        await pilot.press("enter")
        await settle(pilot)
        assert store.conversation(theirs.id).message_count == before
        composer = screen(pilot).query_one(Composer)
        assert composer.text == "您还在吗" and not composer.sending
        del store.post_reply  # the store is back: Enter again sends it
        await pilot.press("enter")
        await settle(pilot)
        assert store.conversation(theirs.id).messages[-1].body == "您还在吗"
        assert composer.text == ""


async def test_private_note(store, clock):
    row = mine(store, "open")[0]
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("m")
        await settle(pilot)
        await type_text(pilot, "customer is a reseller")
        await pilot.press("enter")
        await settle(pilot)
        last = store.conversation(row.id).messages[-1]
        assert last.author_kind == "note" and last.body == "customer is a reseller"


async def test_transfer_with_fuzzy_picker(store, clock):
    row = mine(store, "open")[0]
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("c", "a", "r")  # carol
        await pilot.press("enter")  # to the handover note
        await type_text(pilot, "wants a call back")
        await pilot.press("enter")
        await settle(pilot)
        assert store.queue_row(row.id).assignee == "carol"


async def test_escalate_needs_a_reason(store, clock):
    row = mine(store, "open")[0]
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("enter")  # empty: refused, the modal stays
        assert store.queue_row(row.id).status != "escalated"
        await type_text(pilot, "wants compensation beyond policy")
        await pilot.press("enter")
        await settle(pilot)
        detail = store.conversation(row.id)
        assert detail.row.status == "escalated"
        assert detail.escalation_reason == "wants compensation beyond policy"


async def test_snooze_until_a_time(store, clock):
    row = mine(store, "open")[0]
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("y")  # the customer waits on an answer: snooze anyway
        await settle(pilot)
        await pilot.press("tab")  # to the typed time
        await type_text(pilot, "2h")
        await pilot.press("enter")
        await settle(pilot)
        detail = store.conversation(row.id)
        assert detail.row.status == "snoozed"
        assert detail.snooze_until == clock.now() + timedelta(hours=2)


async def test_snooze_typed_straight_away_in_chinese_units(store, clock):
    """Typing in the dialog goes to the duration field even before Tab, and 30分钟 is read."""
    row = mine(store, "open")[0]
    app = app_for(store, clock, lang="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("y")  # the customer waits on an answer: snooze anyway
        await settle(pilot)
        await type_text(pilot, "30分钟")
        await pilot.press("enter")
        await settle(pilot)
        assert store.conversation(row.id).snooze_until == clock.now() + timedelta(minutes=30)


async def test_resolve_and_reopen(store, clock):
    row = mine(store, "open")[0]
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("escape")  # the confirmation names it; Escape changes nothing
        await settle(pilot)
        assert store.queue_row(row.id).status == "open"
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("y")  # the customer waits on an answer: resolve anyway
        await settle(pilot)
        assert store.queue_row(row.id).status == "resolved"
        assert store.conversation(row.id).csat is None  # CSAT comes from the customer
        # Resolved work leaves the open queue; show it with the status filter and reopen it.
        screen(pilot).set_filter(QueueFilter(status="resolved", text=row.external_id))
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert store.queue_row(row.id).status == "open"


async def test_resolved_work_cannot_be_resolved_or_snoozed_again_and_the_key_says_why(store, clock):
    row = mine(store, "open")[0]
    store.resolve(alice(store), row.id)
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        screen(pilot).set_filter(QueueFilter(status="resolved", text=row.external_id))
        await settle(pilot)
        for key, reason in (
            ("x", "is already resolved."),
            ("s", "is resolved: a resolved conversation cannot be snoozed."),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert not isinstance(app.screen, ModalScreen)  # no dialog: nothing to ask
            assert any(
                str(n.message) == f"{row.external_id} ({row.customer_name}) {reason}"
                for n in app._notifications
            )
        assert store.queue_row(row.id).status == "resolved"


async def test_tag_add_and_remove(store, clock):
    row = mine(store, "open")[0]
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("l")
        await settle(pilot)
        await type_text(pilot, "回访")
        await pilot.press("enter")
        await settle(pilot)
        assert "回访" in store.queue_row(row.id).tags
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("tab")  # into the current tags
        tags = store.queue_row(row.id).tags
        index = tags.index("回访")
        for _ in range(index):
            await pilot.press("down")
        await pilot.press("d")
        await settle(pilot)
        assert "回访" not in store.queue_row(row.id).tags


async def test_category_and_priority(store, clock):
    row = mine(store, "open")[0]
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("home", "enter")  # the first category: order
        await settle(pilot)
        assert store.queue_row(row.id).category == "order"
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("end", "enter")  # the last priority: urgent
        await settle(pilot)
        assert store.queue_row(row.id).priority == "urgent"


async def test_take_next_claims_the_most_urgent_unassigned(store, clock):
    expected = first_unassigned(store)
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert store.queue_row(expected.id).assignee == "alice"
        assert screen(pilot).detail.row.id == expected.id
        assert isinstance(app.focused, Composer)


async def test_customer_history_is_one_key_away(store, clock):
    row = mine(store, "open")[0]
    history = store.customer_history(row.customer_id)
    # Another agent's conversation is only a summary to alice (it does not open): pick hers or
    # an unassigned one.
    other = next(h for h in history if h.id != row.id and h.assignee in (None, "alice"))
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("h")
        await settle(pilot)
        index = [h.id for h in store.customer_history(row.customer_id, limit=50)].index(other.id)
        for _ in range(index):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert screen(pilot).detail.row.id == other.id


# -- side panel ---------------------------------------------------------------------------------


async def test_phrase_picker_inserts_with_variables_filled(store, clock):
    row = next(r for r in mine(store, "open") if not r.customer_name.isascii())
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("slash")  # at the start of an empty composer: the phrase picker
        await settle(pilot)
        await type_text(pilot, "nh")  # the shortcut of the greeting
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        composer = screen(pilot).query_one(Composer)
        assert app.focused is composer
        assert "{agent_name}" not in composer.text
        assert "Alice" in composer.text  # {agent_name} filled
        await pilot.press("enter")
        await settle(pilot)
        assert "Alice" in store.conversation(row.id).messages[-1].body


async def test_knowledge_search_inserts_an_answer(store, clock):
    row = next(r for r in mine(store, "open") if not r.customer_name.isascii())
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+k")
        await settle(pilot)
        await type_text(pilot, "退款到账")
        await settle(pilot)
        await pilot.press("enter")  # into the article, on its paragraph with the model answer
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        composer = screen(pilot).query_one(Composer)
        assert "24小时内到账" in composer.text


async def test_customer_tags_by_keyboard(store, clock):
    row = mine(store, "open")[0]
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("i")  # the customer tab
        await settle(pilot)
        screen(pilot).query_one("#customer-tag-input").focus()
        await type_text(pilot, "wholesale")
        await pilot.press("enter")
        await settle(pilot)
        assert "wholesale" in store.customer(row.customer_id).tags
        tags = store.customer(row.customer_id).tags
        tag_list = screen(pilot).query_one("#customer-tags")
        tag_list.focus()
        tag_list.highlighted = tags.index("wholesale")
        await pilot.press("d")
        await settle(pilot)
        assert "wholesale" not in store.customer(row.customer_id).tags


# -- filters ------------------------------------------------------------------------------------


async def test_filters_scope_text_and_channel(store, clock):
    from cs_tui.screens.filter import FilterScreen

    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = screen(pilot).query_one(QueueList)
        await pilot.press("2")  # unassigned
        await settle(pilot)
        _start, rows = queue.window
        assert rows and all(r.assignee is None for r in rows)
        assert queue.total == store.queue_count(alice(store), QueueFilter(scope="unassigned"))
        await pilot.press("1")  # mine
        await settle(pilot)
        _start, rows = queue.window
        assert rows and all(r.assignee == "alice" for r in rows)
        await pilot.press("3", "slash")
        await type_text(pilot, "退款")
        await pilot.press("enter")
        await settle(pilot)
        _start, rows = queue.window
        expected = store.queue(alice(store), QueueFilter(text="退款"), limit=200)
        assert [r.id for r in rows] == [r.id for r in expected]
        await pilot.press("f")  # channel, status, tag
        await settle(pilot)
        await pilot.press("tab", "enter")  # open the channel list
        await pilot.press("down", "enter")  # the first channel: chat
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FilterScreen)
        assert screen(pilot).filter.channel == "chat"
        _start, rows = queue.window
        assert all(r.channel == "chat" for r in rows)


# -- drafts, language, help, palette -------------------------------------------------------


async def test_draft_comes_back_after_a_restart(store, clock):
    row = mine(store, "open")[0]
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("r")
        await settle(pilot)
        await type_text(pilot, "half a reply")
        await pilot.press("ctrl+q")
    assert store.load_draft(alice(store).id, row.id) == "half a reply"
    again = app_for(store, clock)
    async with again.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("enter")
        await settle(pilot)
        assert screen(pilot).query_one(Composer).text == "half a reply"


async def test_language_switch_keeps_the_conversation(store, clock):
    row = mine(store, "open")[0]
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("enter")
        await settle(pilot)
        assert "agent" in str(screen(pilot).query_one("#status").render())
        await pilot.press("f9")
        await settle(pilot)
        assert app.lang == "zh"
        assert "客服" in str(screen(pilot).query_one("#status").render())
        assert screen(pilot).detail.row.id == row.id
        await pilot.press("f9")
        await settle(pilot)
        assert app.lang == "en"


async def test_help_and_palette(store, clock):
    row = first_unassigned(store)
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        from cs_tui.screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        await select(pilot, row)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await type_text(pilot, "Claim")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert store.queue_row(row.id).assignee == "alice"


async def test_keymap_from_the_config(store, clock):
    row = mine(store, "open")[0]
    settings = Settings(keymap={"ws.resolve": "ctrl+r"})
    app = app_for(store, clock, settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("x")  # no longer bound
        await settle(pilot)
        assert store.queue_row(row.id).status == "open"
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("y")  # the customer waits on an answer: resolve anyway
        await settle(pilot)
        assert store.queue_row(row.id).status == "resolved"
        assert store.conversation(row.id).csat is None


async def test_locked_mode_offers_no_shell_or_theme(store, clock):
    app = app_for(store, clock, locked=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Theme" not in titles and "Quit" in titles
        app.action_suspend_process()  # must not leave the app
        assert app.is_running


async def test_compliance_asks_once_before_sending(store, clock):
    row = next(r for r in mine(store, "open") if not r.customer_name.isascii())
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("r")
        await settle(pilot)
        before = store.conversation(row.id).message_count
        await type_text(pilot, "这是物流的问题,你找物流吧")
        await pilot.press("enter")
        await settle(pilot)
        from cs_tui.screens.confirm import ConfirmScreen

        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # edit
        await settle(pilot)
        assert store.conversation(row.id).message_count == before
        assert isinstance(app.focused, Composer)
        await pilot.press("enter")
        await pilot.press("y")  # send anyway
        await settle(pilot)
        assert store.conversation(row.id).messages[-1].body == "这是物流的问题,你找物流吧"


# -- untrusted text ----------------------------------------------------------------------------


async def test_customer_text_is_shown_literally_and_safely(store, clock):
    row = mine(store, "open")[0]
    evil = "[bold]x[/bold] [@click=app.quit]q[/] hello [/] world \x1b[2J\x1b]52;c;aGk=\x07 \x9b31m"
    store.post_customer_message(row.id, evil)
    store.post_customer_message(row.id, "长" * 50_000)
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running
        transcript = screen(pilot).query_one(Transcript)
        transcript.scroll_home(animate=False)
        await pilot.pause()
        shot = app.export_screenshot()
        assert "[bold]x[/bold]" in shot
        assert "[@click=app.quit]q[/]" in shot
        # Nothing drawn carries an action or a control character, in the transcript or queue.
        for widget in (app.screen.query_one("#transcript-body"), app.screen.query_one(QueueList)):
            width, height = widget.size
            for strip in widget.render_lines(Region(0, 0, width, min(height, 400))):
                for segment in strip:
                    assert not set(segment.text) & {"\x1b", "\x9b", "\x07"}
                    meta = segment.style.meta if segment.style else {}
                    assert "@click" not in meta
        await pilot.press("v")  # the whole long message
        await settle(pilot)
        from cs_tui.screens.fullmessage import FullMessageScreen

        assert isinstance(app.screen, FullMessageScreen)


async def test_live_update_from_another_agent(store, clock):
    row = first_unassigned(store)
    app = make_app(store, "alice", clock=clock, lang="en", live=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        bob = store.get_agent("bob")
        store.claim(bob, row.id)  # another agent, another process in real life
        screen(pilot)._live._poll()
        await settle(pilot)
        # Alice's queue (her work and the unassigned pool) no longer holds bob's conversation.
        queue = screen(pilot).query_one(QueueList)
        assert queue.total == 0 and queue.current_row is None


def test_catalog_is_complete_in_both_languages():
    """Every message the code shows has a reviewed translation in both catalogs (not a fuzzy
    guess), the plural rules are right, and the shipped `.mo` files are what the `.po` compile to."""
    from cs_tui import i18n

    for lang in i18n.LANGUAGES:
        assert i18n.problems(lang) == []
        assert not i18n.stale(lang), f"{lang}: run python -m cs_tui.i18n compile"
    i18n.set_language("zh")
    try:
        assert i18n._("Claim") == "领取"
    finally:
        i18n.set_language("en")


def test_mo_compiler_matches_gettext():
    import gettext
    import io

    from cs_tui import i18n

    po = 'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "a\\"b"\nmsgstr "甲\\n乙"\n'
    catalog = gettext.GNUTranslations(io.BytesIO(i18n.compile_po(po)))
    assert catalog.gettext('a"b') == "甲\n乙"


@pytest.mark.skipif(os.name != "posix", reason="tzset")
def test_demo_command_parses_options_after_the_subcommand():
    from cs_tui.cli import build_parser

    args = build_parser().parse_args(["demo", "--db", "/tmp/x.db", "--lang", "zh"])
    assert args.db == "/tmp/x.db" and args.lang == "zh"
    args = build_parser().parse_args(["--db", "/tmp/y.db", "demo"])
    assert args.db == "/tmp/y.db"


# -- snapshots -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_workstation(snap_compare, store, clock, lang, size):
    """Queue, an open conversation with customer, agent and note messages, and the side panel
    (shown at 120 columns, toggled below), at a fixed moment."""
    row = next(r for r in mine(store, "open") if not r.customer_name.isascii())
    store.post_note(alice(store), row.id, "VIP: call back before 18:00 [bold]not bold[/bold]")
    index = [r.id for r in store.queue(alice(store), QueueFilter(), limit=200)].index(row.id)
    app = app_for(store, clock, lang=lang)

    async def open_it(pilot):
        await settle(pilot)
        queue = pilot.app.screen.query_one(QueueList)
        queue.move_to(index)
        await pilot.press("enter")
        await settle(pilot)
        pilot.app.screen.query_one(Composer).cursor_blink = False

    assert snap_compare(app, terminal_size=size, run_before=open_it)


async def test_a_reply_with_an_unfilled_blank_asks_before_sending(store, clock):
    row = mine(store, "open")[0]
    before = store.conversation(row.id).message_count
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("r")
        await settle(pilot)
        composer = pilot.app.screen.query_one(Composer)
        composer.text = "您好,您的快递单号是{tracking_no},请查收。"
        await pilot.press("enter")
        await settle(pilot)
        assert store.conversation(row.id).message_count == before  # not sent: it asked
        await pilot.press("escape")
        await settle(pilot)
        assert "{tracking_no}" in composer.text


async def test_a_due_follow_up_puts_the_follow_up_phrases_first(store, clock):
    boss = store.ensure_agent("sam", role="supervisor")
    due = [r for r in store.queue(boss, limit=400) if r.sla_clock == "follow_up"]
    assert due, "the demo has follow-ups coming due"
    row = due[0]
    app = app_for(store, clock, agent=row.assignee)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("enter")
        await settle(pilot, 10)
        side = pilot.app.screen.query_one("#side")
        first = next(k for k in side._phrase_items)  # the phrases listed, in order
        assert side._phrase_items[first].category == "follow_up"


async def test_store_refusals_are_shown_in_the_interface_language(store, clock):
    unassigned = [
        r
        for r in store.queue(alice(store), QueueFilter(scope="unassigned"), limit=50)
        if r.status == "new"
    ][0]
    app = app_for(store, clock, lang="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, unassigned)
        await pilot.press("e")  # escalating needs the conversation to be hers: the store says so
        await settle(pilot)
        await type_text(pilot, "需要主管")
        await pilot.press("enter")
        await settle(pilot)
        shown = " ".join(str(n.message) for n in pilot.app._notifications)
        assert "请先领取" in shown and "claim it first" not in shown
