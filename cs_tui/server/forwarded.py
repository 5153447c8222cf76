"""The visitor's address behind a reverse proxy: X-Forwarded-For from trusted proxies only.

Behind a proxy every connection comes from the proxy, so the per-address limits of the web chat
(sockets, messages and new conversations per IP) would count all visitors together. `serve
--trusted-proxy CIDR` (repeatable) names the proxies; a request whose peer is one of them gets
its client address from X-Forwarded-For, read from the right: each proxy appends the address it
received the request from, so past the trusted proxies, the first address that is not one of
them is the one the outermost trusted proxy saw: the visitor. Whatever a visitor wrote into the
header themselves sits to the left of that and is never read. A hop that is not an IP address ends the
walk at the last address we could read. From any other peer the header is ignored, so nobody
can pick their own address by sending it. Without `--trusted-proxy` nothing here runs.

Only the address changes (the access log, the limits); the scheme and host stay as received.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_HOPS = 32
"""Hops read from the right at most (a proxy chain is a few; the header could be long)."""


def parse_network(text: str) -> Network:
    """A `--trusted-proxy` value: an address or a CIDR network; ValueError otherwise."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(
            f"--trusted-proxy {text!r} is not an IP address or network (like 10.0.0.0/8)"
        ) from None


def _address(hop: str) -> Address | None:
    """An X-Forwarded-For entry: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:80`."""
    hop = hop.strip()
    if hop.startswith("["):
        hop = hop[1:].partition("]")[0]
    elif hop.count(":") == 1:
        hop = hop.partition(":")[0]
    try:
        return ipaddress.ip_address(hop)
    except ValueError:
        return None


def client_address(peer: str, forwarded_for: Iterable[str], trusted: tuple[Network, ...]) -> str:
    """The client's address for a request from `peer` carrying these X-Forwarded-For values."""
    current = _address(peer)
    if current is None or not any(current in net for net in trusted):
        return peer
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops[-MAX_HOPS:]):
        found = _address(hop)
        if found is None:
            break
        current = found
        if not any(found in net for net in trusted):
            break
    return str(current)


class ForwardedFor:
    """ASGI middleware setting the scope's client from X-Forwarded-For (HTTP and WebSocket)."""

    def __init__(self, app: ASGIApp, *, trusted: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if self.trusted and client and scope["type"] in ("http", "websocket"):
            values = [
                value.decode("latin-1")
                for name, value in scope.get("headers", ())
                if name == b"x-forwarded-for"
            ]
            if values:
                host = client_address(client[0], values, self.trusted)
                if host != client[0]:
                    scope = {**scope, "client": (host, 0)}
        await self.app(scope, receive, send)
