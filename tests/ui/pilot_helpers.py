"""Helpers the UI tests share: building the app, waiting for it, and driving it by keys.

Waiting is on conditions, never on time: `settle` waits for the workers and the messages they
post (except dialog flows, which wait for the agent), `until` for something the user would see.
"""

from __future__ import annotations

import contextlib

from textual import events
from textual.keys import _character_to_key
from textual.worker import WorkerCancelled

from cs_tui.app import CsApp, make_app
from cs_tui.data.views import QueueFilter
from cs_tui.screens.modal import DIALOG_GROUP
from cs_tui.widgets.queue_list import QueueList


def app_for(store, clock, *, agent="alice", lang="en", **kwargs) -> CsApp:
    return make_app(store, agent, clock=clock, lang=lang, live=False, **kwargs)


async def settle(pilot, rounds: int = 6) -> None:
    """Let every worker finish (a newer search or read cancels an older one) and every message
    it posted be handled. Dialog flows are the exception: such a worker waits for the agent to
    answer its dialog, so it is let run (its reads are waited for) but never waited on."""
    quiet = 0
    for _ in range(rounds):
        busy = [w for w in pilot.app.workers if w.group != DIALOG_GROUP]
        if busy:  # an empty list would mean "every worker" to wait_for_complete
            quiet = 0
            with contextlib.suppress(WorkerCancelled):
                await pilot.app.workers.wait_for_complete(busy)
        else:
            quiet += 1
        await pilot.pause()
        if quiet == 2:  # no worker started in a whole round after the last one: settled
            return


async def until(pilot, condition, rounds: int = 500) -> None:
    """Let the app run until `condition()` holds; fail if it never does."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("the app never got there")


def alice(store):
    return store.get_agent("alice")


def first_unassigned(store):
    return store.queue(alice(store), QueueFilter(scope="unassigned"), limit=1)[0]


def mine(store, status: str | None = None):
    rows = store.queue(alice(store), QueueFilter(scope="mine"), limit=50)
    return [r for r in rows if status is None or r.status == status]


async def select(pilot, row) -> None:
    """Put the queue cursor on `row` by filtering the queue on its id (the `/` filter)."""
    await pilot.press("slash")
    await type_text(pilot, row.external_id)
    await pilot.press("enter")
    await settle(pilot)
    queue = pilot.app.screen.query_one(QueueList)
    assert queue.current_row is not None and queue.current_row.id == row.id


async def open_row(pilot, row) -> None:
    """Open `row` in the conversation pane: cursor on it in the unfiltered queue, then Enter."""
    queue = pilot.app.screen.query_one(QueueList)
    queue.focus()
    _start, rows = queue.window
    queue.move_to(next(i for i, r in enumerate(rows) if r.id == row.id))
    await pilot.press("enter")
    await settle(pilot)
    assert pilot.app.screen.detail.row.id == row.id


async def type_text(pilot, text: str) -> None:
    """Type text as keys, in one burst as a fast typist's terminal sends it, then let the app
    catch up. Each character is a key event through the driver, named as Pilot.press names it
    (`_character_to_key` is the helper Pilot itself uses); only the per-key wait for idle that
    Pilot adds (about 70 ms a key) is left out, so a reply costs a few frames, not seconds."""
    driver = pilot.app._driver
    for char in text:
        if char == "\n":
            key, character = "ctrl+j", None
        else:
            key = char if char.isalnum() else _character_to_key(char)
            character = char
        event = events.Key(key, character)
        event.set_sender(pilot.app)
        driver.send_message(event)
    await pilot.pause()
    await settle(pilot, rounds=2)
