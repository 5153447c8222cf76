"""Bearer tokens to channels, with a short memory so the store is not asked on every request.

The store compares token hashes in constant time (Store.channel_by_token). The cache here is
keyed by the token's SHA-256, so the process never keeps a token it was sent; an entry lives at
most `ttl` seconds (1 s by default), which is how fast disabling or rotating a channel takes
effect. Unknown tokens are remembered too (a client hammering with a wrong token costs one store
read a second), and concurrent misses for one token share one store read.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from anyio import to_thread

if TYPE_CHECKING:
    from cs_tui.data.store import Store
    from cs_tui.data.views import ChannelAuth

MAX_TOKEN = 512
MAX_ENTRIES = 10_000


def bearer_token(header: str | None) -> str | None:
    """The token of `Authorization: Bearer TOKEN`, or None for anything else."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN:
        return None
    if not token.isascii() or not token.isprintable() or " " in token:
        return None
    return token


class TokenCache:
    def __init__(
        self,
        store: Store,
        *,
        ttl: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, ChannelAuth | None]] = {}
        self._pending: dict[str, asyncio.Future[ChannelAuth | None]] = {}

    async def channel(self, token: str) -> ChannelAuth | None:
        """The channel this token opens (active or not), or None for an unknown token.
        StoreError (the store is away) reaches the caller and is not remembered."""
        key = hashlib.sha256(token.encode("utf-8")).hexdigest()
        now = self._clock()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[ChannelAuth | None] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            found = await to_thread.run_sync(self._store.channel_by_token, token)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: a miss nobody else awaited is not "never retrieved"
            raise
        finally:
            del self._pending[key]
        if len(self._entries) >= MAX_ENTRIES:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
        self._entries[key] = (self._clock() + self._ttl, found)
        future.set_result(found)
        return found
