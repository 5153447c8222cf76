"""The e-mail channel's rows: IMAP cursors, mails' ids and whole texts, threads and bounces.

A fetched mail enters through the channel ingest path (IngestMixin.ingest_batch with the
channel as its source: the same checks as `cs-tui ingest`, one place where a message becomes a
conversation). Its message id is derived from the channel and the mail's Message-ID, so a mail
fetched twice (a fetch killed halfway, a UIDVALIDITY change) is a duplicate, never a second
message; the mail_message row and the cursor are written after it, each idempotent.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Set
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cs_tui.data.coltypes import MAX_ROW_ID
from cs_tui.data.delivery_rows import queue_delivery
from cs_tui.data.errors import InvalidInput
from cs_tui.data.ingest import IngestMixin
from cs_tui.data.outbox import OutboxMixin, delivery_parts
from cs_tui.data.queries import MESSAGE_WINDOW
from cs_tui.data.tables import CHANNEL, CONV, CUST, DELIVERY, MAIL_CURSOR, MAIL_MESSAGE, MSG
from cs_tui.data.views import AgentInfo, ConversationDetail
from cs_tui.jsonl_lines import LineError, check_line

_OUR_RANDOM_ID = re.compile(r"<cs\.delivery\.[0-9a-f]{32}@[^<>\s@]{1,253}>")


def is_random_reply_id(mail_id: str) -> bool:
    """One of our Message-IDs as they are made now (cs_tui.channels.email_send.outgoing_id:
    128 random bits). A store upgraded from the version that numbered them
    (`<cs.delivery.N@domain>`) still holds such ids: anyone can write one, so they name no
    reply of ours to a bounce, and a reply is not sent again under one."""
    return _OUR_RANDOM_ID.fullmatch(mail_id) is not None


def _legacy_reply_id(mail_id: str) -> bool:
    """A reply id numbered by an older version: anyone can write one (see is_random_reply_id)."""
    return mail_id.startswith("<cs.delivery.") and not is_random_reply_id(mail_id)


def mail_key(channel_id: int, mail_id: str) -> str:
    """The message (and new conversation) external id of a mail: at most 200 characters."""
    key = f"mail:{channel_id}:{mail_id}"
    if len(key) <= 200 and key.isprintable():
        return key
    return f"mail:{channel_id}:#" + hashlib.sha256(mail_id.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class IncomingMail:
    """One parsed mail as the store takes it (cs_tui.channels.email_fetch builds it)."""

    mail_id: str
    sender: str
    sender_name: str | None
    subject: str
    sent_at: datetime
    text: str  # what the transcript shows
    full_text: str  # with the quoted history and signature
    author: str  # customer | system
    thread_ids: tuple[str, ...]
    tag: int | None  # the [#id] in the subject
    attachments: tuple[dict[str, Any], ...] = ()
    robot: bool = False  # sent by a machine (absence note, bounce, list): no answer is owed
    no_auto_answer: bool = False  # a person's mail that must get no automatic answer (list mail)
    note: dict[str, Any] | None = None  # the channel's notes in `text`, as codes (email_notes)


@dataclass(frozen=True)
class ReplyContext:
    """What an agent's reply needs to leave as a threaded e-mail (cs_tui.channels.email_send)."""

    delivery_id: int
    channel_id: int
    settings: dict[str, Any]
    conversation_id: int
    message_id: int
    customer: str
    customer_name: str | None
    subject: str
    in_reply_to: str | None
    references: tuple[str, ...]
    text: str
    sent_at: datetime
    mail_id: str | None = None
    """The Message-ID an earlier attempt of this delivery recorded: every attempt sends the
    same one (a receiver that got the mail twice can tell), and bounces find the reply by it."""
    automatic: bool = False
    """A message the channel wrote by itself (the acknowledgement of a new mail), not an
    agent's reply: it leaves marked `Auto-Submitted: auto-replied`."""


@dataclass(frozen=True)
class MailStored:
    """What became of one fetched mail in the store."""

    conversation_id: int
    status: str  # stored | duplicate
    opened: bool = False  # this mail opened the conversation (it was not threaded)


class MailMixin(OutboxMixin, IngestMixin):
    # -- cursors ----------------------------------------------------------------------------

    def mail_cursor(self, channel_id: int, folder: str) -> tuple[int, int] | None:
        """(UIDVALIDITY, last UID stored) of a folder, or None before its first fetch."""
        with self._read() as conn:
            row = conn.execute(
                sa.select(MAIL_CURSOR.c.uidvalidity, MAIL_CURSOR.c.last_uid).where(
                    MAIL_CURSOR.c.channel_id == channel_id, MAIL_CURSOR.c.folder == folder
                )
            ).first()
        return (int(row.uidvalidity), int(row.last_uid)) if row else None

    def set_mail_cursor(
        self, channel_id: int, folder: str, uidvalidity: int, last_uid: int
    ) -> None:
        now = self.clock.now()
        with self._write() as conn:
            values = {"uidvalidity": uidvalidity, "last_uid": last_uid, "updated_at": now}
            conn.execute(
                self._insert_fn()(MAIL_CURSOR)
                .values(channel_id=channel_id, folder=folder, **values)
                .on_conflict_do_update(index_elements=["channel_id", "folder"], set_=values)
            )

    # -- what is known ----------------------------------------------------------------------

    def known_mail_ids(self, channel_id: int, mail_ids: list[str]) -> set[str]:
        """Those of these Message-IDs whose mail this channel has stored."""
        if not mail_ids:
            return set()
        keys = {mail_key(channel_id, m): m for m in mail_ids}
        with self._read() as conn:
            found = set(
                conn.execute(
                    sa.select(MSG.c.external_id).where(MSG.c.external_id.in_(list(keys)))
                ).scalars()
            )
            found |= set(
                conn.execute(
                    sa.select(MAIL_MESSAGE.c.mail_id).where(
                        MAIL_MESSAGE.c.channel_id == channel_id,
                        MAIL_MESSAGE.c.mail_id.in_([m[:300] for m in mail_ids]),
                    )
                ).scalars()
            )
        return {m for k, m in keys.items() if k in found or m[:300] in found}

    def _thread_conversation(self, channel_id: int, mail: IncomingMail) -> tuple[str, str] | None:
        """The conversation a mail answers, by In-Reply-To/References, then the subject tag:
        (its external id, its customer's handle).

        Headers thread only by a Message-ID this channel stored or sent (ours carry random
        bytes: cs_tui.channels.email_send.outgoing_id), so they cannot be guessed. The subject
        tag `[#N]` is typed text anyone can write: it is trusted only when the sender is the
        conversation's customer, so a stranger's (or a robot's) mail saying `[#N]` opens a
        conversation of its own instead of being filed in N. A numbered reply id of an older
        version (`<cs.delivery.N@domain>`, still in upgraded stores) is as guessable as a tag
        and trusted the same way."""
        if not mail.thread_ids and mail.tag is None:
            return None
        joined = MAIL_MESSAGE.join(CONV, CONV.c.id == MAIL_MESSAGE.c.conversation_id).join(
            CUST, CUST.c.id == CONV.c.customer_id
        )
        with self._read() as conn:
            if mail.thread_ids:
                ids = [m[:300] for m in mail.thread_ids]
                rows = conn.execute(
                    sa.select(MAIL_MESSAGE.c.mail_id, CONV.c.external_id, CUST.c.handle)
                    .select_from(joined)
                    .where(MAIL_MESSAGE.c.channel_id == channel_id, MAIL_MESSAGE.c.mail_id.in_(ids))
                ).all()
                by_id = {r.mail_id: (str(r.external_id), str(r.handle)) for r in rows}
                for mid in ids:
                    if mid in by_id and (
                        not _legacy_reply_id(mid) or _same_address(by_id[mid][1], mail.sender)
                    ):
                        return by_id[mid]
            if mail.tag is not None and 0 < mail.tag <= MAX_ROW_ID:  # (larger: not an id)
                row = conn.execute(
                    sa.select(CONV.c.external_id, CUST.c.handle)
                    .select_from(CONV.join(CUST, CUST.c.id == CONV.c.customer_id))
                    .where(CONV.c.id == mail.tag, CONV.c.source_id == channel_id)
                ).first()
                if row is not None and _same_address(str(row.handle), mail.sender):
                    return str(row.external_id), str(row.handle)
        return None

    # -- storing ----------------------------------------------------------------------------

    def _mail_channel_type(self, channel_id: int) -> str:
        """The SLA channel of the conversations it opens (it never changes: read once)."""
        known: dict[int, str] = self.__dict__.setdefault("_mail_channel_types", {})
        if channel_id not in known:
            with self._read() as conn:
                found = conn.execute(
                    sa.select(CHANNEL.c.channel_type).where(CHANNEL.c.id == channel_id)
                ).scalar()
            known[channel_id] = str(found or "email")
        return known[channel_id]

    def mail_channel_type(self, channel_id: int) -> str:
        """The SLA channel of the conversations an e-mail channel opens (`--type`)."""
        return self._mail_channel_type(channel_id)

    def store_mail(self, channel_id: int, mail: IncomingMail) -> MailStored:
        """Store one mail in its thread (or a new conversation), once."""
        key = mail_key(channel_id, mail.mail_id)
        channel_type = self._mail_channel_type(channel_id)
        thread = self._thread_conversation(channel_id, mail)
        tries: list[tuple[str, str]] = []
        if thread is not None:
            # A machine's note about the thread (a bounce, an absence) is filed under the
            # thread's customer; a person writing from another address starts their own.
            tries.append((thread[0], thread[1] if mail.author == "system" else mail.sender))
        tries.append((key, mail.sender))
        result = None
        opened = False
        for conversation, customer in tries:
            record = _record(mail, key, conversation, channel_type, customer)
            outcome = self.ingest_batch([record], source_id=channel_id)
            if not outcome.refused:
                result = "duplicate" if outcome.duplicate_records else "stored"
                opened = result == "stored" and conversation == key
                break
        if result is None:
            raise InvalidInput("the mail could not be stored in any conversation")
        with self._write() as conn:
            row = conn.execute(
                sa.select(MSG.c.id, MSG.c.conversation_id).where(MSG.c.external_id == key)
            ).one()
            conn.execute(
                self._insert_fn()(MAIL_MESSAGE)
                .values(
                    channel_id=channel_id,
                    conversation_id=row.conversation_id,
                    message_id=row.id,
                    mail_id=mail.mail_id[:300],
                    direction="in",
                    subject=mail.subject[:1000],
                    full_text=mail.full_text,
                    attachments=list(mail.attachments),
                    note=mail.note,
                    created_at=self.clock.now(),
                )
                .on_conflict_do_nothing(index_elements=["channel_id", "mail_id"])
            )
            if mail.robot and result == "stored":
                self._no_clock_for_robots(conn, int(row.conversation_id))
        return MailStored(int(row.conversation_id), result, opened)

    def store_mails(
        self, channel_id: int, mails: list[IncomingMail]
    ) -> list[MailStored | InvalidInput]:
        """Several mails at once, each in its thread or a new conversation, each once: one
        ingest transaction and one for their mail rows (a fetch stores dozens a second this
        way, not one transaction triple per mail). A mail the batch cannot take (its thread
        is another customer's) is then stored alone as store_mail does; a mail no
        conversation takes gets its error in its place."""
        channel_type = self._mail_channel_type(channel_id)
        out: list[MailStored | InvalidInput | None] = [None] * len(mails)
        records: list[Any] = []
        places: list[int] = []
        here: dict[str, tuple[str, str]] = {}  # threads begun earlier in this batch
        opening: set[int] = set()  # mails that open a conversation of their own
        for index, mail in enumerate(mails):
            key = mail_key(channel_id, mail.mail_id)
            thread = self._thread_conversation(channel_id, mail)
            if thread is None:
                thread = next((here[m] for m in mail.thread_ids if m in here), None)
            conversation, customer = key, mail.sender
            if thread is not None:
                conversation = thread[0]
                customer = thread[1] if mail.author == "system" else mail.sender
            try:
                records.append(_record(mail, key, conversation, channel_type, customer))
            except InvalidInput as exc:
                out[index] = exc
                continue
            places.append(index)
            if conversation == key:
                opening.add(index)
            here[mail.mail_id[:300]] = (conversation, customer)
        result = self.ingest_batch(records, source_id=channel_id)
        refused = {id(r) for r, _ in result.refused}
        written: dict[int, str] = {}
        alone: list[int] = []
        for record, index in zip(records, places, strict=True):
            if id(record) in refused:
                alone.append(index)
            else:
                written[index] = "duplicate" if id(record) in result.duplicate_records else "stored"
        if written:
            self._mail_rows(channel_id, mails, written, out, opening)
        for index in alone:
            try:
                out[index] = self.store_mail(channel_id, mails[index])
            except InvalidInput as exc:
                out[index] = exc
        return [x if x is not None else InvalidInput("the mail was not stored") for x in out]

    def _mail_rows(
        self,
        channel_id: int,
        mails: list[IncomingMail],
        written: dict[int, str],
        out: list[MailStored | InvalidInput | None],
        opening: Set[int] = frozenset(),
    ) -> None:
        """The mail rows of stored messages, in one transaction (idempotent per Message-ID)."""
        keys = {mail_key(channel_id, mails[i].mail_id): i for i in written}
        now = self.clock.now()
        with self._write() as conn:
            found = {
                r.external_id: r
                for r in conn.execute(
                    sa.select(MSG.c.external_id, MSG.c.id, MSG.c.conversation_id).where(
                        MSG.c.external_id.in_(list(keys))
                    )
                )
            }
            values = []
            for key, index in keys.items():
                row = found.get(key)
                if row is None:  # (cannot happen: the batch stored or had it)
                    out[index] = InvalidInput("the mail was not stored")
                    continue
                mail = mails[index]
                values.append(
                    {
                        "channel_id": channel_id,
                        "conversation_id": row.conversation_id,
                        "message_id": row.id,
                        "delivery_id": None,
                        "mail_id": mail.mail_id[:300],
                        "direction": "in",
                        "subject": mail.subject[:1000],
                        "full_text": mail.full_text,
                        "attachments": list(mail.attachments),
                        "note": mail.note,
                        "created_at": now,
                    }
                )
                out[index] = MailStored(
                    int(row.conversation_id),
                    written[index],
                    written[index] == "stored" and index in opening,
                )
            if values:
                conn.execute(
                    self._insert_fn()(MAIL_MESSAGE).on_conflict_do_nothing(
                        index_elements=["channel_id", "mail_id"]
                    ),
                    values,
                )
            for index in written:
                stored = out[index]
                if (
                    mails[index].robot
                    and written[index] == "stored"
                    and isinstance(stored, MailStored)
                ):
                    self._no_clock_for_robots(conn, stored.conversation_id)

    def _no_clock_for_robots(self, conn: Connection, conversation_id: int) -> None:
        """A conversation that only a machine wrote to (an absence note, a bounce) is stored
        closed: it owes no one an answer, so no SLA clock runs.
        It stays in the customer's history; a person's mail into it opens it again."""
        before = self._lock(conn, conversation_id)
        if before["status"] != "new" or before.get("first_customer_at") is not None:
            return
        row = dict(before)
        row["status"] = "closed"
        now = self.clock.now()
        self._save(conn, before, row, now)
        self._event(conn, None, "close", conversation_id, {"reason": "automatic mail"})

    def conversation(
        self,
        conversation_id: int,
        *,
        viewer: AgentInfo | None = None,
        message_limit: int = MESSAGE_WINDOW,
    ) -> ConversationDetail:
        """As every conversation, with the e-mail channel's notes in the mails shown (as
        codes: the transcript translates them); one indexed read, only when mails are shown."""
        detail = super().conversation(conversation_id, viewer=viewer, message_limit=message_limit)
        shown = [m.id for m in detail.messages if (m.external_id or "").startswith("mail:")]
        if not shown:
            return detail
        with self._read() as conn:
            rows = conn.execute(
                sa.select(MAIL_MESSAGE.c.message_id, MAIL_MESSAGE.c.note).where(
                    MAIL_MESSAGE.c.conversation_id == conversation_id,
                    MAIL_MESSAGE.c.message_id.in_(shown),
                )
            ).all()
        notes = {int(r.message_id): r.note for r in rows if isinstance(r.note, dict)}
        return replace(detail, mail_notes=notes) if notes else detail

    def mail_texts(
        self, message_id: int, conversation_id: int | None = None
    ) -> dict[str, Any] | None:
        """The whole text (quoted history and signature included), subject and attachments of
        a message that came by e-mail: what `v` shows beside the transcript's new text.
        With its conversation the read takes the conversation's index (the workstation knows
        it; message_id alone is not indexed)."""
        where = [MAIL_MESSAGE.c.message_id == message_id]
        if conversation_id is not None:
            where.append(MAIL_MESSAGE.c.conversation_id == conversation_id)
        with self._read() as conn:
            row = conn.execute(
                sa.select(
                    MAIL_MESSAGE.c.subject,
                    MAIL_MESSAGE.c.full_text,
                    MAIL_MESSAGE.c.attachments,
                    MAIL_MESSAGE.c.note,
                ).where(*where)
            ).first()
        if row is None:
            return None
        return {
            "subject": row.subject,
            "full_text": row.full_text,
            "attachments": list(row.attachments or []),
            "note": row.note if isinstance(row.note, dict) else None,
        }

    # -- deleting ---------------------------------------------------------------------------

    def delete_conversation(self, actor: AgentInfo, conversation_id: int) -> None:
        """As every deletion, and the files its mails left under the data directory go too:
        the saved attachments and the quarantined mails (a deleted conversation keeps no
        customer content anywhere). The files are named by the mail rows, read before the
        rows go; they are removed only once the delete is committed."""
        with self._read() as conn:
            lists = conn.execute(
                sa.select(MAIL_MESSAGE.c.attachments).where(
                    MAIL_MESSAGE.c.conversation_id == conversation_id
                )
            ).scalars()
            paths = [a.get("path") for items in lists for a in (items or []) if isinstance(a, dict)]
        super().delete_conversation(actor, conversation_id)
        remove_mail_files([p for p in paths if isinstance(p, str) and p])

    # -- bounces ----------------------------------------------------------------------------

    def mail_bounced(self, channel_id: int, original_id: str, reason: str) -> int | None:
        """A delivery status notification for one of our replies: its delivery is failed with
        the reason (the conversation tops its owner's queue). The delivery id, or None (also
        for an id that is not of our random form: see is_random_reply_id)."""
        if not is_random_reply_id(original_id):
            return None  # not one of ours, or one that can be guessed
        now = self.clock.now()
        with self._write() as conn:
            delivery_id = conn.execute(
                sa.select(MAIL_MESSAGE.c.delivery_id).where(
                    MAIL_MESSAGE.c.channel_id == channel_id,
                    MAIL_MESSAGE.c.mail_id == original_id[:300],
                    MAIL_MESSAGE.c.direction == "out",
                )
            ).scalar()
            if delivery_id is None:
                return None
            row = conn.execute(
                sa.select(DELIVERY).where(DELIVERY.c.id == delivery_id).with_for_update()
            ).first()
            if row is None or row.status == "failed":
                return None
            self._set_failed(conn, row, f"bounced: {reason}"[:300], None, now)
            return int(delivery_id)

    # -- replies ----------------------------------------------------------------------------

    def reply_context(self, delivery_id: int) -> ReplyContext:
        """The reply of an e-mail delivery with its thread; LookupError when it is gone."""
        with self._read() as conn:
            row = conn.execute(
                sa.select(
                    DELIVERY.c.channel_id,
                    DELIVERY.c.conversation_id,
                    DELIVERY.c.message_id,
                    CHANNEL.c.settings,
                    MSG.c.body,
                    MSG.c.sent_at,
                    MSG.c.author_kind,
                    CUST.c.handle,
                    CUST.c.name,
                )
                .select_from(delivery_parts())
                .where(DELIVERY.c.id == delivery_id, CHANNEL.c.kind == "email")
            ).first()
            if row is None:
                raise LookupError(delivery_id)
            thread = conn.execute(
                sa.select(
                    MAIL_MESSAGE.c.mail_id,
                    MAIL_MESSAGE.c.direction,
                    MAIL_MESSAGE.c.subject,
                    MAIL_MESSAGE.c.delivery_id,
                )
                .where(
                    MAIL_MESSAGE.c.conversation_id == row.conversation_id,
                    MAIL_MESSAGE.c.channel_id == row.channel_id,
                )
                .order_by(MAIL_MESSAGE.c.id)
            ).all()
        mine = next(
            (
                t.mail_id
                for t in thread
                if t.delivery_id == delivery_id and is_random_reply_id(t.mail_id)
            ),
            None,
        )  # (an attempt under a legacy id gets a new one: it is recorded, and kept after)
        thread = [t for t in thread if t.delivery_id != delivery_id]
        incoming = [t for t in thread if t.direction == "in"]
        last = incoming[-1] if incoming else None
        return ReplyContext(
            delivery_id=delivery_id,
            channel_id=int(row.channel_id),
            settings=dict(row.settings or {}),
            conversation_id=int(row.conversation_id),
            message_id=int(row.message_id),
            customer=str(row.handle),
            customer_name=row.name if row.name and row.name != row.handle else None,
            subject=next((t.subject for t in reversed(incoming) if t.subject), ""),
            in_reply_to=last.mail_id if last else None,
            references=tuple(
                t.mail_id for t in thread if last is None or t.mail_id != last.mail_id
            )[-19:],
            text=str(row.body),
            sent_at=row.sent_at,
            mail_id=mine,
            automatic=row.author_kind == "system",
        )

    def record_outgoing_mail(self, ctx: ReplyContext, mail_id: str, subject: str) -> None:
        """Our reply's Message-ID, written before it is sent: the customer's answer (or a
        bounce) finds the conversation by it."""
        with self._write() as conn:
            conn.execute(
                self._insert_fn()(MAIL_MESSAGE)
                .values(
                    channel_id=ctx.channel_id,
                    conversation_id=ctx.conversation_id,
                    message_id=ctx.message_id,
                    delivery_id=ctx.delivery_id,
                    mail_id=mail_id[:300],
                    direction="out",
                    subject=subject[:1000],
                    full_text=ctx.text,
                    attachments=[],
                    created_at=self.clock.now(),
                )
                .on_conflict_do_nothing(index_elements=["channel_id", "mail_id"])
            )

    # -- the acknowledgement of a new mail ----------------------------------------------------

    def queue_mail_ack(
        self, channel_id: int, conversation_id: int, text: str, *, every_s: float
    ) -> int | None:
        """Queue the channel's acknowledgement of a conversation's first mail: a system message
        (it stops no SLA clock: no person has answered) with its delivery, sent by the worker
        like a reply. At most one per conversation (its message id is derived from the
        conversation's), and none when this customer's address was acknowledged on this
        channel within `every_s`: a robot that answers without saying so, each time as a new
        conversation, gets one acknowledgement, not a loop. The delivery id, or None."""
        now = self.clock.now()
        with self._write() as conn:
            before = self._lock(conn, conversation_id)
            if before.get("source_id") != channel_id:
                return None
            key = f"mail-ack:{channel_id}:{conversation_id}"
            if conn.execute(sa.select(MSG.c.id).where(MSG.c.external_id == key)).first():
                return None
            handle = conn.execute(
                sa.select(CUST.c.handle).where(CUST.c.id == before["customer_id"])
            ).scalar_one()
            since = now - timedelta(seconds=every_s)
            recent = conn.execute(
                sa.select(DELIVERY.c.id)
                .select_from(
                    DELIVERY.join(MSG, MSG.c.id == DELIVERY.c.message_id)
                    .join(CONV, CONV.c.id == DELIVERY.c.conversation_id)
                    .join(CUST, CUST.c.id == CONV.c.customer_id)
                )
                .where(
                    DELIVERY.c.channel_id == channel_id,
                    DELIVERY.c.created_at >= since,
                    MSG.c.author_kind == "system",
                    MSG.c.external_id.like("mail-ack:%"),
                    sa.func.lower(CUST.c.handle) == str(handle).lower(),
                )
                .limit(1)
            ).first()
            if recent is not None:
                return None
            row = dict(before)
            message_id = self._insert_message(conn, row, "system", None, text, now, key)
            row["preview"] = before.get("preview")  # the queue shows the customer's words
            delivery_id = queue_delivery(self, conn, row, message_id, now)
            self._save(conn, before, row, now)
            self._event(conn, None, "mail_ack", conversation_id, {"message_id": message_id})
            return delivery_id

    def mail_channel_state(self, channel_id: int) -> tuple[bool, dict[str, Any]]:
        """Whether an e-mail channel is active, and its settings as they are now: a fetcher
        reads them each round, so `channels set` reaches a running serve."""
        with self._read() as conn:
            row = conn.execute(
                sa.select(CHANNEL.c.active, CHANNEL.c.settings).where(CHANNEL.c.id == channel_id)
            ).first()
        if row is None:
            return False, {}
        return bool(row.active), dict(row.settings or {})

    def email_channels(self) -> list[tuple[int, str, dict[str, Any]]]:
        """Active e-mail channels: (id, name, settings), for `serve`'s fetchers."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(CHANNEL.c.id, CHANNEL.c.name, CHANNEL.c.settings)
                .where(CHANNEL.c.kind == "email", CHANNEL.c.active.is_(True))
                .order_by(CHANNEL.c.id)
            ).all()
        return [(int(r.id), str(r.name), dict(r.settings or {})) for r in rows]


def remove_mail_files(paths: list[str]) -> int:
    """Remove the saved attachments and quarantined mails named, and the folders they leave
    empty: only regular files inside a `mail/attachments` or `mail/quarantine` folder (a path
    that points elsewhere is never touched). A file already gone, or on another host's data
    directory, is skipped. The number removed."""
    removed = 0
    for name in paths:
        path = Path(name)
        parts = path.parts
        inside = any(
            parts[i] == "mail" and parts[i + 1] in ("attachments", "quarantine")
            for i in range(len(parts) - 2)
        )
        if not inside or ".." in parts or not path.is_absolute():
            continue
        try:
            if path.is_file() and not path.is_symlink():
                path.unlink()
                removed += 1
        except OSError:
            continue
        folder = path.parent
        if folder.parent.parent.name == "attachments":  # attachments/<channel>/<mail>/
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
    return removed


def _same_address(a: str, b: str) -> bool:
    """Two e-mail addresses of one mailbox (the domain is case-blind; local parts are
    compared case-blind too, as every common provider treats them)."""
    return a.strip().lower() == b.strip().lower()


def _record(
    mail: IncomingMail, key: str, conversation: str, channel_type: str, customer: str
) -> Any:
    obj = {
        "message_id": key,
        "conversation_id": conversation,
        "channel": channel_type,
        "customer": customer,
        "customer_name": mail.sender_name,
        "author": mail.author,
        "text": mail.text or "(empty mail)",
        "sent_at": mail.sent_at.isoformat(),
    }
    if not mail.sender_name:
        del obj["customer_name"]
    try:
        return check_line(obj)
    except LineError as exc:
        raise InvalidInput(f"the mail could not be stored: {exc}") from None
