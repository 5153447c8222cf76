"""The web chat's routes: the standalone page, the embeddable script, and the WebSocket.

`GET /chat/NAME` is a page holding only the chat; `GET /widget.js` (with `widget.css`) puts the
same chat into any page of the shop. Both talk to `/ws/chat/NAME`, one JSON frame per message:

page -> server  {"type": "hello", "token", "last_seq", "lang", "identifier", "identifier_hash"}
                {"type": "send", "client_id", "text", "name"?, "order"?}   {"type": "seen", "seqs": [...]}
server -> page  {"type": "welcome", "token", "online", "opens", "pre_chat"}
                {"type": "message", "seq", "author", "text", "name", "client_id", "at"}
                {"type": "ack", "client_id"}   {"type": "refused", "client_id", "code", "retry_after"}
                {"type": "menu", "opens"}   {"type": "answer", "titles", "paragraph"}
                {"type": "person", "soon", "opens"}

`pre_chat` is true when the channel asks for a name and an order number before the first message
and this visitor has no conversation yet; the first `send` then carries them (checked by
cs_tui.channels.web_prechat; `bad_name` / `bad_order` refuse the message).
`opens` is null while the team answers this channel's conversations, else when it opens next in
its calendar's zone, {"at": ISO, "weekday": 0-6 (Monday 0), "time": "HH:MM", "date": "MM-DD" or
null (a date when six days or more away)}: the page says "We're back Mon 09:00".

A visitor token may hold 5 sockets open at once and an IP address 50 (ChatLimits, per channel);
one more is sent `refused` with the code `too_many_sockets` and closed with 4429, and the page
says so and stops reconnecting. Frames above 64 KiB are refused by uvicorn itself (`ws_max_size`),
before they are buffered whole.

A page's origin must be one of the channel's origins or the server's own, else the upgrade is
answered 403 before anything is read. Customer messages go through Store.ingest_from_channel,
the same checks as every message; the client id makes the message id, so a message sent again
after a drop is stored once. Agent replies reach the page through the ChatHub (the store's
change feed); the page's last sequence number on reconnect makes the server replay what it
missed. Replies pushed to a page mark their delivery `sent`; `read` when the page showed them.
Nothing a visitor wrote is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from cs_tui.calendars import reopening
from cs_tui.channels.web_identity import (
    Visitor,
    good_client_id,
    identified_visitor,
    new_visitor,
    normalize_origin,
    origin_allowed,
    visitor_from_token,
)
from cs_tui.channels.web_prechat import PreChat, pre_chat_on, read_pre_chat
from cs_tui.data.errors import StoreError
from cs_tui.server.chat_hub import ChatHub
from cs_tui.server.chat_limits import MAX_TEXT, ChatBuckets, ChatLimits, SocketCounts

if TYPE_CHECKING:
    from cs_tui.data.store import Store
    from cs_tui.data.webchat_store import WebChannel, WebMessage
    from cs_tui.search import SearchIndex

HELLO_S = 10.0
"""A socket that has not said hello by then is closed."""
CHANNEL_CACHE_S = 1.0
ONLINE_CACHE_S = 5.0
KB_CACHE_S = 60.0
MAX_FRAME = 64 * 1024
"""The largest frame the server reads (serve gives it to uvicorn as ws_max_size, in bytes)."""
SEEN_MAX = 500
MENU_QUERIES = {
    "zh": {"1": "订单查询 订单状态", "2": "物流查询 物流", "3": "售后申请 退货 退款"},
    "en": {"1": "order status", "2": "shipping delivery parcel", "3": "return refund after-sales"},
}
PERSON_WORDS = ("4", "人工", "转人工", "客服", "person", "human", "agent", "talk to a person")
CLOSE_UNAVAILABLE = 4403
CLOSE_TOO_MANY = 4429


def _asset(name: str) -> str:
    return resources.files("cs_tui.channels").joinpath("web", name).read_text(encoding="utf-8")


_PAGE = _asset("chat.html")
_WIDGET = _asset("widget.js")
_CSS = _asset("widget.css")
_SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors *"
)


# -- shared state ------------------------------------------------------------------------


@dataclass
class ChatState:
    store: Store
    hub: ChatHub
    channels: dict[str, tuple[float, WebChannel | None]] = field(default_factory=dict)
    buckets: dict[int, tuple[object, ChatBuckets]] = field(default_factory=dict)
    sockets: dict[int, tuple[SocketCounts, SocketCounts]] = field(default_factory=dict)
    """Per channel: open sockets per IP address, per visitor."""
    online: tuple[float, bool] = (0.0, False)
    kb: tuple[float, SearchIndex | None] = (0.0, None)

    async def channel(self, name: str) -> WebChannel | None:
        now = time.monotonic()
        cached = self.channels.get(name)
        if cached is not None and now - cached[0] < CHANNEL_CACHE_S:
            return cached[1]
        found = await to_thread.run_sync(self.store.web_channel, name)
        if len(self.channels) > 1000:
            self.channels.clear()
        self.channels[name] = (now, found)
        return found

    def limits(self, channel: WebChannel) -> ChatBuckets:
        known = self.buckets.get(channel.id)
        if known is None or known[0] != channel.settings.get("limits"):
            known = (
                channel.settings.get("limits"),
                ChatBuckets(ChatLimits.from_settings(channel.settings)),
            )
            self.buckets[channel.id] = known
        return known[1]

    def socket_counts(self, channel: WebChannel) -> tuple[SocketCounts, SocketCounts]:
        found = self.sockets.get(channel.id)
        if found is None:
            found = self.sockets[channel.id] = (SocketCounts(), SocketCounts())
        return found

    async def agents_online(self) -> bool:
        """Whether any agent's workstation is running (cs_tui.data.agents presence)."""
        now = time.monotonic()
        if now - self.online[0] >= ONLINE_CACHE_S:
            try:
                found = bool(await to_thread.run_sync(self.store.online_agents))
            except StoreError:
                found = False
            self.online = (now, found)
        return self.online[1]

    def closed_until(self, channel: WebChannel) -> dict[str, Any] | None:
        """None while the team answers this channel's conversations (the calendar the SLA policy
        gives its channel type is open, or there is none: around the clock), else when it opens
        next, in the calendar's own zone, for the page to say honestly when someone answers."""
        calendar = self.store.policy.calendar_for(channel.channel_type, "", "")
        if calendar is None:
            return None
        back = reopening(calendar, self.store.clock.now())
        if back is None:
            return None
        return {
            "at": back.at.isoformat(),
            "weekday": back.local.weekday(),
            "time": back.local.strftime("%H:%M"),
            "date": back.local.strftime("%m-%d") if back.far else None,
        }

    async def answer(self, query: str, lang: str) -> dict[str, Any]:
        """Up to three knowledge-base titles for `query` and the best one's first paragraph."""
        now = time.monotonic()
        index = self.kb[1]
        if index is None or now - self.kb[0] >= KB_CACHE_S:
            index = await to_thread.run_sync(self._build_kb)
            self.kb = (now, index)
        hits = await to_thread.run_sync(
            lambda: index.search(query, 3, kind="article", lang=lang) if index else []
        )
        titles = [h.entry.title for h in hits]
        paragraph = _first_paragraph(hits[0].entry.body) if hits else ""
        return {"type": "answer", "titles": titles, "paragraph": paragraph}

    def _build_kb(self) -> SearchIndex:
        from cs_tui.kb import article_entries
        from cs_tui.search import SearchIndex

        return SearchIndex.build(article_entries(self.store.articles()))


def _first_paragraph(body: str) -> str:
    for block in body.replace("\r\n", "\n").split("\n\n"):
        text = " ".join(line.strip() for line in block.splitlines() if line.strip())
        if text and not text.startswith("#"):
            return text[:600]
    return ""


def chat_state(app: Any) -> ChatState:
    found: ChatState | None = getattr(app.state, "webchat", None)
    if found is None:
        store = app.state.gateway.store
        found = ChatState(store=store, hub=ChatHub(store, asyncio.get_running_loop()))
        app.state.webchat = found
    return found


# -- HTTP --------------------------------------------------------------------------------


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang") or request.headers.get("accept-language", "")
    return "zh" if asked.strip().lower().startswith("zh") else "en"


async def chat_page(request: Request) -> Response:
    name = request.path_params["name"]
    channel = await chat_state(request.app).channel(name)
    if channel is None or not channel.active:
        return HTMLResponse(
            "<!doctype html><title>Not found</title><p>No such chat.</p>",
            status_code=404,
            headers=_SECURITY,
        )
    lang = _lang(request)
    page = (
        _PAGE.replace("{lang}", lang)
        .replace("{title}", "在线客服" if lang == "zh" else "Chat with us")
        .replace("{base}", "/")
        .replace("{channel}", channel.name)  # a channel name is [a-z0-9_-]: nothing to escape
    )
    if "lang" in request.query_params:
        page = page.replace('data-target="#chat"', f'data-target="#chat" data-lang="{lang}"')
    headers = {**_SECURITY, "Content-Security-Policy": _PAGE_CSP, "Cache-Control": "no-store"}
    return HTMLResponse(page, headers=headers)


async def widget_js(request: Request) -> Response:
    return Response(
        _WIDGET,
        media_type="text/javascript; charset=utf-8",
        headers={**_SECURITY, "Cache-Control": "public, max-age=300"},
    )


async def widget_css(request: Request) -> Response:
    return Response(
        _CSS,
        media_type="text/css; charset=utf-8",
        headers={**_SECURITY, "Cache-Control": "public, max-age=300"},
    )


# -- the socket --------------------------------------------------------------------------


def _own_origins(ws: WebSocket) -> tuple[str, ...]:
    host = ws.headers.get("host", "")
    found = []
    for scheme in ("http", "https"):
        with contextlib.suppress(ValueError):
            found.append(normalize_origin(f"{scheme}://{host}"))
    return tuple(found)


async def chat_socket(ws: WebSocket) -> None:
    chat = chat_state(ws.app)
    try:
        channel = await chat.channel(ws.path_params["name"])
    except StoreError:
        await ws.close(code=1011)
        return
    origin = ws.headers.get("origin")
    own = _own_origins(ws)
    if channel is None or not any(
        origin_allowed(origin, channel.origins, mine) for mine in own or (None,)
    ):
        await ws.close(code=1008)  # before accept: the upgrade is answered 403
        return
    await ws.accept()
    if not channel.active:
        await ws.close(code=CLOSE_UNAVAILABLE)
        return
    client = ws.client.host if ws.client else "-"
    session = ChatSession(ws, chat, channel, client)
    try:
        await session.run()
    except (WebSocketDisconnect, RuntimeError):
        pass  # the page left or the socket broke: the page reconnects and catches up
    finally:
        session.end()


class ChatSession:
    """One open page: its visitor, its conversation, what has been pushed to it."""

    def __init__(self, ws: WebSocket, chat: ChatState, channel: WebChannel, ip: str) -> None:
        self.ws = ws
        self.chat = chat
        self.store = chat.store
        self.channel = channel
        self.ip = ip
        self.visitor: Visitor | None = None
        self.lang = "en"
        self.conversation: int | None = None
        self.cursor = 0
        self._wake = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._pusher: asyncio.Task[None] | None = None
        self._held: list[tuple[SocketCounts, str]] = []

    # -- frames ---------------------------------------------------------------------------

    async def _send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_text(json.dumps(frame, ensure_ascii=False))

    async def _receive(self) -> dict[str, Any] | None:
        """The next JSON object from the page; None for a frame that is not one (ignored)."""
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        if not isinstance(text, str) or len(text) > MAX_FRAME:
            return None
        try:
            frame = json.loads(text)
        except ValueError:
            return None
        return frame if isinstance(frame, dict) else None

    # -- the conversation -------------------------------------------------------------------

    async def _hold(self, counts: SocketCounts, key: str, cap: float) -> bool:
        """Count this socket against `key`; over the cap the page is told and the socket closed."""
        if counts.take(key, cap):
            self._held.append((counts, key))
            return True
        await self._refuse(None, "too_many_sockets")
        await self.ws.close(code=CLOSE_TOO_MANY)
        return False

    async def run(self) -> None:
        limits = self.chat.limits(self.channel).limits
        per_ip, per_visitor = self.chat.socket_counts(self.channel)
        if not await self._hold(per_ip, self.ip, limits.sockets_per_ip):
            return
        hello = None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(HELLO_S):
                while hello is None or hello.get("type") != "hello":
                    hello = await self._receive()
        if hello is None or hello.get("type") != "hello":
            await self.ws.close(code=1008)
            return
        self._identify(hello)
        assert self.visitor is not None
        if not await self._hold(per_visitor, self.visitor.key, limits.sockets_per_visitor):
            return
        last = hello.get("last_seq")
        self.cursor = last if isinstance(last, int) and not isinstance(last, bool) else 0
        self.cursor = max(0, self.cursor)
        self.conversation = await to_thread.run_sync(
            self.store.web_conversation,
            self.channel.id,
            self.visitor.conversation_id(self.channel.name),
        )
        opens = self.chat.closed_until(self.channel)
        online = opens is None and await self.chat.agents_online()
        await self._send(
            {
                "type": "welcome",
                "token": self.visitor.token,
                "online": online,
                "opens": opens,
                "pre_chat": self.conversation is None and pre_chat_on(self.channel.settings),
            }
        )
        self._pusher = asyncio.create_task(self._push_loop())
        if self.conversation is not None:
            self.chat.hub.subscribe(self.conversation, self._wake.set)
            self._wake.set()
        if not online and self.cursor == 0:
            await self._send({"type": "menu", "opens": opens})
        while True:
            frame = await self._receive()
            if frame is None:
                continue
            kind = frame.get("type")
            if kind == "send":
                await self._on_send(frame)
            elif kind == "seen":
                await self._on_seen(frame)

    def _identify(self, hello: dict[str, Any]) -> None:
        secret, name = self.channel.secret, self.channel.name
        lang = hello.get("lang")
        self.lang = "zh" if isinstance(lang, str) and lang.startswith("zh") else "en"
        self.visitor = (
            identified_visitor(secret, hello.get("identifier"), hello.get("identifier_hash"))
            or visitor_from_token(name, secret, hello.get("token"))
            or new_visitor(name, secret)
        )

    async def _on_send(self, frame: dict[str, Any]) -> None:
        assert self.visitor is not None
        client_id, text = frame.get("client_id"), frame.get("text")
        if not good_client_id(client_id) or not isinstance(text, str) or not text.strip():
            await self._refuse(client_id, "invalid")
            return
        if len(text) > MAX_TEXT:
            await self._refuse(client_id, "too_long")
            return
        form = PreChat()
        if self.conversation is None and pre_chat_on(self.channel.settings):
            checked = read_pre_chat(frame.get("name"), frame.get("order"))
            if isinstance(checked, str):
                await self._refuse(client_id, checked)
                return
            form = checked
        limits = self.chat.limits(self.channel)
        wait = limits.message(self.ip, self.visitor.key)
        if not wait and self.conversation is None:
            wait = limits.conversation(self.ip, self.visitor.key)
            if wait:
                await self._refuse(client_id, "rate_conversations", wait)
                return
        if wait:
            await self._refuse(client_id, "rate_messages", wait)
            return
        name = self.channel.name
        line: dict[str, object] = {
            "message_id": self.visitor.message_id(name, str(client_id)),
            "conversation_id": self.visitor.conversation_id(name),
            "customer": self.visitor.customer,
            "author": "customer",
            "text": text,
            "sent_at": self.store.clock.now().isoformat(),
            **form.line_fields(),
        }
        try:
            lines: list[object] = [line]
            items = await to_thread.run_sync(self.store.ingest_from_channel, self.channel.id, lines)
        except StoreError:
            await self._refuse(client_id, "unavailable")
            return
        if items[0].status == "rejected":
            await self._refuse(client_id, "invalid")
            return
        await self._send({"type": "ack", "client_id": client_id})
        if self.conversation is None:
            self.conversation = await to_thread.run_sync(
                self.store.web_conversation, self.channel.id, self.visitor.conversation_id(name)
            )
            if self.conversation is not None:
                self.chat.hub.subscribe(self.conversation, self._wake.set)
        self._wake.set()
        if items[0].status == "stored":
            opens = self.chat.closed_until(self.channel)
            if opens is not None or not await self.chat.agents_online():
                await self._auto_reply(text, opens)

    async def _auto_reply(self, text: str, opens: dict[str, Any] | None) -> None:
        """Nobody can answer now: the menu's answers from the knowledge base, or the honest
        word on when a person will (the message is in the queue with its SLA clock)."""
        asked = text.strip().lower()
        if asked in PERSON_WORDS or any(w in asked for w in PERSON_WORDS[1:]):
            await self._send({"type": "person", "soon": False, "opens": opens})
            return
        query = MENU_QUERIES[self.lang].get(asked, text[:200])
        await self._send(await self.chat.answer(query, self.lang))

    async def _refuse(self, client_id: object, code: str, wait: float = 0.0) -> None:
        frame: dict[str, Any] = {
            "type": "refused",
            "client_id": client_id if good_client_id(client_id) else None,
            "code": code,
        }
        if wait:
            frame["retry_after"] = round(wait, 1)
        await self._send(frame)

    async def _on_seen(self, frame: dict[str, Any]) -> None:
        seqs = frame.get("seqs")
        if self.conversation is None or not isinstance(seqs, list):
            return
        ids = [s for s in seqs[:SEEN_MAX] if isinstance(s, int) and not isinstance(s, bool)]
        if ids:
            with contextlib.suppress(StoreError):
                await to_thread.run_sync(self.store.web_receipts, self.conversation, ids, "read")

    # -- pushing ------------------------------------------------------------------------------

    async def _push_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._flush()
            except StoreError:
                await asyncio.sleep(1.0)
                self._wake.set()

    async def _flush(self) -> None:
        if self.conversation is None or self.visitor is None:
            return
        conversation = self.conversation
        while True:
            found = await to_thread.run_sync(self.store.web_messages, conversation, self.cursor)
            if not found:
                return
            for message in found:
                await self._send(self._frame(message))
                self.cursor = message.seq
            agents = [m.seq for m in found if m.author == "agent"]
            if agents:
                await to_thread.run_sync(self.store.web_receipts, conversation, agents, "sent")
            if len(found) < 500:
                return

    def _frame(self, message: WebMessage) -> dict[str, Any]:
        assert self.visitor is not None
        prefix = self.visitor.message_id(self.channel.name, "")
        client_id = None
        if message.author == "customer" and (message.external_id or "").startswith(prefix):
            client_id = (message.external_id or "")[len(prefix) :]
        return {
            "type": "message",
            "seq": message.seq,
            "author": message.author,
            "text": message.text,
            "name": message.agent_name,
            "client_id": client_id,
            "at": message.sent_at.isoformat(),
        }

    def end(self) -> None:
        for counts, key in self._held:
            counts.give(key)
        self._held.clear()
        if self._pusher is not None:
            self._pusher.cancel()
        if self.conversation is not None:
            self.chat.hub.unsubscribe(self.conversation, self._wake.set)


ROUTES: list[BaseRoute] = [
    Route("/chat/{name}", chat_page, methods=["GET"]),
    Route("/widget.js", widget_js, methods=["GET"]),
    Route("/widget.css", widget_css, methods=["GET"]),
    WebSocketRoute("/ws/chat/{name}", chat_socket),
]
