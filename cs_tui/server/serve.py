"""Run the gateway: bind, serve with uvicorn, stop cleanly on SIGTERM or Ctrl-C.

The socket is bound here, before uvicorn starts, so `--bind 127.0.0.1:0` works and the line
`cs-tui serve: listening on http://HOST:PORT` (stderr, once the server accepts) names the port
the system chose; tests and scripts read it.

On SIGTERM (or the first Ctrl-C) the server stops accepting connections, lets in-flight requests
finish, and tells the delivery worker to finish its in-flight POSTs, all within
`settings.shutdown_s` (10 s), then exits 0. uvicorn would re-raise the signal after a clean
shutdown (exit status -15); here a handled SIGTERM is a normal exit. Should anything hang past
the bound, a watchdog ends the process with status 1.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn

from cs_tui.safe_text import one_line
from cs_tui.server.app import create_app
from cs_tui.server.http_protocol import HEADER_LIMIT, protocol_class
from cs_tui.server.settings import ServerSettings
from cs_tui.server.state import GatewayState
from cs_tui.server.webchat import MAX_FRAME

if TYPE_CHECKING:
    from cs_tui.data.store import Store

WATCHDOG_GRACE_S = 2.0
SWITCH_INTERVAL_S = 0.05
"""How long a thread may hold the GIL while another waits for it (Python's default: 5 ms).
The event loop and the store's writer thread take turns; at 5 ms they swapped in the middle
of nearly every batch's checks and folding, and batched intake varied from 17,000 to 24,000
messages/s from run to run. Each still lets go at every SQLite call and every await."""


class BindError(Exception):
    """The address cannot be bound (in use, not ours, not an address)."""


def parse_bind(text: str) -> tuple[str, int]:
    """HOST:PORT, [IPv6]:PORT, or :PORT (all interfaces is never a default: say 0.0.0.0)."""
    text = text.strip()
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
    else:
        host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{text!r} is not HOST:PORT (for example 127.0.0.1:8080)")
    return host or "127.0.0.1", int(port)


def bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise BindError(f"cannot resolve {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise BindError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class _Server(uvicorn.Server):
    """uvicorn's server with our announcement and our way of stopping (see the module doc)."""

    def __init__(self, config: uvicorn.Config, state: GatewayState, url: str) -> None:
        super().__init__(config)
        self._state = state
        self._url = url
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watchdog: threading.Timer | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)
        if self.started:
            state = self._state
            worker = "on" if state.settings.deliver else "off (--no-deliver)"
            print(
                f"cs-tui serve: listening on {self._url}\n"
                f"cs-tui serve: store {one_line(state.store.location)}; webhook delivery {worker}",
                file=sys.stderr,
                flush=True,
            )

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
            return
        self.should_exit = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._state.begin_shutdown)
        if self._watchdog is None:
            limit = self._state.settings.shutdown_s + WATCHDOG_GRACE_S
            self._watchdog = threading.Timer(limit, _overdue)
            self._watchdog.daemon = True
            self._watchdog.start()


def _overdue() -> None:
    sys.stderr.write("cs-tui serve: shutdown took too long; stopping now\n")
    sys.stderr.flush()
    os._exit(1)


def log_to_stderr() -> None:
    """The delivery worker's lines (cs_tui.* loggers: delivery ids and status codes, never
    text) and uvicorn's warnings go to stderr beside the access log, prefixed so a reader
    tells them apart."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("cs-tui serve: %(name)s: %(message)s"))
    for name, level in (("cs_tui", logging.INFO), ("uvicorn", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False


def serve(store: Store, settings: ServerSettings, sock: socket.socket) -> int:
    """Serve until told to stop; 0 after a clean stop."""
    log_to_stderr()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    app = create_app(store, settings)
    state: GatewayState = app.state.gateway
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_config=None,  # see log_to_stderr
        access_log=False,  # ours (cs_tui.server.access_log) never shows a query string
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=max(1, int(settings.shutdown_s) - 1),
        limit_concurrency=settings.max_connections,
        http=protocol_class(),  # httptools with a bound on headers (see http_protocol)
        h11_max_incomplete_event_size=HEADER_LIMIT,
        ws_max_size=MAX_FRAME,  # the web chat's largest frame: a bigger one is never buffered
    )
    server = _Server(config, state, url_of(sock))
    server.run(sockets=[sock])
    return 0
