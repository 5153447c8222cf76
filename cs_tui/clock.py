"""Where "now" comes from.

Everything that needs the current time takes a Clock so tests can freeze and advance time
instead of sleeping. All datetimes are aware and in UTC; local time exists only on screen.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment as an aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to; the tests' way of letting time pass."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 11, 11, 9, 0, tzinfo=UTC)
        self._now = ensure_utc(start)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float = 0, **kwargs: float) -> datetime:
        self._now += timedelta(seconds=seconds, **kwargs)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = ensure_utc(when)


def ensure_utc(value: datetime) -> datetime:
    """Refuse naive datetimes: a naive time is a bug waiting for a daylight-saving change."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: give it an offset")
    return value.astimezone(UTC)


def utc_text(value: datetime) -> str:
    """An aware datetime as fixed-width UTC text with microseconds: the form SQLite stores,
    which sorts as time does."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def from_utc_text(text: str) -> datetime:
    """The aware datetime `utc_text` wrote (read with the C-speed fromisoformat: the queue
    reads hundreds per window)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
