"""The integration's API: `POST /api/v1/messages` (messages in) and
`PATCH /api/v1/messages/{message_id}` (delivery receipts).

Every request passes the same gate before the store is touched for its content: a declared size
above the limit (413), then the bearer token (401, the same answer for a missing and a wrong
one), a disabled channel (403), the channel's token bucket (429 + Retry-After), the content type
(415), the counted body (413), and JSON (400).

Answers to `POST`:

- one object: 201 `{"status": "stored", "message_id", "conversation_id"}`; 200 with
  `"status": "duplicate"` when that message_id was stored before; 422 `{"error":
  "invalid_message", "message": reason}` when the line checks refuse it.
- `{"messages": [...]}` (1 to 500): the good items are stored, each item has a result
  `{"index", "status", "message_id", "conversation_id", "reason"}`, plus counts. The status
  code is 201 when anything was stored, 422 when every item was refused, else 200 (nothing new:
  duplicates, possibly beside refused items, each named in the results).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import anyio
from anyio import to_thread
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from cs_tui.data.errors import NotAllowed, NotFound, StoreError, StoreUnavailable
from cs_tui.safe_text import one_line
from cs_tui.server.auth import bearer_token
from cs_tui.server.limits import (
    BodyTooLarge,
    declared_too_large,
    json_content_type,
    read_limited,
    retry_after_header,
)
from cs_tui.server.responses import JsonResponse, error, unauthorized

if TYPE_CHECKING:
    from cs_tui.data.views import ChannelAuth, InboundItem
    from cs_tui.server.state import GatewayState

REASON_LIMIT = 300
RECEIPT_STATUSES = ("delivered", "read", "failed")
RECEIPT_ERROR_LIMIT = 300
MESSAGE_ID_LIMIT = 200
RECEIPT_BODY_LIMIT = 16 * 1024


def _state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


def unavailable() -> JsonResponse:
    return error(
        503,
        "unavailable",
        "the store cannot be reached right now; try again shortly",
        {"Retry-After": "1"},
    )


async def admit(request: Request, body_limit: int) -> ChannelAuth | Response:
    """The channel a request speaks for, or the answer that refuses it."""
    state = _state(request)
    if declared_too_large(request.headers.get("content-length"), body_limit):
        return too_large(body_limit)
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        return unauthorized()
    try:
        channel = await state.tokens.channel(token)
    except StoreUnavailable:
        return unavailable()
    if channel is None or channel.kind != "api":
        # Only an API channel speaks through this API (a web or e-mail channel made before
        # they stopped getting tokens may still hold one: it opens nothing).
        return unauthorized()
    if not channel.active:
        return error(403, "channel_disabled", "this channel is disabled")
    wait = state.buckets.take(channel.id)
    if wait > 0:
        return error(
            429,
            "rate_limited",
            f"above {state.settings.rate:g} requests a second for this channel",
            {"Retry-After": retry_after_header(wait)},
        )
    if not json_content_type(request.headers.get("content-type")):
        return error(415, "unsupported_media_type", "send Content-Type: application/json")
    return channel


def _storable(text: str) -> bool:
    """Text both stores can keep: PostgreSQL refuses NUL, and a lone surrogate is no UTF-8."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def too_large(limit: int) -> JsonResponse:
    return error(413, "too_large", f"a request body has at most {limit:,} bytes")


async def read_json(request: Request, limit: int) -> Any | Response:
    try:
        with anyio.fail_after(_state(request).settings.body_timeout_s):
            body = await read_limited(request.stream(), limit)
    except BodyTooLarge:
        return too_large(limit)
    except TimeoutError:
        return error(408, "timeout", "the request body did not arrive in time")
    except ClientDisconnect:  # gone before its body was complete: nothing to store or answer
        return error(400, "incomplete_body", "the client left before its body arrived")
    try:
        return _decode(body.decode("utf-8"))
    except (ValueError, RecursionError):  # JSON, UTF-8, huge integers, NaN, deep nesting
        return error(400, "not_json", "the body is not valid JSON in UTF-8")


def _no_constant(name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


# One decoder for every body: json.loads with an option builds a new decoder on each call.
_decode = json.JSONDecoder(parse_constant=_no_constant).decode


async def admit_object(
    request: Request, limit: int
) -> tuple[ChannelAuth, dict[str, Any]] | Response:
    """The channel a request speaks for and its body, a JSON object of at most `limit` bytes;
    or the answer that refuses it (the channel is admitted before its body is read)."""
    channel = await admit(request, limit)
    if isinstance(channel, Response):
        return channel
    body = await read_json(request, limit)
    if isinstance(body, Response):
        return body
    if not isinstance(body, dict):
        return error(400, "not_object", "the body must be a JSON object")
    return channel, body


async def post_messages(request: Request) -> Response:
    state = _state(request)
    admitted = await admit_object(request, state.settings.max_body)
    if isinstance(admitted, Response):
        return admitted
    channel, body = admitted
    batch = "messages" in body
    if batch:
        objects = body["messages"]
        if not isinstance(objects, list) or len(body) != 1:
            return error(
                400,
                "bad_batch",
                "a batch is an object with one field, 'messages', holding a list",
            )
        if not objects:
            return error(400, "empty_batch", "'messages' holds no message")
        if len(objects) > state.settings.max_batch:
            return error(
                400,
                "batch_too_large",
                f"'messages' holds at most {state.settings.max_batch} messages",
            )
    else:
        objects = [body]
    try:
        items = await state.batcher.submit(channel.id, objects)
    except StoreUnavailable:
        return unavailable()
    except NotAllowed:  # disabled since its token was looked up
        return error(403, "channel_disabled", "this channel is disabled")
    except StoreError as exc:  # a refusal of the whole call: its code, not its text
        return error(422, "refused", f"the store refused the messages ({exc.code})")
    if batch:
        return _batch_answer(items)
    return _single_answer(items[0])


def _reason(item: InboundItem) -> str | None:
    return one_line(item.reason, REASON_LIMIT) if item.reason else None


def _single_answer(item: InboundItem) -> Response:
    if item.status == "rejected":
        return error(422, "invalid_message", _reason(item) or "the message was refused")
    return JsonResponse(
        {
            "status": item.status,
            "message_id": item.message_id,
            "conversation_id": item.conversation_id,
        },
        status_code=201 if item.status == "stored" else 200,
    )


def _batch_answer(items: list[InboundItem]) -> Response:
    counts = {"stored": 0, "duplicate": 0, "rejected": 0}
    results = []
    for item in items:
        counts[item.status] += 1
        results.append(
            {
                "index": item.index,
                "status": item.status,
                "message_id": item.message_id,
                "conversation_id": item.conversation_id,
                "reason": _reason(item) if item.reason else None,
            }
        )
    if counts["stored"]:
        status = 201
    elif counts["rejected"] == len(items):
        status = 422
    else:
        status = 200
    return JsonResponse(
        {
            "stored": counts["stored"],
            "duplicates": counts["duplicate"],
            "rejected": counts["rejected"],
            "results": results,
        },
        status_code=status,
    )


async def patch_message(request: Request) -> Response:
    state = _state(request)
    admitted = await admit_object(request, RECEIPT_BODY_LIMIT)
    if isinstance(admitted, Response):
        return admitted
    channel, body = admitted
    message_id = request.path_params["message_id"]
    status = body.get("status")
    if status not in RECEIPT_STATUSES:
        return error(400, "bad_status", "'status' must be delivered, read or failed")
    reason = body.get("error")
    if reason is not None and not isinstance(reason, str):
        return error(400, "bad_error", "'error' must be a string")
    if reason is not None and not _storable(reason):
        return error(400, "bad_error", "'error' holds a NUL or a lone surrogate")
    if reason is not None:
        reason = reason[:RECEIPT_ERROR_LIMIT] or None  # stored as sent, shown through safe_text
    if not message_id or len(message_id) > MESSAGE_ID_LIMIT or not message_id.isprintable():
        return _no_such_message()
    try:
        view = await to_thread.run_sync(
            state.store.delivery_receipt, channel.id, message_id, status, reason
        )
    except NotFound:
        return _no_such_message()
    except StoreUnavailable:
        return unavailable()
    except StoreError as exc:
        return error(409, "refused", f"the receipt was refused ({exc.code})")
    return JsonResponse(
        {
            "delivery_id": view.delivery_id,
            "message_id": view.public_message_id,
            "status": view.status,
            "attempts": view.attempts,
        }
    )


def _no_such_message() -> JsonResponse:
    return error(404, "not_found", "no delivery of this channel has that message id")


ROUTES = [
    Route("/api/v1/messages", post_messages, methods=["POST"]),
    Route("/api/v1/messages/{message_id:path}", patch_message, methods=["PATCH"]),
]
