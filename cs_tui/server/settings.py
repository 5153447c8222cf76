"""ServerSettings: everything `cs-tui serve` was told, in one frozen value the app reads."""

from __future__ import annotations

from dataclasses import dataclass

from cs_tui.server.limits import MAX_BATCH, MAX_BODY

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
SHUTDOWN_S = 10.0
"""SIGTERM to exit: in-flight requests and deliveries get at most this long."""


@dataclass(frozen=True)
class ServerSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    rate: float = 50.0
    """Requests a second per channel token (token bucket refill)."""
    burst: int = 200
    """Requests a token may send at once before the rate applies."""
    deliver: bool = True
    """Run the outbox delivery worker inside this process."""
    retry_base_s: float = 5.0
    give_up_s: float = 24 * 3600.0
    web_give_up_s: float = 24 * 3600.0
    """A web chat reply still waiting for its visitor's page this long fails (the visitor did
    not come back): cs_tui.channels.web_give_up."""
    max_body: int = MAX_BODY
    max_batch: int = MAX_BATCH
    token_cache_s: float = 1.0
    """How long a token's channel (or its absence) is remembered: disabling or rotating a
    channel takes effect within this time."""
    shutdown_s: float = SHUTDOWN_S
    body_timeout_s: float = 30.0
    """A request body that has not fully arrived by then is answered 408 (a client trickling
    bytes must not hold a connection and its buffer for ever)."""
    max_connections: int = 1000
    """Connections served at once; above it new requests get 503 from uvicorn."""
    access_log: bool = True
    trusted_proxies: tuple[str, ...] = ()
    """Networks (CIDR) of the reverse proxies whose X-Forwarded-For names the client
    (cs_tui.server.forwarded); empty: the header is ignored."""
