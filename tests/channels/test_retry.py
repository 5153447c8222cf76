"""The retry schedule: growing waits with jitter, Retry-After as a minimum, a give-up age."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from cs_tui.channels.retry import RetrySchedule, parse_retry_after, schedule_from

T0 = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)


def test_waits_grow_exponentially_within_the_jitter_window_up_to_the_cap() -> None:
    s = RetrySchedule(base_s=5, cap_s=60, give_up_s=86400, rng=random.Random(1))
    for attempts, window in [(1, 5), (2, 10), (3, 20), (4, 40), (5, 60), (30, 60)]:
        waits = [s.backoff(attempts) for _ in range(400)]
        assert all(0.5 <= w <= window for w in waits)
        assert max(waits) > window * 0.8  # full jitter: the whole window is used
        assert min(waits) < window * 0.3


def test_retry_after_is_a_minimum() -> None:
    s = RetrySchedule(base_s=1, give_up_s=3600, rng=random.Random(2))
    at = s.next_attempt(now=T0, created_at=T0, attempts=1, retry_after_s=120)
    assert at is not None and at >= T0 + timedelta(seconds=120)


def test_gives_up_at_the_age_limit_from_creation_and_tries_last_at_the_limit() -> None:
    s = RetrySchedule(base_s=5, cap_s=3600, give_up_s=60, rng=random.Random(3))
    created = T0
    late = T0 + timedelta(seconds=59)
    at = s.next_attempt(now=late, created_at=created, attempts=9)
    assert at == created + timedelta(seconds=60)  # one last try at the give-up time
    assert s.next_attempt(now=T0 + timedelta(seconds=60), created_at=created, attempts=10) is None


def test_a_retry_after_beyond_the_give_up_age_fails_at_once() -> None:
    s = RetrySchedule(base_s=1, give_up_s=60)
    assert s.next_attempt(now=T0, created_at=T0, attempts=1, retry_after_s=3600) is None


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    assert parse_retry_after("7", T0) == 7.0
    assert parse_retry_after("Wed, 11 Nov 2026 09:00:30 GMT", T0) == 30.0
    assert parse_retry_after("Wed, 11 Nov 2026 08:00:00 GMT", T0) == 0.0
    for bad in [None, "", "soon", "-5", "1e9999", "x" * 500]:
        assert parse_retry_after(bad, T0) is None
    assert parse_retry_after("99999999999", T0) == 7 * 24 * 3600


def test_settings_read_human_durations() -> None:
    s = schedule_from("0.2", "2s")
    assert (s.base_s, s.give_up_s) == (0.2, 2.0)
    assert schedule_from(give_up="24h").give_up_s == 86400
    with pytest.raises(ValueError):
        schedule_from("soon")
    with pytest.raises(ValueError):
        RetrySchedule(base_s=0)
