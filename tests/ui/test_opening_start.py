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
    """Opens the store proper only when the test lets it; notes whether the first rows were
    on screen when it was asked to."""

    def __init__(self, path, clock, error: Exception | None = None) -> None:
        self.path, self.clock, self.error = path, clock, error
        self.go = threading.Event()
        self.started = threading.Event()
        self.rows_drawn_first: bool | None = None
        self.app: CsApp | None = None

    def __call__(self) -> Store:
        queues = self.app.screen.query(QueueList) if self.app is not None else []
        self.rows_drawn_first = bool(queues) and queues.first().painted
        self.started.set()
        assert self.go.wait(20)
        if self.error is not None:
            raise self.error
        return Store.open(str(self.path), clock=self.clock)


def opening_app(tmp_path, demo_template, clock, error=None, live=False):
    path = tmp_path / "store.db"
    shutil.copy(demo_template, path)
    first = look(str(path), "alice", default_policy())
    assert first is not None
    opener = HeldOpener(path, clock, error)
    store = OpeningStore(first, opener, clock, default_policy())
    opener.app = CsApp(store, first.agent, clock, lang="en", live=live)
    return path, opener, store, opener.app


async def until(pilot, condition, tries=200) -> bool:
    for _ in range(tries):
        if condition():
            return True
        await pilot.pause(0.02)
    return False


async def test_rows_first_then_keys_typed_meanwhile_act_on_their_conversation(
    tmp_path, demo_template, clock
):
    path, opener, store, app = opening_app(tmp_path, demo_template, clock)
    with Store.open(str(path), clock=clock) as check:
        expected = check.queue(check.get_agent("alice"), QueueFilter(), limit=200)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = app.screen.query_one(QueueList)
        assert await until(pilot, lambda: queue.painted)
        assert queue.window[1] == expected  # drawn from the first look
        assert await until(pilot, opener.started.is_set)
        assert opener.rows_drawn_first  # the store proper was asked for after the first frame

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
        assert await until(pilot, opener.started.is_set)
        opener.go.set()
        await until(pilot, lambda: app.return_code is not None)
    assert app.return_code == 1
    error = store.failure()  # what the command then prints, as for any store error
    assert isinstance(error, StoreUnavailable) and "locked by another program" in str(error)


async def test_what_changes_while_the_store_opens_reaches_the_queue(tmp_path, demo_template, clock):
    path, opener, store, app = opening_app(tmp_path, demo_template, clock, live=True)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = app.screen.query_one(QueueList)
        assert await until(pilot, lambda: queue.painted)
        pool = next(row for row in queue.window[1] if row.assignee is None)
        with Store.open(str(path), clock=clock) as other:  # a supervisor, meanwhile
            other.assign(other.get_agent("sam"), pool.id, "bob")
        assert await until(pilot, opener.started.is_set)
        opener.go.set()
        # alice sees her own work and the pool: bob's conversation leaves her queue.
        assert await until(pilot, lambda: pool.id not in {r.id for r in queue.window[1]})
    store.dispose()
