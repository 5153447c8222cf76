"""Signatures as a receiver checks them: our signer against a stdlib-only verifier."""

from __future__ import annotations

import time

from cs_tui.channels.signing import sign, verify
from tests.channels.receiver import verify_signature

SECRET = "whsec_test_secret"


def test_a_receiver_with_only_the_standard_library_accepts_our_signature() -> None:
    body = '{"text":"您好,退款已到账","delivery_id":7}'.encode()
    ts = int(time.time())
    headers = {"X-CS-Timestamp": str(ts), "X-CS-Signature": sign(SECRET, ts, body)}
    assert headers["X-CS-Signature"].startswith("sha256=")
    assert verify_signature(SECRET, headers, body)
    assert verify(SECRET, str(ts), body, headers["X-CS-Signature"], now=time.time())


def test_a_changed_body_timestamp_or_secret_is_refused() -> None:
    body = b'{"text":"hello"}'
    ts = int(time.time())
    sig = sign(SECRET, ts, body)
    assert not verify_signature(
        SECRET, {"X-CS-Timestamp": str(ts), "X-CS-Signature": sig}, body + b" "
    )
    assert not verify_signature(
        SECRET, {"X-CS-Timestamp": str(ts + 1), "X-CS-Signature": sig}, body
    )
    assert not verify_signature("other", {"X-CS-Timestamp": str(ts), "X-CS-Signature": sig}, body)
    assert not verify(SECRET, ts, body + b" ", sig, now=ts)
    assert not verify("other", ts, body, sig, now=ts)


def test_a_replayed_old_request_is_refused_even_with_a_good_signature() -> None:
    body = b"{}"
    old = int(time.time()) - 3600
    sig = sign(SECRET, old, body)
    assert not verify_signature(SECRET, {"X-CS-Timestamp": str(old), "X-CS-Signature": sig}, body)
    assert not verify(SECRET, old, body, sig, now=time.time())
    assert verify(SECRET, old, body, sig, now=old + 10)


def test_malformed_headers_are_false_not_an_exception() -> None:
    for ts, sig in [("", ""), ("abc", "sha256=00"), ("1.5", "x"), ("12", "sha256=é")]:
        assert verify(SECRET, ts, b"{}", sig, now=12) is False
