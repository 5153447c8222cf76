"""GatewayState: what the routes share for the life of one server (store, settings, caches)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cs_tui.server.auth import TokenCache
from cs_tui.server.batcher import IngestBatcher
from cs_tui.server.limits import TokenBuckets
from cs_tui.server.settings import ServerSettings

if TYPE_CHECKING:
    from cs_tui.data.store import Store


@dataclass
class GatewayState:
    store: Store
    settings: ServerSettings
    tokens: TokenCache
    buckets: TokenBuckets
    batcher: IngestBatcher
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the server begins to shut down: the delivery worker finishes what it has."""
    deadline: float | None = None
    """time.monotonic() by which everything must have stopped, once shutdown began."""

    @classmethod
    def build(cls, store: Store, settings: ServerSettings) -> GatewayState:
        return cls(
            store=store,
            settings=settings,
            tokens=TokenCache(store, ttl=settings.token_cache_s),
            buckets=TokenBuckets(settings.rate, settings.burst),
            batcher=IngestBatcher(store.ingest_from_channel, max_group=settings.max_batch),
        )

    def begin_shutdown(self) -> None:
        """Start the bounded shutdown clock (idempotent); call on the event loop."""
        if self.deadline is None:
            self.deadline = time.monotonic() + self.settings.shutdown_s
        self.stop.set()

    def time_left(self) -> float:
        if self.deadline is None:
            return self.settings.shutdown_s
        return max(0.0, self.deadline - time.monotonic())
