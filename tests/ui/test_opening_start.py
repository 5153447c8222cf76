"""The workstation on a store still opening: its first rows are drawn at once, keys typed
before the store is open act once it is, on the conversation they were typed at, and a store
that cannot be opened after all ends the app instead of leaving it waiting."""

from __future__ import annotations

import shutil
import threading

from cs_tui.app import CsApp
from cs_tui.data.errors import StoreUnavailable
from cs_tui.data.first_look import look
from cs_tui.data.opening import OpeningStore
from cs_tui.data.store import Store
from cs_tui.data.views import QueueFilter
from cs_tui.sla import default_policy
from cs_tui.widgets.queue_list import QueueList


class HeldOpener:
    """Opens the store proper only when the test lets it."""

    def __init__(self, path, clock, error: Exception | None = None) -> None:
        self.path, self.clock, self.error = path, clock, error
        self.go = threading.Event()
        self.started = threading.Event()

    def __call__(self) -> Store:
        self.started.set()
        assert self.go.wait(20)
        if self.error is not None:
            raise self.error
        return Store.open(str(self.path), clock=self.clock)


def opening_app(tmp_path, demo_template, clock, error=None):
    path = tmp_path / "store.db"
    shutil.copy(demo_template, path)
    first = look(str(path), "alice", default_policy())
    assert first is not None
    opener = HeldOpener(path, clock, error)
    store = OpeningStore(first, opener, clock, default_policy())
    return path, opener, store, CsApp(store, first.agent, clock, lang="en", live=False)


async def test_rows_first_then_keys_typed_meanwhile_act_on_their_conversation(
    tmp_path, demo_template, clock
):
    path, opener, store, app = opening_app(tmp_path, demo_template, clock)
    with Store.open(str(path), clock=clock) as check:
        expected = check.queue(check.get_agent("alice"), QueueFilter(), limit=200)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = app.screen.query_one(QueueList)
        for _ in range(50):
            if queue.painted:
                break
            await pilot.pause(0.01)
        assert queue.painted and queue.window[1] == expected  # drawn from the first look
        assert opener.started.wait(5) and not opener.go.is_set()  # the store proper waits

        pool = next(i for i, row in enumerate(expected) if row.assignee is None)
        queue.focus()
        await pilot.press(*["j"] * pool, "c")  # claim the first unassigned conversation
        await pilot.pause(0.1)
        opener.go.set()
        target = expected[pool].id
        for _ in range(200):
            await pilot.pause(0.02)
            with Store.open(str(path), clock=clock) as check:
                if check.queue_rows([target])[0].assignee == "alice":
                    break
        else:
            raise AssertionError("the claim typed while the store opened never landed")
        assert queue.window[1][queue.cursor].id == target
    store.dispose()


async def test_a_store_that_cannot_be_opened_after_all_ends_the_app(tmp_path, demo_template, clock):
    _path, opener, store, app = opening_app(
        tmp_path, demo_template, clock, StoreUnavailable("the store is locked by another program")
    )
    async with app.run_test(size=(120, 40)) as pilot:
        assert opener.started.wait(5)
        opener.go.set()
        for _ in range(200):
            if app.return_code is not None:
                break
            await pilot.pause(0.02)
    assert app.return_code == 1
    try:
        store.opened()
    except StoreUnavailable as exc:  # what the command then prints, as for any store error
        assert "locked by another program" in str(exc)
    else:
        raise AssertionError("the failed opening was not kept for the command to report")
