"""The JSON bodies the server answers with, errors included.

Error bodies are `{"error": code, "message": text}`; the text is written here, never built from
what the client sent (at most a short field name this module chose), so nothing untrusted is
echoed back or ends up in a log.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response


class JsonResponse(Response):
    """JSON without ASCII escaping of text, compact; the content type says UTF-8."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JsonResponse:
    return JsonResponse({"error": code, "message": message}, status_code=status, headers=headers)


def unauthorized() -> JsonResponse:
    """The same answer for a missing, malformed or unknown token: no hint which."""
    return error(
        401,
        "unauthorized",
        "a valid channel token is required: Authorization: Bearer TOKEN",
        {"WWW-Authenticate": "Bearer"},
    )
