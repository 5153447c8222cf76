"""The workstation acts on the conversation on screen, and never sends by accident.

Real keys through Pilot on a copy of the demo store; every test asserts what the store holds
afterwards (which conversation got escalated, snoozed or tagged; whether a reply was stored).
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from cs_tui.data.views import QueueFilter
from cs_tui.screens.confirm import ConfirmScreen
from cs_tui.screens.workstation import WorkstationScreen
from cs_tui.widgets.composer import Composer
from cs_tui.widgets.queue_list import QueueList
from cs_tui.widgets.side_sources import check_draft
from tests.ui.pilot_helpers import app_for, first_unassigned, mine, select, settle, type_text


def screen(pilot) -> WorkstationScreen:
    return pilot.app.screen


def queue(pilot) -> QueueList:
    return screen(pilot).query_one(QueueList)


def toasts(pilot) -> str:
    return " ".join(str(n.message) for n in pilot.app._notifications)


def border_title(pilot) -> str:
    box = pilot.app.screen.query_one(".box")
    return str(box.border_title)


async def open_row(pilot, row) -> None:
    await select(pilot, row)
    await pilot.press("enter")
    await settle(pilot)
    assert screen(pilot).detail.row.id == row.id


# -- 1. the open conversation is the target -----------------------------------------------------


async def test_escalate_acts_on_the_open_conversation_not_the_cursor(store, clock):
    row = mine(store, "open")[0]
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, row)
        await pilot.press("escape")  # the queue filter box: back to the whole queue
        await settle(pilot)
        screen(pilot).set_filter(QueueFilter())
        await settle(pilot)
        queue(pilot).focus()
        await pilot.press("j", "j")  # the cursor wanders while the conversation stays open
        await settle(pilot)
        cursor_row = queue(pilot).current_row
        assert cursor_row.id != row.id and screen(pilot).detail.row.id == row.id
        await pilot.press("e")
        await settle(pilot)
        assert row.external_id in border_title(pilot)
        await type_text(pilot, "needs a refund above policy")
        await pilot.press("enter")
        await settle(pilot)
        assert store.queue_row(row.id).status == "escalated"
        assert store.queue_row(cursor_row.id).status != "escalated"


async def test_after_a_transfer_the_pane_and_the_cursor_agree(store, clock):
    """`Enter c t carol Enter` then `e`: the escalation names what is on screen, never the
    conversation that just left (it used to go to the row under the cursor, unseen)."""
    row = first_unassigned(store)
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, row)
        await pilot.press("c")
        await settle(pilot)
        screen(pilot).set_filter(QueueFilter())  # the whole queue, as the agent works it
        await settle(pilot)
        queue(pilot).focus()
        await pilot.press("t")
        await settle(pilot)
        assert row.external_id in border_title(pilot)
        await type_text(pilot, "carol")
        await pilot.press("enter")
        await type_text(pilot, "order checked, refund pending")
        await pilot.press("enter")
        await settle(pilot)
        assert store.queue_row(row.id).assignee == "carol"
        shown, cursor_row = screen(pilot).detail, queue(pilot).current_row
        assert shown is None or (cursor_row is not None and cursor_row.id == shown.row.id)
        await pilot.press("e")
        await settle(pilot)
        expected = shown.row if shown is not None else cursor_row
        assert expected.external_id in border_title(pilot)
        assert row.external_id not in border_title(pilot)
        await type_text(pilot, "customer asks for the manager")
        await pilot.press("enter")
        await settle(pilot)
        assert store.queue_row(row.id).status != "escalated"


async def test_take_next_puts_the_cursor_on_the_taken_row_and_s_snoozes_it(store, clock):
    """`n` then `s`: the snooze goes to the conversation just taken, not the cursor's old row."""
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j")
        await settle(pilot)
        before = queue(pilot).current_row
        await pilot.press("n")
        await settle(pilot)
        taken = screen(pilot).detail.row
        assert taken.id != before.id and store.queue_row(taken.id).assignee == "alice"
        assert queue(pilot).current_row.id == taken.id
        await pilot.press("escape")  # out of the composer, back in the queue
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert taken.external_id in border_title(pilot)
        await pilot.press("y")  # the customer waits on a first answer: snooze anyway
        await settle(pilot)
        await pilot.press("enter")  # the first preset: 15 minutes
        await settle(pilot)
        assert store.queue_row(taken.id).status == "snoozed"
        assert store.queue_row(before.id).status != "snoozed"


async def test_after_resolving_the_pane_and_the_cursor_agree(store, clock):
    row = next(r for r in mine(store, "open") if r.status == "open")
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, row)
        screen(pilot).set_filter(QueueFilter())
        await settle(pilot)
        await pilot.press("x", "y")  # resolve (the customer waits: y goes ahead)
        await settle(pilot)
        assert store.queue_row(row.id).status == "resolved"
        shown, cursor_row = screen(pilot).detail, queue(pilot).current_row
        assert shown is None or (cursor_row is not None and cursor_row.id == shown.row.id)


async def test_keys_that_cannot_act_say_why(store, clock):
    row = next(r for r in mine(store, "open") if r.status == "open")
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f7")  # an agent: no dashboard, and a reason
        await settle(pilot)
        assert isinstance(pilot.app.screen, WorkstationScreen)
        assert "dashboard is for supervisors" in toasts(pilot)
        await open_row(pilot, row)
        await pilot.press("o")  # reopen an open conversation
        await settle(pilot)
        assert "not resolved" in toasts(pilot) and row.external_id in toasts(pilot)
        assert store.queue_row(row.id).status == "open"
        await pilot.press("v")  # no message of it is cut short
        await settle(pilot)
        assert isinstance(pilot.app.screen, WorkstationScreen)
        assert "shown whole" in toasts(pilot)


async def test_every_dialog_names_its_target_without_raw_escapes(store, clock, tmp_path):
    """The id and the customer's name come from outside: they are named, made harmless."""
    row = next(r for r in mine(store, "open") if r.status == "open")
    evil_id = "EVIL-1\x1b]52;c;aGk=\x07"
    evil_name = "Mallory\x9b2J [b]x[/]"
    with sqlite3.connect(tmp_path / "store.db") as db:  # the store fixture's file
        db.execute("UPDATE conversation SET external_id=? WHERE id=?", (evil_id, row.id))
        db.execute(
            "UPDATE customer SET name=? WHERE id=(SELECT customer_id FROM conversation WHERE id=?)",
            (evil_name, row.id),
        )
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue(pilot).focus()
        _start, rows = queue(pilot).window
        queue(pilot).move_to(next(i for i, r in enumerate(rows) if r.id == row.id))
        await pilot.press("enter")
        await settle(pilot)
        assert screen(pilot).detail.row.id == row.id
        for key in ("t", "e", "s", "l", "y", "p", "x"):
            await pilot.press(key)
            await settle(pilot)
            title = border_title(pilot)
            assert "EVIL-1" in title and "Mallory" in title, (key, title)
            assert not set(title) & {"\x1b", "\x07", "\x9b"}, (key, title)
            await pilot.press("escape")
            await settle(pilot)
        assert store.queue_row(row.id).status == "open"


# -- 2. safe defaults before sending --------------------------------------------------------------


async def test_enter_on_a_warning_edits_at_the_problem_and_ctrl_s_sends(store, clock):
    row = next(r for r in mine(store, "open") if not r.customer_name.isascii())
    before = store.conversation(row.id).message_count
    draft = "您好,这是物流的问题,你找物流吧"
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, row)
        await pilot.press("r")
        await type_text(pilot, draft)
        await pilot.press("end")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)
        assert row.external_id in border_title(pilot)
        await pilot.press("enter")  # the default: back to editing
        await settle(pilot)
        assert store.conversation(row.id).message_count == before
        composer = screen(pilot).query_one(Composer)
        assert pilot.app.focused is composer and composer.text == draft
        first = check_draft(draft, "zh")[0]
        assert first.start > 0
        assert composer.cursor_location == composer.document.get_location_from_index(first.start)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("n")  # n is no as well
        await settle(pilot)
        assert store.conversation(row.id).message_count == before
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+s")  # the explicit key sends it anyway
        await settle(pilot)
        detail = store.conversation(row.id)
        assert detail.message_count == before + 1 and detail.messages[-1].body == draft


async def test_a_reply_in_another_language_asks_and_enter_keeps_it(store, clock):
    row = next(r for r in mine(store, "open") if not r.customer_name.isascii())
    before = store.conversation(row.id).message_count
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, row)
        await pilot.press("r")
        await type_text(pilot, "Hello, your parcel ships today")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert store.conversation(row.id).message_count == before
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert store.conversation(row.id).messages[-1].body == "Hello, your parcel ships today"


async def test_a_draft_with_an_unfilled_blank_is_never_sent(store, clock):
    row = next(r for r in mine(store, "open") if not r.customer_name.isascii())
    before = store.conversation(row.id).message_count
    draft = "您好,您的快递单号是{tracking_no},请查收。"
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, row)
        await pilot.press("r")
        await settle(pilot)
        composer = screen(pilot).query_one(Composer)
        composer.text = draft
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("y", "ctrl+s")  # no key sends it: the dialog says why instead
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)
        problem = str(pilot.app.screen.query_one("#confirm-problem").render())
        assert "blank" in problem
        assert store.conversation(row.id).message_count == before
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.focused is composer and composer.text == draft
        start = draft.index("{tracking_no}")
        assert composer.cursor_location == composer.document.get_location_from_index(start)
        assert store.conversation(row.id).message_count == before


# -- 3. a reply in a conversation nobody has claimed ------------------------------------------


async def test_claim_and_send_in_one_key(store, clock):
    row = first_unassigned(store)  # its customer writes Chinese
    before = store.conversation(row.id).message_count
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, row)
        await pilot.press("r")
        await type_text(pilot, "您好,我来帮您查一下")
        await pilot.press("enter")
        await settle(pilot)
        assert row.external_id in border_title(pilot)
        await pilot.press("enter")  # the default: back to the draft, nothing claimed
        await settle(pilot)
        assert store.queue_row(row.id).assignee is None
        assert screen(pilot).query_one(Composer).text == "您好,我来帮您查一下"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("c")  # claim and send
        await settle(pilot)
        detail = store.conversation(row.id)
        assert detail.row.assignee == "alice"
        assert detail.message_count == before + 1
        replies = [m for m in detail.messages if m.body == "您好,我来帮您查一下"]
        assert len(replies) == 1 and replies[0].author_kind == "agent"
        assert screen(pilot).query_one(Composer).text == ""


async def test_claim_and_send_that_loses_the_race_keeps_the_draft(store, clock):
    row = first_unassigned(store)
    before = store.conversation(row.id).message_count
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, row)
        await pilot.press("r")
        await type_text(pilot, "您好,请稍等")
        await pilot.press("enter")
        await settle(pilot)
        store.claim(store.get_agent("bob"), row.id)  # bob, in his own terminal, was quicker
        await pilot.press("c")
        await settle(pilot)
        assert store.queue_row(row.id).assignee == "bob"
        assert store.conversation(row.id).message_count == before
        assert screen(pilot).query_one(Composer).text == "您好,请稍等"
        assert "bob" in toasts(pilot)


async def test_a_reply_in_someone_elses_conversation_says_whose_it_is(store, clock):
    row = first_unassigned(store)
    before = store.conversation(row.id).message_count
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, row)
        store.claim(store.get_agent("bob"), row.id)  # taken while alice was reading
        await pilot.press("r")
        await type_text(pilot, "您好,请稍等")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, WorkstationScreen)
        assert store.conversation(row.id).message_count == before
        assert screen(pilot).query_one(Composer).text == "您好,请稍等"
        assert "belongs to bob" in toasts(pilot)


# -- 4. breaches are not hidden quietly -------------------------------------------------------


async def test_resolving_while_the_customer_waits_names_the_wait_and_defaults_to_no(store, clock):
    row = next(r for r in mine(store, "open") if r.status == "open")
    waiting_since = store.conversation(row.id).facts.last_customer_at
    clock.advance((waiting_since + timedelta(minutes=12) - clock.now()).total_seconds())
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, row)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)
        body = str(pilot.app.screen.query_one("#confirm-body").render())
        assert "waited 12 min" in body
        await pilot.press("enter")
        await settle(pilot)
        assert store.queue_row(row.id).status == "open"
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert store.queue_row(row.id).status == "resolved"
        assert store.conversation(row.id).csat is None


async def test_resolving_an_answered_conversation_offers_no_csat(store, clock):
    from cs_tui.screens.choice import ChoiceScreen

    answered = next(
        r
        for r in mine(store, "open")
        if r.status == "open" and store.conversation(r.id).messages[-1].author_kind == "agent"
    )
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, answered)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ChoiceScreen)
        assert pilot.app.screen.query_one("#choices").option_count == 1
        await pilot.press("enter")
        await settle(pilot)
        assert store.queue_row(answered.id).status == "resolved"
        assert store.conversation(answered.id).csat is None


async def test_snoozing_while_the_customer_waits_asks_and_the_maximum_holds(store, clock):
    row = next(r for r in mine(store, "open") if r.status == "open")
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, row)
        await pilot.press("s")
        await settle(pilot)
        assert "has waited" in str(pilot.app.screen.query_one("#confirm-body").render())
        await pilot.press("enter")  # the default: no snooze
        await settle(pilot)
        assert isinstance(pilot.app.screen, WorkstationScreen)
        assert store.queue_row(row.id).status == "open"
        await pilot.press("s", "y")
        await settle(pilot)
        assert "24 h" in str(pilot.app.screen.query_one("#snooze-max").render())
        await type_text(pilot, "2d")
        await pilot.press("enter")
        await settle(pilot)
        assert "at most 24 h" in str(pilot.app.screen.query_one("#snooze-problem").render())
        assert store.queue_row(row.id).status == "open"
        for _ in range(2):
            await pilot.press("backspace")
        await type_text(pilot, "2h")
        await pilot.press("enter")
        await settle(pilot)
        detail = store.conversation(row.id)
        assert detail.row.status == "snoozed"
        assert detail.snooze_until == clock.now() + timedelta(hours=2)


# -- 9. nothing stored or pasted reaches the composer raw ------------------------------------


async def test_a_stored_draft_and_a_paste_lose_their_escape_sequences(store, clock):
    """A draft saved by an older version (or written into the store by anyone) and a paste from
    a web page are drawn by the composer and sent to the customer: no ESC may survive either."""
    from textual import events

    row = mine(store, "open")[0]
    alice = store.get_agent("alice")
    store.save_draft(alice.id, row.id, "您好\x1b]52;c;c2VjcmV0\x07，订单\x9b2J已发货")
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, row)
        composer = screen(pilot).query_one(Composer)
        assert composer.text == "您好，订单已发货"
        composer.focus()
        composer.move_cursor(composer.document.end)
        pilot.app.post_message(events.Paste("\x1b[2J请稍等\x07"))  # as the terminal sends it
        await settle(pilot)
        assert composer.text == "您好，订单已发货请稍等"
