"""When to try a webhook again, and when to stop trying.

Exponential backoff with full jitter: after the n-th failed attempt the next one waits a random
time in [0, min(cap, base * 2**(n-1))], never less than a floor (a tenth of the base), so a
receiver that is down is not hit by every sender at the same instant when it comes back.
A `Retry-After` from the receiver (seconds or an HTTP date) is a minimum: we never come back
sooner than it asked. A delivery older than the give-up age (from its creation, not from its
last attempt) fails for good; the last try is made at the give-up time at the latest. A
Retry-After that points past the give-up time fails the delivery at once: the receiver asked for
a wait we will not make.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from cs_tui.durations import parse_duration

MAX_RETRY_AFTER_S = 7 * 24 * 3600.0  # anything longer is nonsense from a receiver


@dataclass(frozen=True)
class RetrySchedule:
    """Backoff settings. Defaults: first retry within 5 s, waits doubling up to an hour, give
    up 24 h after the delivery was created."""

    base_s: float = 5.0
    cap_s: float = 3600.0
    give_up_s: float = 24 * 3600.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.cap_s <= 0 or self.give_up_s <= 0:
            raise ValueError("retry base, cap and give-up must be positive")

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after `attempts` failed attempts (1 = the first one failed)."""
        exponent = min(max(attempts, 1) - 1, 60)
        window = min(self.cap_s, self.base_s * 2.0**exponent)
        floor = min(self.base_s / 10, window)
        return max(floor, self.rng.uniform(0.0, window))

    def next_attempt(
        self,
        *,
        now: datetime,
        created_at: datetime,
        attempts: int,
        retry_after_s: float | None = None,
    ) -> datetime | None:
        """When to try again after a retryable failure; None means give up now."""
        deadline = created_at + timedelta(seconds=self.give_up_s)
        if now >= deadline:
            return None
        wait = self.backoff(attempts)
        if retry_after_s is not None:
            if now + timedelta(seconds=retry_after_s) > deadline:
                return None
            wait = max(wait, retry_after_s)
        return min(now + timedelta(seconds=wait), deadline)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """A Retry-After header as seconds from `now` (None when absent or unreadable).

    Both forms of RFC 9110: delay-seconds ("120") and an HTTP date. A date in the past is 0.
    """
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > 64:
        return None
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER_S)


def schedule_from(
    base: str | float | None = None,
    give_up: str | float | None = None,
    cap: str | float | None = None,
) -> RetrySchedule:
    """A schedule from settings such as "5s" and "24h" (None keeps the default)."""
    defaults = RetrySchedule()
    return RetrySchedule(
        base_s=_seconds(base, defaults.base_s),
        cap_s=_seconds(cap, defaults.cap_s),
        give_up_s=_seconds(give_up, defaults.give_up_s),
    )


def _seconds(value: str | float | None, default: float) -> float:
    if value is None:
        return default
    return parse_duration(value)
