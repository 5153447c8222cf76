"""One line per request on stderr, and the last word on any error a route did not expect.

The line holds the method, the path without its query string, the status, the duration and the
bytes sent: never a header (tokens travel in one), never a body (customer text travels in one).
The path is the only client-chosen part; it is made terminal-safe and cut short.

An exception that escapes a route would make Starlette and uvicorn print a traceback whose
messages can quote customer text (an SQL error repeats its parameters). This middleware catches
it, answers 500 with a JSON body if nothing was sent yet, and writes a crash report without
messages or locals (cs_tui.crash), naming only the report on stderr.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cs_tui.safe_text import one_line

PATH_LIMIT = 200

_500_BODY = b'{"error":"internal","message":"the server failed to answer; see its crash report"}'


def format_line(
    client: str, method: str, path: str, status: int, duration_s: float, size: int
) -> str:
    return (
        f"{one_line(client, 64)} {method} {one_line(path, PATH_LIMIT)} {status} "
        f"{duration_s * 1000:.1f}ms {size}B"
    )


class AccessLog:
    """Pure ASGI middleware (no per-request task or body buffering, unlike BaseHTTPMiddleware)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        enabled: bool = True,
        stream: Callable[[], IO[str]] = lambda: sys.stderr,
    ) -> None:
        self.app = app
        self.enabled = enabled
        self._stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        seen: dict[str, Any] = {"status": 0, "size": 0, "started": False}

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                seen["started"] = True
            elif message["type"] == "http.response.body":
                seen["size"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        except Exception as exc:  # noqa: BLE001 - no traceback may reach the terminal
            self._report(exc)
            if not seen["started"]:
                await counting_send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(_500_BODY)).encode()),
                        ],
                    }
                )
                await counting_send({"type": "http.response.body", "body": _500_BODY})
        finally:
            if self.enabled:
                client = scope.get("client")
                line = format_line(
                    client[0] if client else "-",
                    scope.get("method", "-"),
                    scope.get("path", ""),
                    seen["status"],
                    time.perf_counter() - start,
                    seen["size"],
                )
                self._write(line)

    def _write(self, line: str) -> None:
        try:
            stream = self._stream()
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass  # a closed or full stderr must not fail the request

    def _report(self, exc: Exception) -> None:
        from cs_tui import crash

        kind = one_line(type(exc).__name__, 80)
        try:
            where = one_line(str(crash.write_report(exc, where="serve")))
            self._write(f"cs-tui serve: a request failed ({kind}); report: {where}")
        except OSError as problem:
            reason = crash.describe_os_error(problem)
            self._write(f"cs-tui serve: a request failed ({kind}); no report written: {reason}")
