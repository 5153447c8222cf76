"""The server's gate pieces on their own: sizes, content types, rates, tokens, bind addresses."""

from __future__ import annotations

import pytest

from cs_tui.server.auth import bearer_token
from cs_tui.server.limits import (
    BodyTooLarge,
    TokenBuckets,
    declared_too_large,
    json_content_type,
    parse_rate,
    read_limited,
    retry_after_header,
)
from cs_tui.server.serve import parse_bind


@pytest.mark.parametrize(
    "header",
    ["application/json", "Application/JSON; charset=utf-8", "application/vnd.api+json"],
)
def test_json_content_types_are_accepted(header):
    assert json_content_type(header)


@pytest.mark.parametrize(
    "header", [None, "", "text/plain", "application/x-www-form-urlencoded", "json", "text/json"]
)
def test_other_content_types_are_refused(header):
    assert not json_content_type(header)


def test_a_declared_length_above_the_limit_is_refused_before_reading():
    assert declared_too_large("1048577")
    assert not declared_too_large("1048576")
    assert not declared_too_large(None)
    assert not declared_too_large("junk")  # left to the counted read


async def _chunks(*parts: bytes):
    for part in parts:
        yield part


async def test_the_counted_read_stops_once_past_the_limit():
    read: list[bytes] = []

    async def watched():
        for part in (b"a" * 600, b"b" * 600, b"c" * 600):
            read.append(part)
            yield part

    with pytest.raises(BodyTooLarge):
        await read_limited(watched(), limit=1000)
    assert len(read) == 2  # the third chunk is never asked for
    assert await read_limited(_chunks(b"ab", b"cd"), limit=4) == b"abcd"


def test_rates_read_per_second_or_per_minute():
    assert parse_rate("50") == 50
    assert parse_rate("50/s") == 50
    assert parse_rate("600/m") == 10
    for bad in ("", "fast", "-1/s", "0", "5/h"):
        with pytest.raises(ValueError):
            parse_rate(bad)


def test_a_bucket_lets_the_burst_through_then_the_rate():
    now = [0.0]
    buckets = TokenBuckets(rate=2, burst=3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    wait = buckets.take("a")
    assert wait == pytest.approx(0.5)
    assert retry_after_header(wait) == "1"
    assert buckets.take("b") == 0  # another token has its own bucket
    now[0] += 0.5
    assert buckets.take("a") == 0
    assert buckets.take("a") > 0


def test_buckets_stay_bounded_whatever_keys_arrive():
    now = [0.0]
    buckets = TokenBuckets(rate=1, burst=1, clock=lambda: now[0], max_keys=100)
    for key in range(1000):
        buckets.take(key)
    assert len(buckets._buckets) <= 100


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc123", "abc123"),
        ("bearer  abc123 ", "abc123"),
        (None, None),
        ("", None),
        ("Basic dXNlcjpwYXNz", None),
        ("Bearer", None),
        ("Bearer a b", None),
        ("Bearer " + "x" * 600, None),
        ("Bearer t\u00e9st", None),
    ],
)
def test_bearer_tokens(header, token):
    assert bearer_token(header) == token


def test_bind_addresses():
    assert parse_bind("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_bind("[::1]:0") == ("::1", 0)
    assert parse_bind(":9000") == ("127.0.0.1", 9000)
    for bad in ("localhost", "1.2.3.4:http", "1.2.3.4:70000"):
        with pytest.raises(ValueError):
            parse_bind(bad)
