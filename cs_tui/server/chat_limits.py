"""How often a web chat visitor may write, and what the visitor is told when it is too often.

Per IP address and per visitor, messages and new conversations a minute, each a token bucket
(cs_tui.server.limits.TokenBuckets), and open sockets at once (a visitor's tabs share one
token; a script opening hundreds of sockets is told so and closed). A web channel may set its own figures in its settings
(`{"limits": {"messages_per_visitor": 20, ...}}`); the defaults suit a shop's chat. A refused
message is answered with the seconds to wait, which the page shows: never a silent drop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from cs_tui.server.limits import TokenBuckets

MAX_TEXT = 5000
"""Characters in one visitor message; more is refused with a message."""


@dataclass(frozen=True)
class ChatLimits:
    messages_per_visitor: float = 20
    """Messages a minute one visitor may send (bursts of as many)."""
    messages_per_ip: float = 60
    conversations_per_ip: float = 10
    """New conversations a minute from one IP address."""
    conversations_per_visitor: float = 3
    """New conversations a minute one page (token) may start (a visitor who keeps dropping
    their token to start again counts against the IP)."""
    sockets_per_visitor: float = 5
    """Chat sockets one visitor token may hold open at once (one a tab)."""
    sockets_per_ip: float = 50
    """Chat sockets one IP address may hold open at once (visitors behind one NAT share it)."""

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ChatLimits:
        given = settings.get("limits")
        if not isinstance(given, Mapping):
            return cls()
        values: dict[str, float] = {}
        for f in fields(cls):
            value = given.get(f.name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                values[f.name] = float(value)
        return cls(**values)


class ChatBuckets:
    """The buckets of one channel's limits (kept per channel, in memory, per server)."""

    def __init__(self, limits: ChatLimits) -> None:
        self.limits = limits

        def per_minute(n: float) -> TokenBuckets:
            return TokenBuckets(n / 60.0, max(1, int(n)))

        self._messages_visitor = per_minute(limits.messages_per_visitor)
        self._messages_ip = per_minute(limits.messages_per_ip)
        self._conversations_ip = per_minute(limits.conversations_per_ip)
        self._conversations_visitor = per_minute(limits.conversations_per_visitor)

    def message(self, ip: str, visitor: str) -> float:
        """0 when this message may go on, else the seconds to wait."""
        return self._messages_visitor.take(visitor) or self._messages_ip.take(ip)

    def conversation(self, ip: str, visitor: str) -> float:
        return self._conversations_visitor.take(visitor) or self._conversations_ip.take(ip)


class SocketCounts:
    """Open chat sockets per key (an IP address, a visitor), with a cap: `take` says whether
    one more may open, `give` when it closes. Kept per channel, in memory, per server; a key
    with no open socket is forgotten, so the table holds only the sockets open now."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}

    def take(self, key: str, cap: float) -> bool:
        now = self._open.get(key, 0)
        if now >= cap:
            return False
        self._open[key] = now + 1
        return True

    def give(self, key: str) -> None:
        left = self._open.get(key, 0) - 1
        if left > 0:
            self._open[key] = left
        else:
            self._open.pop(key, None)
