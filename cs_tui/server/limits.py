"""What the server checks before it touches the store: body size, content type, request rate.

Each check is a small, synchronous piece that the routes call in order; none of them reads more
of a request than it needs, and none of them looks at what the body says.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

MAX_BODY = 1024 * 1024
"""Bytes a request body may hold (1 MiB); more is refused with 413."""

MAX_BATCH = 500
"""Messages in one `{"messages": [...]}` body."""

_JSON_TYPE = re.compile(r"^application/(?:[a-z0-9.+-]+\+)?json$")


class BodyTooLarge(Exception):
    """The body is above the limit (declared or counted)."""


def json_content_type(header: str | None) -> bool:
    """`application/json` (parameters such as charset allowed) or a `+json` type."""
    if not header:
        return False
    media = header.split(";", 1)[0].strip().lower()
    return bool(_JSON_TYPE.match(media))


def declared_too_large(content_length: str | None, limit: int = MAX_BODY) -> bool:
    """A Content-Length above the limit. A malformed one is left to the counted read (it is
    the bytes that arrive that matter, and the HTTP layer rejects truly broken headers)."""
    if content_length is None:
        return False
    try:
        return int(content_length.strip()) > limit
    except ValueError:
        return False


async def read_limited(chunks: AsyncIterator[bytes], limit: int = MAX_BODY) -> bytes:
    """The whole body, counting bytes as they stream in: BodyTooLarge as soon as the count
    passes `limit`, so no more than one chunk beyond the limit is ever held."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        parts.append(chunk)
    return b"".join(parts)


_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|sec|second|m|min|minute))?\s*$")


def parse_rate(text: str) -> float:
    """Requests per second from "50", "50/s" or "600/m"."""
    match = _RATE.match(text.lower())
    if not match:
        raise ValueError(f"{text!r} is not a rate like 50/s or 600/m")
    value = float(match.group(1))
    if match.group(2) and match.group(2).startswith("m"):
        value /= 60
    if value <= 0:
        raise ValueError("a rate must be above zero")
    return value


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """One token bucket per key (a channel): `rate` tokens a second, at most `burst` saved up.

    `take(key)` returns 0 when the request may go on, else the seconds until a token is there
    (the Retry-After). Only the event loop calls it, so no lock. Buckets that have refilled to
    full carry no information and are dropped when the table grows, which keeps memory bounded
    whatever keys arrive.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be above zero and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[object, _Bucket] = {}

    def take(self, key: object) -> float:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        full = [
            key
            for key, b in self._buckets.items()
            if b.tokens + (now - b.updated) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self._max_keys:  # all busy: forget the oldest half
            for key in sorted(self._buckets, key=lambda k: self._buckets[k].updated)[
                : self._max_keys // 2
            ]:
                del self._buckets[key]


def retry_after_header(seconds: float) -> str:
    """Whole seconds, at least 1 (HTTP has no fractions here)."""
    return str(max(1, math.ceil(seconds)))
