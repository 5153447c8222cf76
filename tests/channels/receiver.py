"""A real webhook receiver for the tests: http.server in a thread, standard library only.

`verify_signature` is the check an integrator writes (docs/channels.md shows the same dozen
lines): it knows nothing of cs_tui, so a test that passes through it proves the wire format, not
just that our signer agrees with itself.

The receiver answers from a script (a list of responses, the last one repeated) and records every
request: its headers, raw body, whether the signature verified, and when it started and ended,
so tests can see retries, the delivery id on each, and overlapping in-flight POSTs.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify_signature(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver runs before trusting a webhook (stdlib only)."""
    timestamp = headers.get("X-CS-Timestamp", "")
    signature = headers.get("X-CS-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return False  # missing, malformed or stale: a replay
    signed = timestamp.encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: tuple[tuple[str, str], ...] = ()
    delay_s: float = 0.0  # hold the answer back (in-flight overlap, timeouts)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    started: float
    ended: float = 0.0
    answered: int = 0


@dataclass
class Receiver:
    """Start with `with Receiver(secret, [Reply(500), Reply(200)]) as r: r.url ...`."""

    secret: str = ""
    script: list[Reply] = field(default_factory=lambda: [Reply()])
    per_delivery: bool = False  # replay the script for each X-CS-Delivery instead of overall
    on_request: Callable[[Received], None] | None = None
    requests: list[Received] = field(default_factory=list)
    # (X-CS-Delivery, monotonic time) as each request arrives, before it is answered
    arrivals: list[tuple[str, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._served: dict[str, int] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                started = time.monotonic()
                with receiver._lock:
                    receiver.arrivals.append((self.headers.get("X-CS-Delivery", ""), started))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k: v for k, v in self.headers.items()}
                rec = Received(
                    path=self.path,
                    headers=headers,
                    body=body,
                    verified=verify_signature(receiver.secret, headers, body),
                    started=started,
                )
                reply = receiver._next(headers.get("X-CS-Delivery", ""))
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                try:
                    self._answer(reply, rec)
                except OSError:
                    return  # the sender went away (killed) while we held the answer

            def _answer(self, reply: Reply, rec: Received) -> None:
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
                self.wfile.flush()
                rec.ended = time.monotonic()
                rec.answered = reply.status
                with receiver._lock:
                    receiver.requests.append(rec)
                if receiver.on_request is not None:
                    receiver.on_request(rec)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _next(self, delivery: str) -> Reply:
        with self._lock:
            key = delivery if self.per_delivery else ""
            n = self._served.get(key, 0)
            self._served[key] = n + 1
            return self.script[min(n, len(self.script) - 1)]

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
