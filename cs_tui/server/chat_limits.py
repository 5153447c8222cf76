"""How often a web chat visitor may write, and what the visitor is told when it is too often.

Per IP address and per visitor, messages and new conversations a minute, each a token bucket
(cs_tui.server.limits.TokenBuckets). A web channel may set its own figures in its settings
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
