"""Live updates: other agents' changes appear by themselves.

One poller per workstation, kept here so team mode can extend it (reconnects, notifications).
Every `INTERVAL` seconds a thread worker asks the store's change watcher for new events (on
SQLite a `PRAGMA data_version` check of a few microseconds decides whether the event table is read
at all) and posts `LivePoller.Changed` with the events and the conversations they touch. A failing
store is reported once with `LivePoller.Trouble` and polled again; the next success clears it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.dom import DOMNode
from textual.message import Message
from textual.timer import Timer

from cs_tui.data.views import EventView

if TYPE_CHECKING:
    from cs_tui.data.store import Store
    from cs_tui.data.watch import ChangeWatcher

INTERVAL = 0.5
HEARTBEAT_EVERY = 20  # polls: presence is refreshed every ten seconds


class LivePoller:
    class Changed(Message):
        def __init__(self, events: list[EventView]) -> None:
            super().__init__()
            self.events = events
            self.conversation_ids = {e.conversation_id for e in events if e.conversation_id}

    class Trouble(Message):
        """The store could not be polled (None: it can again)."""

        def __init__(self, problem: str | None) -> None:
            super().__init__()
            self.problem = problem

    def __init__(
        self,
        owner: DOMNode,
        store: Store,
        *,
        interval: float = INTERVAL,
        agent_id: int | None = None,
    ) -> None:
        self.owner = owner
        self.store = store
        self.agent_id = agent_id
        self._polls = 0
        self.interval = interval
        self._watcher: ChangeWatcher | None = None
        self._timer: Timer | None = None
        self._failing = False
        self._busy = False

    def start(self) -> None:
        self._timer = self.owner.set_interval(self.interval, self._poll, name="live-poll")
        self._poll()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None

    def _poll(self) -> None:
        if self._busy:
            return
        self._busy = True
        self.owner.run_worker(
            self._work, thread=True, group="live", exclusive=False, exit_on_error=False
        )

    def _work(self) -> None:
        try:
            self._polls += 1
            if self.agent_id is not None and self._polls % HEARTBEAT_EVERY == 1:
                # Presence: who is online shows in the transfer picker and the dashboard.
                self.store.heartbeat(self.agent_id)
            if self._watcher is None:
                from cs_tui.data.watch import ChangeWatcher

                self._watcher = ChangeWatcher(self.store)
                events: list[EventView] = []
            else:
                events = self._watcher.poll()
        except Exception as exc:  # StoreError, OperationalError while the store is away
            if not self._failing:
                self._failing = True
                self.owner.post_message(self.Trouble(str(exc) or exc.__class__.__name__))
            return
        finally:
            self._busy = False
        if self._failing:
            self._failing = False
            self.owner.post_message(self.Trouble(None))
        if events:
            self.owner.post_message(self.Changed(events))
