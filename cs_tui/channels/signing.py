"""Webhook signatures: HMAC-SHA256 of the secret over "{timestamp}.{raw body}".

The timestamp is part of what is signed so a captured request cannot be replayed later: a
receiver refuses timestamps older than a few minutes. The body signed is exactly the bytes sent;
a receiver must verify the raw bytes it read, before parsing JSON (re-serialising changes them).

The receiver in docs/channels.md does the same with the standard library only; the tests check
this module against such a receiver, so the two cannot drift apart.
"""

from __future__ import annotations

import hmac

PREFIX = "sha256="
TOLERANCE_S = 300  # a receiver accepts timestamps this far from its own clock


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-CS-Signature header value: "sha256=" + hex HMAC-SHA256(secret, "{ts}.{body}")."""
    mac = hmac.new(secret.encode("utf-8"), f"{int(timestamp)}.".encode("ascii") + body, "sha256")
    return PREFIX + mac.hexdigest()


def verify(
    secret: str,
    timestamp: str | int,
    body: bytes,
    signature: str,
    *,
    now: float,
    tolerance_s: float = TOLERANCE_S,
) -> bool:
    """True when `signature` is ours for this body and timestamp, and the timestamp is fresh.

    `timestamp` and `signature` are the raw header values (untrusted: anything malformed is
    simply False). The comparison takes constant time.
    """
    try:
        ts = int(str(timestamp).strip())
    except ValueError:
        return False
    if abs(now - ts) > tolerance_s:
        return False
    expected = sign(secret, ts, body)
    return hmac.compare_digest(expected.encode("ascii"), str(signature).strip().encode("utf-8"))
