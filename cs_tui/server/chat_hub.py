"""ChatHub: tells the open chat pages that their conversation changed.

One thread per server follows the store's change feed (cs_tui.data.watch.ChangeWatcher, the
same feed the workstations follow) and wakes the sockets of the conversations that changed; each
socket then reads its conversation's messages after the last one it pushed. So an agent's reply
reaches the page within the feed's latency (tens of milliseconds on SQLite, a notification on
PostgreSQL), whichever process wrote it: the workstation never talks to the server, it only
commits the reply and its delivery row.

Nothing is lost when the server or the socket drops: the page sends the last sequence number
it saw when it reconnects and gets everything after it (at least once; the page shows each
sequence number once).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from cs_tui.data.errors import StoreError

if TYPE_CHECKING:
    from cs_tui.data.store import Store

WAIT_S = 0.5


class ChatHub:
    def __init__(self, store: Store, loop: asyncio.AbstractEventLoop) -> None:
        self.store = store
        self._loop = loop
        self._by_conversation: dict[int, set[Callable[[], None]]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self, conversation_id: int, wake: Callable[[], None]) -> None:
        """Call `wake` (on the event loop) whenever the conversation changes."""
        self._by_conversation.setdefault(conversation_id, set()).add(wake)
        if self._thread is None:
            self._thread = threading.Thread(target=self._follow, name="chat-hub", daemon=True)
            self._thread.start()

    def unsubscribe(self, conversation_id: int, wake: Callable[[], None]) -> None:
        found = self._by_conversation.get(conversation_id)
        if found is not None:
            found.discard(wake)
            if not found:
                del self._by_conversation[conversation_id]

    @property
    def watched(self) -> int:
        return len(self._by_conversation)

    def close(self) -> None:
        self._stop.set()

    def _changed(self, conversation_ids: set[int]) -> None:
        for conversation_id in conversation_ids:
            for wake in list(self._by_conversation.get(conversation_id, ())):
                wake()

    def _follow(self) -> None:
        from cs_tui.data.watch import ChangeWatcher

        watcher: ChangeWatcher | None = None
        while not self._stop.is_set():
            try:
                if watcher is None:
                    watcher = ChangeWatcher(self.store)
                watcher.wait(WAIT_S)
                events = watcher.poll()
            except StoreError:
                # The store is away: the watcher keeps its place; try again after a pause.
                self._stop.wait(WAIT_S)
                continue
            changed = {e.conversation_id for e in events if e.conversation_id is not None}
            if changed:
                with contextlib.suppress(RuntimeError):  # the loop closed: we are stopping
                    self._loop.call_soon_threadsafe(self._changed, changed)
        if watcher is not None:
            watcher.close()
