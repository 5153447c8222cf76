"""Gateway channels: the integrations that bring customers' messages in and take replies out.

A channel authenticates with a bearer token that the store keeps only as its sha256: whoever
reads the store (a backup, `cs-tui copy`) cannot post as the channel. The signing secret is kept
as it is, since the server signs every webhook with it; neither is ever shown after `add` or
`rotate` returned it. Channels are the whole team's set-up, so only a supervisor changes or reads
them (anyone while the team has no supervisor yet, like `agents add`).

Inbound messages go through the same ingest path as `cs-tui ingest` (IngestMixin.ingest_batch),
scoped to the channel: it speaks for customers only, and only in conversations it opened.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cs_tui.data.errors import InvalidInput, NotAllowed, NotFound
from cs_tui.data.ingest import IngestMixin
from cs_tui.data.tables import CHANNEL
from cs_tui.data.views import (
    AgentInfo,
    ChannelAuth,
    ChannelInfo,
    ChannelSecrets,
    InboundItem,
    IngestRecord,
)
from cs_tui.jsonl_lines import LineError, check_line

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}\Z")
KINDS = ("api", "web", "email")
CHANNEL_TYPES = ("chat", "ticket", "email", "social")
TOKEN_PREFIX = "cst_"
MAX_TOKEN = 200
MAX_URL = 2000


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_secret() -> str:
    return secrets.token_hex(32)


def token_hash(token: str) -> str:
    """The stored form of a token: hex sha256 (a token has 256 random bits: no salt needed)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InvalidInput(code="bad_channel_name", name=name)
    return name


def check_webhook_url(url: str | None) -> str | None:
    """http(s) with a host, nothing else: the worker POSTs customers' conversations there."""
    if url is None:
        return None
    if (
        not isinstance(url, str)
        or len(url) > MAX_URL
        or not url.isprintable()
        or any(ch.isspace() for ch in url)
    ):
        raise InvalidInput(code="bad_webhook_url")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise InvalidInput(code="bad_webhook_url") from None
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidInput(code="bad_webhook_url")
    return url


def _token_for(kind: str) -> str | None:
    """A new inbound token for an API channel; the other kinds take no API posts."""
    return new_token() if kind == "api" else None


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InvalidInput(code="unknown_channel_kind", kind=kind, known=", ".join(KINDS))


def _check_type(channel_type: str) -> None:
    if channel_type not in CHANNEL_TYPES:
        raise InvalidInput(
            code="unknown_choice",
            field="channel type",
            value=channel_type,
            known=", ".join(CHANNEL_TYPES),
        )


def channel_info(row: Any) -> ChannelInfo:
    return ChannelInfo(
        id=row.id,
        name=row.name,
        kind=row.kind,
        channel_type=row.channel_type,
        webhook_url=row.webhook_url,
        active=bool(row.active),
        created_at=row.created_at,
        updated_at=row.updated_at,
        settings=dict(row.settings or {}),
    )


def _auth(row: Any) -> ChannelAuth:
    return ChannelAuth(
        id=row.id,
        name=row.name,
        kind=row.kind,
        channel_type=row.channel_type,
        active=bool(row.active),
        secret=row.secret,
        webhook_url=row.webhook_url,
    )


NOT_CUSTOMER = (
    "only customer messages come in through a channel: an integration does not speak for agents"
)


class ChannelsMixin(IngestMixin):
    # -- who may manage channels -----------------------------------------------------------

    def _channel_manager(self, conn: Connection, actor: AgentInfo | None) -> None:
        """An active supervisor, or anyone while the team has none (the team rows are locked,
        as for agent changes, so the first supervisor's arrival is not raced)."""
        team = self._lock_team(conn, actor.id if actor else None)
        if actor is not None:
            if actor.id not in team:
                raise NotAllowed(code="not_in_team", handle=actor.handle)
            if not team[actor.id][1]:
                raise NotAllowed(code="disabled")
        supervisors = sorted(i for i, (role, on) in team.items() if role == "supervisor" and on)
        if supervisors and (actor is None or actor.id not in supervisors):
            raise NotAllowed(code="supervisor_only", what="manage channels")

    def _channel_row(self, conn: Connection, name: str, *, lock: bool = False) -> Any:
        query = sa.select(CHANNEL).where(CHANNEL.c.name == name)
        if lock:
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise NotFound(code="no_channel", name=name)
        return row

    # -- managing ------------------------------------------------------------------------------

    def add_channel(
        self,
        actor: AgentInfo | None,
        kind: str,
        name: str,
        *,
        channel_type: str = "chat",
        webhook_url: str | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> ChannelSecrets:
        """A new channel and its token and secret, returned this once."""
        _check_kind(kind)
        check_name(name)
        _check_type(channel_type)
        check_webhook_url(webhook_url)
        token, secret = _token_for(kind), new_secret()
        now = self.clock.now()
        with self._write() as conn:
            self._channel_manager(conn, actor)
            new_id = conn.execute(
                self._insert_fn()(CHANNEL)
                .values(
                    name=name,
                    kind=kind,
                    channel_type=channel_type,
                    webhook_url=webhook_url,
                    token_hash=token_hash(token) if token else None,
                    secret=secret,
                    active=True,
                    settings=dict(settings or {}),
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(CHANNEL.c.id)
            ).scalar()
            if new_id is None:
                raise InvalidInput(code="channel_exists", name=name)
            self._event(
                conn,
                actor.id if actor else None,
                "channel_added",
                None,
                {"channel": name, "kind": kind, "type": channel_type},
            )
            row = conn.execute(sa.select(CHANNEL).where(CHANNEL.c.id == new_id)).one()
        return ChannelSecrets(channel_info(row), token, secret)

    def list_channels(self, actor: AgentInfo | None) -> list[ChannelInfo]:
        self.require_supervisor(actor, "see the channels")
        with self._read() as conn:
            rows = conn.execute(sa.select(CHANNEL).order_by(CHANNEL.c.name)).all()
        return [channel_info(r) for r in rows]

    def channel(self, actor: AgentInfo | None, name: str) -> ChannelInfo:
        self.require_supervisor(actor, "see the channels")
        with self._read() as conn:
            return channel_info(self._channel_row(conn, name))

    def rotate_channel(self, actor: AgentInfo | None, name: str) -> ChannelSecrets:
        """A new token (API channels) and a new secret; the old ones stop working at once."""
        secret = new_secret()
        now = self.clock.now()
        with self._write() as conn:
            self._channel_manager(conn, actor)
            row = self._channel_row(conn, name, lock=True)
            token = _token_for(row.kind)
            conn.execute(
                sa.update(CHANNEL)
                .where(CHANNEL.c.id == row.id)
                .values(
                    token_hash=token_hash(token) if token else None,
                    secret=secret,
                    updated_at=now,
                )
            )
            self._event(
                conn, actor.id if actor else None, "channel_rotated", None, {"channel": name}
            )
            row = conn.execute(sa.select(CHANNEL).where(CHANNEL.c.id == row.id)).one()
        return ChannelSecrets(channel_info(row), token, secret)

    def set_channel_active(self, actor: AgentInfo | None, name: str, active: bool) -> ChannelInfo:
        """A disabled channel's token is refused and its deliveries wait (they go on when it is
        enabled again)."""
        now = self.clock.now()
        with self._write() as conn:
            self._channel_manager(conn, actor)
            row = self._channel_row(conn, name, lock=True)
            if bool(row.active) != active:
                conn.execute(
                    sa.update(CHANNEL)
                    .where(CHANNEL.c.id == row.id)
                    .values(active=active, updated_at=now)
                )
                self._event(
                    conn,
                    actor.id if actor else None,
                    "channel_enabled" if active else "channel_disabled",
                    None,
                    {"channel": name},
                )
            row = conn.execute(sa.select(CHANNEL).where(CHANNEL.c.id == row.id)).one()
        return channel_info(row)

    def update_channel_settings(
        self,
        actor: AgentInfo | None,
        name: str,
        changes: Mapping[str, Any],
        *,
        edit: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None,
    ) -> ChannelInfo:
        """Some of a channel's settings changed (checked by the caller for its kind), the others
        kept as they are: merged in the locked row, so two changes at once both hold. `edit`
        derives more changes from the settings as they are in the locked row (a web channel's
        origins added and removed); what it raises leaves the channel as it was."""
        now = self.clock.now()
        with self._write() as conn:
            self._channel_manager(conn, actor)
            row = self._channel_row(conn, name, lock=True)
            current = dict(row.settings or {})
            derived = dict(edit(current)) if edit is not None else {}
            changes = {**dict(changes), **derived}
            settings = {**current, **changes}
            conn.execute(
                sa.update(CHANNEL)
                .where(CHANNEL.c.id == row.id)
                .values(settings=settings, updated_at=now)
            )
            self._event(
                conn,
                actor.id if actor else None,
                "channel_changed",
                None,
                {"channel": name, "changed": sorted(changes)},
            )
            row = conn.execute(sa.select(CHANNEL).where(CHANNEL.c.id == row.id)).one()
        return channel_info(row)

    # -- the server's side ---------------------------------------------------------------------

    def channel_by_token(self, token: str) -> ChannelAuth | None:
        """The channel this bearer token opens, disabled ones included (the server answers 403
        for those), or None. The hashes are compared in constant time."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
            return None
        digest = token_hash(token)
        with self._read() as conn:
            row = conn.execute(sa.select(CHANNEL).where(CHANNEL.c.token_hash == digest)).first()
        if row is None or not hmac.compare_digest(row.token_hash or "", digest):
            return None
        return _auth(row)

    def channel_auth(self, channel_id: int) -> ChannelAuth:
        """The channel by id, with its secret (the server's and the worker's use only)."""
        with self._read() as conn:
            row = conn.execute(sa.select(CHANNEL).where(CHANNEL.c.id == channel_id)).first()
        if row is None:
            raise NotFound(code="no_channel_id", channel_id=channel_id)
        return _auth(row)

    # -- inbound ------------------------------------------------------------------------------

    def _channel_type(self, channel_id: int) -> str:
        """The SLA channel a gateway channel's conversations get. It never changes, so it is
        read once per process (single messages arrive by the thousand a second)."""
        known: dict[int, str] = self.__dict__.setdefault("_channel_types", {})
        if channel_id not in known:
            known[channel_id] = self._open_channel(channel_id).channel_type
        return known[channel_id]

    def _open_channel(self, channel_id: int) -> ChannelAuth:
        auth = self.channel_auth(channel_id)
        if not auth.active:
            raise NotAllowed(code="channel_disabled", name=auth.name)
        return auth

    def ingest_from_channel(self, channel_id: int, objects: list[object]) -> list[InboundItem]:
        """Store what an integration sent, one result per object, in the order given.

        Each object is checked like a line of `cs-tui ingest` (its `channel` may be left out:
        the channel's type fills it in). The channel speaks for customers only, and only in
        conversations it opened; a message id it sent before in the same conversation is a
        duplicate, one stored anywhere else is refused. The good items are stored in one
        transaction through the import's path, events included, so workstations see them.
        """
        channel_type = self._channel_type(channel_id)
        items: dict[int, InboundItem] = {}
        records: list[IngestRecord] = []
        positions: list[int] = []
        for index, obj in enumerate(objects):
            record_or_reason = _inbound_record(obj, channel_type)
            if isinstance(record_or_reason, str):
                items[index] = InboundItem(
                    index,
                    "rejected",
                    _field(obj, "message_id"),
                    _field(obj, "conversation_id"),
                    record_or_reason,
                )
                continue
            records.append(record_or_reason)
            positions.append(index)
        if not records:
            self._open_channel(channel_id)
        else:
            # (the batch's transaction checks the channel is still active)
            result = self.ingest_batch(records, source_id=channel_id)
            refused = {id(r): reason for r, reason in result.refused}
            for index, record in zip(positions, records, strict=True):
                if id(record) in refused:
                    status, reason = "rejected", refused[id(record)]
                elif id(record) in result.duplicate_records:
                    status, reason = "duplicate", None
                else:
                    status, reason = "stored", None
                items[index] = InboundItem(
                    index, status, record.message_id, record.conversation_id, reason
                )
        return [items[i] for i in range(len(objects))]


def _field(obj: object, key: str) -> str | None:
    """An id the caller sent, to name a rejected item by (only if it is a short string)."""
    if isinstance(obj, dict):
        value = obj.get(key)
        if isinstance(value, str) and len(value) <= 200 and value.isprintable():
            return value
    return None


def _inbound_record(obj: object, channel_type: str) -> IngestRecord | str:
    """The checked record, or why the object is refused."""
    if isinstance(obj, dict):
        given = obj.get("channel", None)
        if given is None:
            obj = {**obj, "channel": channel_type}
        elif given != channel_type:
            return f"'channel' must be this channel's type ({channel_type}) or left out"
    try:
        record = check_line(obj)
    except LineError as exc:
        return str(exc)
    if record.author != "customer":
        return NOT_CUSTOMER
    # An agent named on a customer's line would be registered on first sight by the import's
    # path: a channel does not add people to the team.
    record.agent = None
    return record
