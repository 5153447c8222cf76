"""SVG snapshots of every dialog the workstation opens about a conversation, at 80x24.

Each dialog is reached the way an agent reaches it: the conversation opened from the queue, then
its key. The store is the demo store at a fixed moment, so the names, times and choices in the
dialogs are the same on every run. After a deliberate change of a dialog's look, review the new
pictures and accept them with `--snapshot-update`.
"""

from __future__ import annotations

import pytest
from textual.screen import ModalScreen
from textual.widgets import Input, TextArea

from tests.ui.pilot_helpers import alice, app_for, mine, open_row, settle, until

# key -> the dialog it opens (named for the snapshot file)
DIALOGS = {
    "x": "confirm",  # resolve asks first
    "y": "choice",  # category
    "t": "transfer",
    "s": "snooze",
    "l": "tag",
    "e": "escalate",
    "h": "history",
}


def with_history(store):
    """An open conversation of alice's whose customer has other conversations to list."""
    for row in mine(store, "open"):
        if len(store.customer_history(row.customer_id, viewer=alice(store), limit=50)) > 1:
            return row
    raise AssertionError("the demo store has no customer with a history")


@pytest.mark.parametrize("key", list(DIALOGS), ids=list(DIALOGS.values()))
def test_snapshot_dialog(snap_compare, store, clock, key):
    row = with_history(store)
    app = app_for(store, clock)

    async def open_dialog(pilot):
        await settle(pilot)
        await open_row(pilot, row)
        await pilot.press(key)
        # The dialog may be awaited by a worker until it closes: wait for it, not for workers.
        await until(pilot, lambda: isinstance(pilot.app.screen, ModalScreen))
        for field in pilot.app.screen.query(Input).results():
            field.cursor_blink = False  # a blinking cursor is drawn or not by the clock
        for field in pilot.app.screen.query(TextArea).results():
            field.cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_dialog)


def test_snapshot_transfer_picker(snap_compare, store, clock):
    """The picker as an agent meets it: who is online (carol's workstation is running), how
    many open conversations each one holds, and the handover note being written for carol."""
    row = with_history(store)
    store.heartbeat(store.get_agent("carol").id)
    app = app_for(store, clock)

    async def write_note(pilot):
        await settle(pilot)
        await open_row(pilot, row)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(pilot.app.screen, ModalScreen))
        for field in pilot.app.screen.query(Input).results():
            field.cursor_blink = False
        await pilot.press("enter")  # carol, online and first in the list
        await pilot.press(*"refund approved, tell her it arrives within 24 h")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=write_note)
