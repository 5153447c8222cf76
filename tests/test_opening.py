"""A store still opening (data/opening.py): the first window at once, everything else from the
store proper, opened once, and its failure reported to whoever waits for it."""

from __future__ import annotations

import threading

import pytest

from cs_tui.clock import SystemClock
from cs_tui.data import seed
from cs_tui.data.errors import NotAllowed, StoreError, StoreUnavailable
from cs_tui.data.first_look import look
from cs_tui.data.opening import OpeningStore
from cs_tui.data.store import Store
from cs_tui.data.views import QueueFilter
from cs_tui.sla import default_policy


@pytest.fixture
def demo_path(tmp_path):
    path = tmp_path / "demo.db"
    with Store.open(str(path)) as store:
        seed.write_demo(store)
    return path


class Opener:
    """Opens the store proper when let go, counting how often it was asked to."""

    def __init__(self, path, error: StoreError | None = None) -> None:
        self.path, self.error = path, error
        self.calls = 0
        self.go = threading.Event()

    def __call__(self) -> Store:
        self.calls += 1
        assert self.go.wait(10)
        if self.error is not None:
            raise self.error
        return Store.open(str(self.path))


def opening_for(path, opener, handle="alice") -> OpeningStore:
    first = look(str(path), handle, default_policy())
    assert first is not None
    return OpeningStore(first, opener, SystemClock(), default_policy())


def test_the_first_window_comes_before_the_store_opens_and_the_rest_after(demo_path):
    opener = Opener(demo_path)
    store = opening_for(demo_path, opener)
    alice = store.agent
    rows = store.queue(alice, QueueFilter(), limit=50)
    assert rows and opener.calls == 0  # nothing opened for the first window
    assert store.location == str(demo_path)

    answers = []
    mine = QueueFilter(scope="mine")
    waiting = [
        threading.Thread(target=lambda: answers.append(store.queue(alice, mine))) for _ in range(3)
    ]
    for thread in waiting:
        thread.start()
    for thread in waiting:
        thread.join(0.2)
    assert answers == [] and opener.calls == 0  # another filter waits for the store proper
    store.start()  # as the workstation does once its first frame is on screen
    opener.go.set()
    for thread in waiting:
        thread.join(10)
    assert len(answers) == 3 and opener.calls == 1  # opened once for every caller
    assert all(r.assignee == "alice" for r in answers[0])

    pool = next(r for r in rows if r.assignee is None)
    assert store.claim(alice, pool.id)  # a write: the store proper's, with its checks
    store.dispose()
    with Store.open(str(demo_path)) as check:
        assert check.conversation(pool.id, viewer=check.get_agent("sam")).row.assignee == "alice"


def test_a_store_that_cannot_be_opened_is_every_waiting_callers_error(demo_path):
    opener = Opener(demo_path, StoreUnavailable("the store is locked"))
    store = opening_for(demo_path, opener)
    assert store.failure() is None  # nothing began
    opener.go.set()
    with pytest.raises(StoreUnavailable, match="locked"):
        store.opened()
    with pytest.raises(StoreUnavailable, match="locked"):
        store.queue(store.agent, QueueFilter(scope="mine"))
    assert isinstance(store.failure(), StoreUnavailable)  # what the command then reports
    store.dispose()  # nothing to let go of
    assert opener.calls == 1


def test_a_first_look_declined_since_opens_the_store_at_once(demo_path):
    """Nobody has to call start(): a worker asking for a window the first look declines (the
    agent was disabled meanwhile) gets the store proper's answer, here its refusal."""
    opener = Opener(demo_path)
    opener.go.set()
    store = opening_for(demo_path, opener)
    with Store.open(str(demo_path)) as other:
        other.set_active(other.get_agent("sam"), "alice", False)
    outcome = []

    def worker() -> None:
        try:
            outcome.append(store.queue(store.agent, QueueFilter(), limit=20))
        except StoreError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=worker, daemon=True)  # never left hanging a failed run
    thread.start()
    thread.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], NotAllowed)
    assert opener.calls == 1
    assert store.failure() is None  # it opened; the refusal was the agent's, not the store's
    store.dispose()


def test_the_first_change_feed_starts_where_the_first_window_was_read(demo_path):
    """What is written between the first window and the store proper's opening reaches the
    workstation: its change feed starts at the newest event the first look saw."""
    opener = Opener(demo_path)
    opener.go.set()
    store = opening_for(demo_path, opener, handle="sam")
    rows = store.first_window_now(store.agent, QueueFilter(), 50)
    assert rows
    with Store.open(str(demo_path)) as other:
        seen = other.last_event_id()
        other.assign(other.get_agent("sam"), rows[0].id, "bob")
        newest = other.last_event_id()
    assert newest > seen
    assert store.last_event_id() == seen  # the feed replays the assignment
    assert store.last_event_id() == newest  # once: later feeds start at the newest event
    store.dispose()


def test_a_store_never_used_past_its_first_window_is_never_opened(demo_path):
    opener = Opener(demo_path)
    store = opening_for(demo_path, opener)
    assert store.queue(store.agent, QueueFilter(), limit=10)
    store.dispose()
    assert opener.calls == 0
