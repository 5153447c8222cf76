"""Group concurrent inbound requests of one channel into one store call.

Each store call is one write transaction; on SQLite only one runs at a time, and its cost is
mostly the commit, not the rows. Sixteen clients posting one message each would queue sixteen
commits; here, while one call for a channel runs, the requests that arrive meanwhile wait in
that channel's queue and go together in the next call (group commit). A lone request goes at
once: nothing waits on a timer.

Each request gets back exactly its own items, with its own indexes. If a grouped call fails
with anything but "the store is away", each request is tried again alone, so one request's
trouble never becomes another's error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from anyio import to_thread

from cs_tui.data.errors import StoreUnavailable
from cs_tui.data.views import InboundItem

IngestFn = Callable[[int, list[object]], list[InboundItem]]

MAX_GROUP = 500
"""Messages in one grouped store call (a request is never split)."""


@dataclass
class _Request:
    objects: list[object]
    future: asyncio.Future[list[InboundItem]] = field(repr=False)


class IngestBatcher:
    def __init__(self, ingest: IngestFn, *, max_group: int = MAX_GROUP) -> None:
        self._ingest = ingest
        self._max_group = max_group
        self._queues: dict[int, list[_Request]] = {}
        self._running: dict[int, asyncio.Task[None]] = {}

    async def submit(self, channel_id: int, objects: list[object]) -> list[InboundItem]:
        """Store `objects` for the channel; the results in the order given, indexed from 0."""
        future: asyncio.Future[list[InboundItem]] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(channel_id, []).append(_Request(objects, future))
        if channel_id not in self._running:
            task = asyncio.create_task(self._drain(channel_id))
            self._running[channel_id] = task
        # The drain runs on even if this request's client goes away: its rows are committed
        # or not as one group, whatever one waiter does.
        return await asyncio.shield(future)

    async def _drain(self, channel_id: int) -> None:
        try:
            queue = self._queues[channel_id]
            while queue:
                group = self._take(queue)
                await self._run(channel_id, group)
        finally:
            del self._running[channel_id]
            if not self._queues.get(channel_id):
                self._queues.pop(channel_id, None)

    def _take(self, queue: list[_Request]) -> list[_Request]:
        group = [queue.pop(0)]
        size = len(group[0].objects)
        while queue and size + len(queue[0].objects) <= self._max_group:
            size += len(queue[0].objects)
            group.append(queue.pop(0))
        return group

    async def _run(self, channel_id: int, group: list[_Request]) -> None:
        objects = [obj for request in group for obj in request.objects]
        try:
            items = await to_thread.run_sync(self._ingest, channel_id, objects)
        except Exception as exc:  # noqa: BLE001 - handed to the waiting requests
            if len(group) == 1 or isinstance(exc, StoreUnavailable):
                for request in group:
                    _fail(request, exc)
                return
            for request in group:  # alone, so one request's fault stays its own
                await self._run(channel_id, [request])
            return
        if len(group) == 1 and _in_order(items, len(objects)):
            # (the common batch: one request, its results already indexed from 0)
            if not group[0].future.done():
                group[0].future.set_result(items)
            return
        by_index = {item.index: item for item in items}
        offset = 0
        for request in group:
            own = [
                _reindexed(by_index[offset + i], i)
                for i in range(len(request.objects))
                if offset + i in by_index
            ]
            offset += len(request.objects)
            if len(own) != len(request.objects):
                _fail(request, RuntimeError("the store answered for fewer items than sent"))
            elif not request.future.done():
                request.future.set_result(own)


def _fail(request: _Request, exc: Exception) -> None:
    if not request.future.done():
        request.future.set_exception(exc)
        request.future.exception()


def _in_order(items: list[InboundItem], count: int) -> bool:
    """The store answered one item per object, each at its own index."""
    return len(items) == count and all(item.index == i for i, item in enumerate(items))


def _reindexed(item: InboundItem, index: int) -> InboundItem:
    """The item at its index within its own request (dataclasses.replace costs several times
    more: it inspects the fields on every call, and a group holds hundreds of items)."""
    if item.index == index:
        return item
    return InboundItem(index, item.status, item.message_id, item.conversation_id, item.reason)
