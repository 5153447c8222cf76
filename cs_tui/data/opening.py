"""A store that is still opening: the workstation draws its first rows while it does.

`Store.open` needs SQLAlchemy and the whole data layer loaded, which costs about as much as
Textual's own start to its first frame. The workstation needs none of it for that frame: its
first queue window can be read with sqlite3 (`first_look.py`). So the app gets an
`OpeningStore` in place of the store. It answers at once what the first frame asks (where the
store is, its clock and policy, the first window); `start()`, called once that frame is on
screen, opens the store proper in a thread; every other call waits for it and then goes to it
(taking a method, as a screen does to hand it to a worker, does not wait: calling it does).
Nothing is ever answered from the first look once the store proper is open, and nothing is
written before it is: a write is the store's own, with its checks and its audit event.

A call from a worker before `start()` waits for it; one from the main thread starts the
opening itself, so nothing can wait for a frame that waits for it; a first window the first
look declines starts it too. If the store cannot be opened after all (another process upgraded
it, the agent was disabled meanwhile), every waiting call raises that error, and `failure()`
hands it to the command once the app has ended, to report it as it reports any store error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cs_tui.data.first_look import BUSY_TIMEOUT_S, FirstLook, first_window
from cs_tui.data.views import AgentInfo, QueueFilter, QueueRow

if TYPE_CHECKING:
    from cs_tui.clock import Clock
    from cs_tui.data.db import WriteStats
    from cs_tui.data.store import Store
    from cs_tui.sla import SlaPolicy

    _StoreInterface = Store
else:
    _StoreInterface = object


NO_WAIT_S = 0.05
"""The longest a read in the interface's own thread may wait on a lock: then a worker reads."""

_OWN = frozenset(
    {"_first", "_opener", "_store", "_error", "_started", "_start_lock", "_done", "_seen_event_id"}
)
"""Set in __init__: never looked up on the store proper (a copy or a pickle of a half-built
object would otherwise wait for it)."""


class OpeningStore(_StoreInterface):
    """Typed as a Store (the screens take one); at run time a plain object that hands every
    call it does not answer itself to the store proper, once that is open."""

    def __init__(
        self, first: FirstLook, opener: Callable[[], Store], clock: Clock, policy: SlaPolicy
    ) -> None:
        self._first = first
        self._opener = opener
        self.clock = clock
        self.policy = policy
        self.dialect = "sqlite"  # the first look reads SQLite files only
        self._store: Store | None = None
        self._error: BaseException | None = None
        self._started = False
        self._start_lock = threading.Lock()
        self._done = threading.Event()
        self._seen_event_id: int | None = None

    @property
    def location(self) -> str:
        return str(self._first.path)

    @property
    def url(self) -> str:
        return f"sqlite:///{self._first.path}"

    @property
    def write_stats(self) -> WriteStats:
        return self.opened().write_stats

    @property
    def agent(self) -> AgentInfo:
        """Who signed in, as the first look found them."""
        return self._first.agent

    def start(self) -> None:
        """Open the store proper in a thread (once; later calls do nothing)."""
        with self._start_lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._open, name="cs-tui-open-store", daemon=True).start()

    def _open(self) -> None:
        try:
            self._store = self._opener()
        except BaseException as exc:  # noqa: BLE001 - handed to every caller that waits
            self._error = exc
        finally:
            self._done.set()

    def opened(self) -> Store:
        """The store proper, once it is open (raising what stopped it from opening).

        A worker waits for `start()`, so that nothing loads SQLAlchemy while the first frame
        is drawn; the main thread, which draws that frame, starts the opening itself instead
        of waiting for a frame that would wait for it."""
        if threading.current_thread() is threading.main_thread():
            self.start()
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._store is not None
        return self._store

    def first_window_now(
        self, viewer: AgentInfo, flt: QueueFilter, limit: int
    ) -> list[QueueRow] | None:
        """The first window, read in the caller's thread (the workstation's, as it mounts),
        if the first look can read it without waiting: None sends the caller to `queue`."""
        if not self._first_look_answers(viewer, flt, 0):
            return None
        return self._first_window(limit, NO_WAIT_S)

    def queue(
        self,
        viewer: AgentInfo,
        flt: QueueFilter | None = None,
        *,
        offset: int = 0,
        limit: int = 100,
    ) -> list[QueueRow]:
        """The first window from the first look while the store proper is not open yet."""
        if self._first_look_answers(viewer, flt, offset):
            rows = self._first_window(limit, BUSY_TIMEOUT_S)
            if rows is not None:
                return rows
        return self.opened().queue(viewer, flt, offset=offset, limit=limit)

    def _first_look_answers(self, viewer: AgentInfo, flt: QueueFilter | None, offset: int) -> bool:
        """Whether the first look reads this window: the signed-in agent's default queue from
        the top, while the store proper is not open (after that, it always answers)."""
        return (
            self._store is None
            and (flt is None or flt == QueueFilter())
            and offset == 0
            and viewer.id == self._first.agent.id
        )

    def _first_window(self, limit: int, timeout: float) -> list[QueueRow] | None:
        window = first_window(self._first, self.clock.now(), limit, timeout=timeout)
        if window is None:
            # Declined (the agent disabled since the look, the store upgraded, a lock): the
            # store proper must answer, so it opens now, first frame or not.
            self.start()
            return None
        with self._start_lock:
            if self._seen_event_id is None or window.last_event_id < self._seen_event_id:
                self._seen_event_id = window.last_event_id
        return window.rows

    def last_event_id(self) -> int:
        """Where the first change feed starts: at the newest event when the first look read
        the rows on screen, so that nothing written before the store proper opened is missed.
        Once; later feeds start at the store's newest event, as with any store."""
        with self._start_lock:
            seen, self._seen_event_id = self._seen_event_id, None
        return seen if seen is not None else self.opened().last_event_id()

    def failure(self) -> BaseException | None:
        """What stopped the store from opening, once an opening that began has ended (None:
        it opened, or never began: nothing was asked of it past the first window)."""
        if not self._started:
            return None
        self._done.wait()
        return self._error

    def dispose(self) -> None:
        if not self._started:
            return
        self._done.wait()
        if self._store is not None:
            self._store.dispose()

    def __getattr__(self, name: str) -> Any:
        """Every other name is one of the Store's methods (its other attributes are above):
        the method itself once the store proper is open, until then one that waits for it when
        called, so that taking it (`self._act(self.store.claim, ...)`) never waits."""
        if name.startswith("__") or name in _OWN:
            raise AttributeError(name)
        if self._store is not None:
            return getattr(self._store, name)

        def when_open(*args: Any, **kwargs: Any) -> Any:
            return getattr(self.opened(), name)(*args, **kwargs)

        when_open.__name__ = when_open.__qualname__ = name
        return when_open
