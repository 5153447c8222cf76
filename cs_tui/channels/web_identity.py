"""Who a web chat visitor is: signed visitor tokens, verified identifiers, origins.

An anonymous visitor gets a token `v1.<visitor id>.<signature>`, the signature being hex
HMAC-SHA256 of the channel's secret over "visitor:" + the id. The page keeps it in localStorage,
so a reload or a new tab continues the same conversation; the conversation's id is derived from
the verified visitor id, so a token whose signature does not match opens nothing, and no token
names another visitor's conversation. Rotating the channel's secret ends every anonymous visit
(the pages start new ones).

A shop's backend that knows its customer passes `identifier` and `identifier_hash` = hex
HMAC-SHA256(channel secret, identifier), as Chatwoot does: the visitor is then that customer
(the customer's handle is the identifier), on any device.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

TOKEN_VERSION = "v1"
MAX_IDENTIFIER = 200
MAX_ORIGIN = 300
_VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}\Z")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}\Z")


def _sign(secret: str, text: str) -> str:
    return hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Visitor:
    """A verified visitor: `key` names their conversation in this channel, `customer` is the
    customer handle their messages carry, `token` what the page keeps (None when identified)."""

    key: str
    customer: str
    token: str | None
    identified: bool

    def conversation_id(self, channel: str) -> str:
        return f"web-{channel}-{self.key}"

    def message_id(self, channel: str, client_id: str) -> str:
        return f"web-{channel}-{self.key}-{client_id}"


def new_visitor(channel: str, secret: str) -> Visitor:
    visitor_id = secrets.token_urlsafe(18)
    return _anonymous(channel, secret, visitor_id)


def _anonymous(channel: str, secret: str, visitor_id: str) -> Visitor:
    token = f"{TOKEN_VERSION}.{visitor_id}.{_sign(secret, 'visitor:' + visitor_id)}"
    return Visitor(
        key="a" + visitor_id, customer=f"web-{channel}-{visitor_id}", token=token, identified=False
    )


def visitor_from_token(channel: str, secret: str, token: object) -> Visitor | None:
    """The visitor a token names, or None if it is not one this channel signed."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    version, _, rest = token.partition(".")
    visitor_id, _, signature = rest.partition(".")
    if version != TOKEN_VERSION or not _VISITOR_ID.match(visitor_id):
        return None
    expected = _sign(secret, "visitor:" + visitor_id)
    # compare_digest refuses a str with non-ASCII characters (TypeError): a forged token may
    # hold any; it is simply not a signature.
    if not signature.isascii() or not hmac.compare_digest(expected, signature.lower()):
        return None
    return _anonymous(channel, secret, visitor_id)


def identified_visitor(secret: str, identifier: object, identifier_hash: object) -> Visitor | None:
    """The customer `identifier` names, if its hash is the channel secret's HMAC of it."""
    if (
        not isinstance(identifier, str)
        or not isinstance(identifier_hash, str)
        or not identifier.strip()
        or len(identifier) > MAX_IDENTIFIER
        or not identifier.isprintable()
        or len(identifier_hash) > 128
    ):
        return None
    if not identifier_hash.isascii() or not hmac.compare_digest(
        _sign(secret, identifier), identifier_hash.lower()
    ):
        return None
    key = "i" + hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:32]
    return Visitor(key=key, customer=identifier, token=None, identified=True)


def identifier_hash(secret: str, identifier: str) -> str:
    """What a shop's backend computes and passes to the page with the identifier."""
    return _sign(secret, identifier)


def good_client_id(value: object) -> bool:
    return isinstance(value, str) and bool(_CLIENT_ID.match(value))


def normalize_origin(text: str) -> str:
    """`scheme://host[:port]` as a browser sends it in the Origin header; ValueError if `text`
    is not one (a path, a query, no host, another scheme)."""
    if not isinstance(text, str) or len(text) > MAX_ORIGIN or not text.isprintable():
        raise ValueError("not an origin")
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise ValueError(f"{text!r} is not an origin like https://shop.example") from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username
    ):
        raise ValueError(f"{text!r} is not an origin like https://shop.example")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def origin_allowed(origin: str | None, allowed: tuple[str, ...], own: str | None) -> bool:
    """Whether a WebSocket from a page at `origin` may open: one of the channel's origins, or
    the server's own (the standalone chat page). No Origin header (not a browser) is refused."""
    if not origin:
        return False
    try:
        seen = normalize_origin(origin)
    except ValueError:
        return False
    return seen in allowed or (own is not None and seen == own)
