"""Concurrent requests of one channel share one store call, and each gets its own results."""

from __future__ import annotations

import asyncio
import threading

import pytest

from cs_tui.data.errors import StoreUnavailable
from cs_tui.data.views import InboundItem
from cs_tui.server.batcher import IngestBatcher


class Recorder:
    """An ingest function standing in for the store: it answers per object and records the
    calls; "poison" fails the whole call, as an unexpected store error would."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, list[object]]] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, channel_id: int, objects: list[object]) -> list[InboundItem]:
        self.gate.wait(5)
        self.calls.append((channel_id, list(objects)))
        if "poison" in objects:
            raise RuntimeError("poison")
        return [
            InboundItem(i, "rejected" if obj == "bad" else "stored", f"m-{obj}", "c-1")
            for i, obj in enumerate(objects)
        ]


async def test_requests_waiting_behind_a_call_go_together_in_the_next():
    ingest = Recorder()
    batcher = IngestBatcher(ingest)
    ingest.gate.clear()
    first = asyncio.create_task(batcher.submit(1, ["a"]))
    await asyncio.sleep(0.05)  # the first call is running (held at the gate)
    rest = [asyncio.create_task(batcher.submit(1, [f"x{i}", "bad"])) for i in range(5)]
    await asyncio.sleep(0.05)
    ingest.gate.set()
    assert [i.message_id for i in await first] == ["m-a"]
    for n, task in enumerate(rest):
        items = await task
        assert [(i.index, i.status, i.message_id) for i in items] == [
            (0, "stored", f"m-x{n}"),
            (1, "rejected", "m-bad"),
        ]
    assert len(ingest.calls) == 2
    assert len(ingest.calls[1][1]) == 10


async def test_channels_never_share_a_call():
    ingest = Recorder()
    batcher = IngestBatcher(ingest)
    await asyncio.gather(batcher.submit(1, ["a"]), batcher.submit(2, ["b"]))
    assert sorted(cid for cid, _ in ingest.calls) == [1, 2]


async def test_one_requests_fault_stays_its_own():
    ingest = Recorder()
    batcher = IngestBatcher(ingest)
    ingest.gate.clear()
    first = asyncio.create_task(batcher.submit(1, ["a"]))
    await asyncio.sleep(0.05)
    good = asyncio.create_task(batcher.submit(1, ["b"]))
    bad = asyncio.create_task(batcher.submit(1, ["poison"]))
    await asyncio.sleep(0.05)
    ingest.gate.set()
    await first
    assert [i.message_id for i in await good] == ["m-b"]
    with pytest.raises(RuntimeError):
        await bad


async def test_an_unreachable_store_reaches_every_waiter():
    def away(channel_id: int, objects: list[object]) -> list[InboundItem]:
        raise StoreUnavailable("down")

    batcher = IngestBatcher(away)
    results = await asyncio.gather(
        batcher.submit(1, ["a"]), batcher.submit(1, ["b"]), return_exceptions=True
    )
    assert all(isinstance(r, StoreUnavailable) for r in results)


async def test_a_group_never_passes_the_batch_limit():
    ingest = Recorder()
    batcher = IngestBatcher(ingest, max_group=4)
    ingest.gate.clear()
    tasks = [asyncio.create_task(batcher.submit(1, ["a", "b", "c"])) for _ in range(3)]
    await asyncio.sleep(0.05)
    ingest.gate.set()
    await asyncio.gather(*tasks)
    assert [len(objs) for _, objs in ingest.calls] == [3, 3, 3]
