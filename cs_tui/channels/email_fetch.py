"""Fetch an e-mail channel's mailbox into the store, with the standard library's imaplib.

One pass (`fetch_once`):
- log in (imaps: TLS; imap: STARTTLS when the server offers it), select the folder, read its
  UIDVALIDITY. The cursor (UIDVALIDITY, last UID stored) says where the last pass stopped; a
  new UIDVALIDITY means the server renumbered the folder, so it is read again from the start,
  and the Message-IDs already stored keep every mail from being stored twice.
- headers first: for the new UIDs, the size and the Message-ID only (BODY.PEEK, nothing is
  marked read); the whole mail is fetched only when its Message-ID is new for the channel.
- a mail over the size limit becomes a stub naming its size (the original stays on the
  server); a mail that cannot be parsed is saved whole to the quarantine folder and named in
  a system message; either way the next mails are fetched.
- stored mails are marked \\Seen and the cursor moves past them every few mails, so a pass
  killed halfway starts near the last mail it stored (and a mail stored but not yet passed by
  the cursor is found by its Message-ID: stored once).

`run` repeats passes until told to stop: with IMAP IDLE when the server has it (woken by new
mail, and left after `poll_s` at the latest), else every `poll_s`. Each pass begins by reading
the channel's settings again (`refresh`), so a change made while serve runs applies from the
next round. Nothing a customer wrote is logged.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import logging
import re
import select
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cs_tui.channels import email_notes as notes
from cs_tui.channels.email_ack import ACK_EVERY_S, acknowledgement, language_of
from cs_tui.channels.email_config import EmailConfigError, EmailSettings, settings_of, size_text
from cs_tui.channels.email_parse import (
    MailParseError,
    ParsedMail,
    derived_id,
    header_message_id,
    parse_mail,
)
from cs_tui.channels.email_send import OUR_ID_PREFIX
from cs_tui.data.errors import NotAllowed, StoreError, StoreUnavailable
from cs_tui.data.mail_store import IncomingMail, MailStored
from cs_tui.data.store import Store

log = logging.getLogger("cs_tui.channels.email")
CHUNK = 200
MARK_EVERY = 20  # stored mails marked \Seen and passed by the cursor together
IDLE_MAX_S = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
_FETCH_ITEM = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_SENDER = re.compile(rb"^From:.*?([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+)", re.I | re.M)
# A store that is away, or the channel disabled meanwhile: the round stops and the mail is
# fetched again later, never quarantined for it (every other error is the mail's own).
_NOT_THE_MAIL = (StoreUnavailable, NotAllowed)


class MailboxError(Exception):
    """The mailbox could not be read (login refused, folder missing, connection lost)."""


@dataclass
class FetchStats:
    seen: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    too_big: int = 0


def connect_imap(settings: EmailSettings, password: str, timeout: float = 30.0) -> imaplib.IMAP4:
    """A logged-in IMAP connection. With the channel's `require_tls`, an imap:// server that
    offers no STARTTLS is left before the password is sent."""
    end = settings.imap
    try:
        if end.tls:
            imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                end.host, end.port, ssl_context=ssl.create_default_context(), timeout=timeout
            )
        else:
            imap = imaplib.IMAP4(end.host, end.port, timeout=timeout)
            if "STARTTLS" in imap.capabilities:
                imap.starttls(ssl.create_default_context())
            elif settings.require_tls:
                with contextlib.suppress(Exception):
                    imap.logout()
                raise MailboxError(
                    "the IMAP server offers no STARTTLS and the channel requires TLS: not logged in"
                )
        imap.login(end.user, password)
    except imaplib.IMAP4.error as exc:
        raise MailboxError(f"IMAP login refused: {_line(exc)}") from None
    except (OSError, ssl.SSLError) as exc:
        raise MailboxError(f"IMAP connection failed: {_line(exc)}") from None
    return imap


def _line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


class MailFetcher:
    def __init__(
        self,
        store: Store,
        channel_id: int,
        settings: EmailSettings,
        password: str,
        data_dir: Path,
        *,
        use_idle: bool = True,
    ) -> None:
        self.store = store
        self.use_idle = use_idle
        self.channel_id = channel_id
        self.settings = settings
        self.password = password
        self.quarantine_dir = data_dir / "mail" / "quarantine" / str(channel_id)
        self.attachments_dir = data_dir / "mail" / "attachments" / str(channel_id)
        self.imap: imaplib.IMAP4 | None = None
        self.uidvalidity = 0
        self._said: str | None = None  # the last complaint about the stored settings
        self._stored: dict[str, Any] | None = None  # the stored settings last looked at

    # -- connection -------------------------------------------------------------------------

    def open(self) -> imaplib.IMAP4:
        if self.imap is None:
            self.imap = connect_imap(self.settings, self.password)
            status, _ = self.imap.select(_quoted(self.settings.folder))
            if status != "OK":
                self.close()
                raise MailboxError(f"folder {self.settings.folder!r} cannot be selected")
            self.uidvalidity = _uidvalidity(self.imap)
        return self.imap

    def close(self) -> None:
        imap, self.imap = self.imap, None
        if imap is not None:
            with contextlib.suppress(Exception):
                imap.logout()

    def refresh(self) -> None:
        """Take the channel's settings as they are now (read at the start of every pass, so a
        `channels set` while serve runs applies from the next poll or IDLE round). A change
        to how the mailbox is reached (server, TLS requirement, folder, password source)
        closes the connection: the pass opens a new one under the new settings. NotAllowed
        when the channel is disabled; settings that cannot be used are logged and the ones
        in use kept."""
        active, stored = self.store.mail_channel_state(self.channel_id)
        if not active:
            raise NotAllowed(code="channel_disabled", name=str(self.channel_id))
        if stored == self._stored:
            return
        self._stored = stored
        try:
            fresh = settings_of(stored)
        except EmailConfigError as exc:
            self._say_once(f"new settings not usable ({exc}): the ones in use are kept")
            return
        if fresh == self.settings:
            return
        password = self.password
        if _password_source(fresh) != _password_source(self.settings):
            try:
                password = fresh.password()
            except EmailConfigError as exc:
                self._say_once(f"new settings not usable ({exc}): the ones in use are kept")
                return
        reconnect = _mailbox_of(fresh) != _mailbox_of(self.settings) or password != self.password
        self.settings, self.password = fresh, password
        self._said = None
        if reconnect and self.imap is not None:
            log.info("channel %d: settings changed: connecting again", self.channel_id)
            self.close()
        else:
            log.info("channel %d: settings changed", self.channel_id)

    def _say_once(self, text: str) -> None:
        if text != self._said:
            log.warning("channel %d: %s", self.channel_id, text)
            self._said = text

    # -- one pass ---------------------------------------------------------------------------

    def fetch_once(self) -> FetchStats:
        """One pass over the folder (see the module's doc). NotAllowed when the channel has
        been disabled: nothing is fetched, marked or moved until it is enabled again."""
        stats = FetchStats()
        self.refresh()
        imap = self.open()
        imap.noop()  # brings the server's news (EXISTS) before the search
        cursor = self.store.mail_cursor(self.channel_id, self.settings.folder)
        last = cursor[1] if cursor and cursor[0] == self.uidvalidity else 0
        if cursor is None or cursor[0] != self.uidvalidity:
            self.store.set_mail_cursor(self.channel_id, self.settings.folder, self.uidvalidity, 0)
        uids = self._search(imap, last)
        done: list[int] = []
        pending: list[tuple[int, bytes, IncomingMail]] = []
        for start in range(0, len(uids), CHUNK):
            part = uids[start : start + CHUNK]
            heads = self._heads(imap, part)
            known = self.store.known_mail_ids(self.channel_id, [m for _, m in heads.values() if m])
            for uid in part:
                size, mail_id = heads.get(uid, (0, None))
                stats.seen += 1
                if mail_id is not None and mail_id in known:
                    stats.duplicates += 1
                elif size > self.settings.max_bytes:
                    self._too_big(imap, uid, size, mail_id)
                    stats.too_big += 1
                else:
                    raw = self._whole(imap, uid)
                    if raw is None:
                        continue  # expunged meanwhile
                    self._count(stats, self._prepare(raw, uid, pending))
                done.append(uid)
                if len(done) >= MARK_EVERY:
                    self._store_pending(pending, stats)
                    self._passed(imap, done)
            self._store_pending(pending, stats)
            self._passed(imap, done)
        return stats

    @staticmethod
    def _count(stats: FetchStats, outcome: str | None) -> None:
        if outcome == "quarantined":
            stats.quarantined += 1
        elif outcome == "duplicate":
            stats.duplicates += 1
        elif outcome == "stored":
            stats.stored += 1

    def _store_pending(
        self, pending: list[tuple[int, bytes, IncomingMail]], stats: FetchStats
    ) -> None:
        """The parsed mails waiting, stored together (before the cursor passes them). Should
        the batch fail for a reason other than the store being away, each is taken alone, so
        only the mail at fault is quarantined."""
        if not pending:
            return
        batch, pending[:] = list(pending), []
        try:
            results = self.store.store_mails(self.channel_id, [m for _, _, m in batch])
        except _NOT_THE_MAIL:
            raise
        except Exception as exc:  # noqa: BLE001 - one by one instead
            log.warning(
                "channel %d: batch not stored (%s): one by one", self.channel_id, type(exc).__name__
            )
            for uid, raw, _ in batch:
                self._count(stats, self._take(raw, uid))
            return
        for (uid, raw, mail), result in zip(batch, results, strict=True):
            if isinstance(result, StoreError):
                self._quarantine(raw, uid, str(result))
                stats.quarantined += 1
            else:
                self._count(stats, result.status)
                self._acknowledge(mail, result)

    def _passed(self, imap: imaplib.IMAP4, done: list[int]) -> None:
        r"""Mark stored mails \Seen and move the cursor past them, a few at a time (one round
        trip and one transaction for several mails). A pass killed before this fetches those
        mails again and finds them stored by their Message-ID: nothing is stored twice."""
        if not done:
            return
        uids = ",".join(map(str, done))
        imap.uid("STORE", uids, "+FLAGS.SILENT", r"(\Seen)")
        if self.settings.move_to:
            self._move(imap, uids, _quoted(self.settings.move_to))
        self.store.set_mail_cursor(
            self.channel_id, self.settings.folder, self.uidvalidity, done[-1]
        )
        done.clear()

    def _search(self, imap: imaplib.IMAP4, last: int) -> list[int]:
        status, data = imap.uid("SEARCH", f"UID {last + 1}:*")
        if status != "OK":
            raise MailboxError("the folder cannot be searched")
        found = [int(x) for x in (data[0] or b"").split() if x.isdigit()]
        return sorted(u for u in found if u > last)  # "n:*" names the last mail even below n

    def _heads(self, imap: imaplib.IMAP4, uids: list[int]) -> dict[int, tuple[int, str | None]]:
        spec = ",".join(map(str, uids))
        status, data = imap.uid(
            "FETCH", spec, "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
        )
        out: dict[int, tuple[int, str | None]] = {}
        if status != "OK":
            return out
        for item in data:
            if not isinstance(item, tuple):
                continue
            meta, headers = item[0], item[1]
            uid = _FETCH_ITEM.search(meta)
            size = _SIZE.search(meta)
            if uid:
                out[int(uid.group(1))] = (
                    int(size.group(1)) if size else 0,
                    header_message_id(headers or b""),
                )
        return out

    def _whole(self, imap: imaplib.IMAP4, uid: int) -> bytes | None:
        status, data = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
        if status != "OK":
            return None
        for item in data:
            if isinstance(item, tuple) and len(item) > 1 and isinstance(item[1], bytes):
                return item[1]
        return None

    def _move(self, imap: imaplib.IMAP4, uids: str, folder: str) -> None:
        """Fetched mail out of the folder (MOVE, or COPY and expunge where MOVE is missing).
        A move that fails leaves the mail where it is, marked \\Seen: it is not fetched again
        (the cursor is past it) and nothing is lost."""
        if "MOVE" in imap.capabilities:
            status, _ = imap.uid("MOVE", uids, folder)
        else:
            status, _ = imap.uid("COPY", uids, folder)
            if status == "OK":
                imap.uid("STORE", uids, "+FLAGS.SILENT", r"(\Deleted)")
                if "UIDPLUS" in imap.capabilities:
                    imap.uid("EXPUNGE", uids)
                else:
                    imap.expunge()
        if status != "OK":
            log.warning("channel %d: fetched mail not moved (folder missing?)", self.channel_id)

    # -- one mail ---------------------------------------------------------------------------

    def _take(self, raw: bytes, uid: int) -> str:
        """Store one mail: "stored", "duplicate" or "quarantined". A store that is away
        raises (the mail is fetched again later); anything else this mail causes quarantines
        it, so one mail never stops the ones after it."""
        try:
            return self._take_one(raw, uid)
        except _NOT_THE_MAIL:
            raise
        except Exception as exc:  # noqa: BLE001 - a mail that breaks us is held, not retried
            return self._hold(raw, uid, exc, "stored")

    def _hold(self, raw: bytes, uid: int, exc: Exception, doing: str) -> str:
        """Quarantine a mail that raised while being `doing` ("read", "stored"): logged by
        the exception's type only (its message may quote the mail)."""
        log.error(
            "channel %d: mail UID %d: unexpected %s", self.channel_id, uid, type(exc).__name__
        )
        self._quarantine(raw, uid, f"it could not be {doing} ({type(exc).__name__})")
        return "quarantined"

    def _prepare(
        self, raw: bytes, uid: int, pending: list[tuple[int, bytes, IncomingMail]]
    ) -> str | None:
        """Parse one mail and queue it for storing: None, or "quarantined" (as _take)."""
        try:
            mail = self._parsed(raw, uid)
        except _NOT_THE_MAIL:
            raise
        except Exception as exc:  # noqa: BLE001 - a mail that breaks us is held, not retried
            return self._hold(raw, uid, exc, "read")
        if mail is None:
            return "quarantined"
        pending.append((uid, raw, mail))
        return None

    def _parsed(self, raw: bytes, uid: int) -> IncomingMail | None:
        """The mail as the store takes it (a bounce recorded, attachments saved), or None
        when it could not be parsed (then it is quarantined)."""
        try:
            parsed = parse_mail(raw)
        except MailParseError as problem:
            self._quarantine(raw, uid, str(problem))
            return None
        if parsed.bounce is not None and parsed.bounce.original_id:
            try:
                self.store.mail_bounced(
                    self.channel_id, parsed.bounce.original_id, parsed.bounce.reason
                )
            except StoreError as exc:
                log.warning("channel %d: bounce not recorded (%s)", self.channel_id, exc.code)
        return self._incoming(parsed, self._save_attachments(parsed))

    def _take_one(self, raw: bytes, uid: int) -> str:
        mail = self._parsed(raw, uid)
        if mail is None:
            return "quarantined"
        try:
            done = self.store.store_mail(self.channel_id, mail)
        except _NOT_THE_MAIL:
            raise
        except StoreError as problem:
            self._quarantine(raw, uid, str(problem))
            return "quarantined"
        self._acknowledge(mail, done)
        return done.status

    def _acknowledge(self, mail: IncomingMail, stored: MailStored) -> None:
        """A person's mail that opened a conversation, on a channel that acknowledges: the
        acknowledgement is queued (cs_tui.channels.email_ack). A failure to queue it is
        logged and costs nothing else: the mail is stored."""
        if not self.settings.acknowledge or not stored.opened:
            return
        if mail.robot or mail.no_auto_answer:  # a machine's, or a list's (RFC 3834)
            return
        channel_type = self.store.mail_channel_type(self.channel_id)
        lang = language_of(mail.subject, mail.text, self.settings.ack_language)
        text = acknowledgement(
            self.store.policy, channel_type, stored.conversation_id, self.store.clock.now(), lang
        )
        try:
            self.store.queue_mail_ack(
                self.channel_id, stored.conversation_id, text, every_s=ACK_EVERY_S
            )
        except StoreError as exc:
            log.warning("channel %d: acknowledgement not queued (%s)", self.channel_id, exc.code)

    def _incoming(
        self,
        parsed: ParsedMail,
        attachments: list[dict[str, Any]],
        note: notes.Note | None = None,
    ) -> IncomingMail:
        """The mail as the store takes it; `note` already holds what the caller wrote into
        its text (the size-limit stub)."""
        note = note or notes.Note()
        now = self.store.clock.now()
        sent_at = parsed.sent_at or now
        if sent_at > now or sent_at.year < 1990:
            sent_at = now
        text = parsed.new_text
        if parsed.full_text.strip() != parsed.new_text.strip():
            text = f"{text}\n\n{note.quoted()}".strip()  # `v` shows the whole mail
        if attachments:
            listed = note.attachments(
                [f"{a['name']} ({size_text(a['size'])})" for a in attachments]
            )
            text = f"{text}\n\n{listed}".strip()
        author = "customer"
        if parsed.mail_id.startswith(OUR_ID_PREFIX) and parsed.mail_id.endswith(
            f"@{self.settings.domain}>"
        ):
            parsed.automatic = parsed.automatic or "our own reply came back"
        if parsed.automatic or parsed.bounce is not None:
            author = "system"
            why = parsed.automatic or "delivery report"
            reason = parsed.bounce.reason if parsed.bounce else None
            text = f"{note.automatic(parsed.sender, why, reason)}\n\n{text}".strip()
        return IncomingMail(
            mail_id=parsed.mail_id,
            sender=parsed.sender,
            sender_name=parsed.sender_name,
            subject=parsed.subject,
            sent_at=sent_at,
            text=text,
            full_text=parsed.full_text,
            author=author,
            thread_ids=tuple(
                [parsed.bounce.original_id] if parsed.bounce and parsed.bounce.original_id else []
            )
            + tuple(parsed.thread_ids),
            tag=parsed.conversation_tag,
            attachments=tuple(attachments),
            robot=author == "system",
            no_auto_answer=parsed.no_answer is not None,
            note=note.get(),
        )

    def _save_attachments(self, parsed: ParsedMail) -> list[dict[str, Any]]:
        """Each attachment saved under the data directory (never opened by the app)."""
        if not parsed.attachments:
            return []
        folder = self.attachments_dir / hashlib.sha256(parsed.mail_id.encode()).hexdigest()[:24]
        saved: list[dict[str, Any]] = []
        folder.mkdir(parents=True, exist_ok=True)
        for index, item in enumerate(parsed.attachments, 1):
            path = folder / f"{index:02d}-{item.name}"
            try:
                path.write_bytes(item.data)
                where: str | None = str(path)
            except OSError:
                where = None
            saved.append(
                {"name": item.name, "size": item.size, "type": item.content_type, "path": where}
            )
        return saved

    def _too_big(self, imap: imaplib.IMAP4, uid: int, size: int, mail_id: str | None) -> None:
        """A stub in the queue naming the size; the mail itself stays on the server."""
        status, data = imap.uid("FETCH", str(uid), "(BODY.PEEK[HEADER])")
        head = b""
        for item in data if status == "OK" else []:
            if isinstance(item, tuple) and len(item) > 1:
                head = item[1]
        try:
            parsed = parse_mail(head + b"\r\n")
        except MailParseError:
            self._quarantine(head, uid, "a mail over the size limit without a readable sender")
            return
        parsed.mail_id = mail_id or parsed.mail_id
        note = notes.Note()
        parsed.new_text = parsed.full_text = note.too_big(
            size_text(size), size_text(self.settings.max_bytes)
        )
        parsed.attachments = []
        self.store.store_mail(self.channel_id, self._incoming(parsed, [], note))

    def _quarantine(self, raw: bytes, uid: int, why: str) -> None:
        """The mail saved whole, and a system message naming the file."""
        self.quarantine_dir.mkdir(parents=True, exist_ok=True)
        path = self.quarantine_dir / f"{self.uidvalidity}-{uid}.eml"
        path.write_bytes(raw)
        log.warning("channel %d: mail UID %d quarantined as %s", self.channel_id, uid, path)
        found = _SENDER.search(raw[:65536])
        sender = found.group(1).decode("ascii").lower() if found else "unknown-sender@invalid"
        now = self.store.clock.now()
        note = notes.Note()
        mail = IncomingMail(
            mail_id=derived_id(raw),
            sender=sender,
            sender_name=None,
            subject="",
            sent_at=now,
            text=note.quarantined(why[:200], str(path)),
            full_text="",
            author="system",
            thread_ids=(),
            tag=None,
            # The saved file, so `v` names it and a supervisor's delete removes it.
            attachments=(
                {
                    "name": path.name,
                    "size": len(raw),
                    "type": "message/rfc822",
                    "path": str(path),
                    "quarantined": True,
                },
            ),
            note=note.get(),
        )
        try:
            self.store.store_mail(self.channel_id, mail)
        except StoreError as exc:
            log.warning("channel %d: quarantine note not stored (%s)", self.channel_id, exc.code)

    # -- waiting ----------------------------------------------------------------------------

    def wait(self, stop: threading.Event) -> None:
        """Until new mail may be there: IDLE when offered, else the poll interval."""
        imap = self.imap
        if imap is None or not self.use_idle or "IDLE" not in imap.capabilities:
            stop.wait(self.settings.poll_s)
            return
        tag = imap._new_tag()
        imap.send(tag + b" IDLE\r\n")
        first = imap.readline()
        if not first.startswith(b"+"):
            stop.wait(self.settings.poll_s)
            return
        # IDLE is left after the poll interval at the latest, as polling would look: a line
        # the server sent right behind "+ idling" may sit in imaplib's buffer, unseen by
        # select, and must not wait for the next one.
        deadline = datetime.now(UTC) + timedelta(seconds=min(IDLE_MAX_S, self.settings.poll_s))
        try:
            while not stop.is_set() and datetime.now(UTC) < deadline:
                pending = getattr(imap.sock, "pending", None)  # TLS: decrypted, unread bytes
                if not (pending and pending()):
                    ready, _, _ = select.select([imap.sock], [], [], 0.5)
                    if not ready:
                        continue
                line = imap.readline()
                if not line:
                    raise MailboxError("the IMAP server closed the connection")
                if b"EXISTS" in line or b"RECENT" in line:
                    break
        finally:
            imap.send(b"DONE\r\n")
            while True:
                line = imap.readline()
                if not line or line.startswith(tag):
                    break

    def run(self, stop: threading.Event) -> None:
        """Fetch until `stop` is set; a lost connection is opened again after a pause."""
        while not stop.is_set():
            try:
                self.fetch_once()
                self.wait(stop)
            except (MailboxError, imaplib.IMAP4.abort, imaplib.IMAP4.error, OSError) as exc:
                log.warning("channel %d: mailbox: %s", self.channel_id, _line(exc))
                self.close()
                stop.wait(min(self.settings.poll_s, 30.0))
            except NotAllowed:  # disabled: look again later, fetch nothing meanwhile
                self.close()
                stop.wait(self.settings.poll_s)
            except StoreError as exc:
                log.warning("channel %d: store: %s", self.channel_id, exc.code)
                stop.wait(2.0)
            except Exception as exc:  # noqa: BLE001 - a bug must not end the channel's fetching
                log.error("channel %d: fetch failed (%s)", self.channel_id, type(exc).__name__)
                self.close()
                stop.wait(min(self.settings.poll_s, 30.0))
        self.close()


def _mailbox_of(settings: EmailSettings) -> tuple[object, ...]:
    """What an open IMAP connection was made for: a change to any of it needs a new one."""
    return (settings.imap, settings.require_tls, settings.folder)


def _password_source(settings: EmailSettings) -> tuple[str | None, str | None]:
    return (settings.password_env, settings.password_file)


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uidvalidity(imap: imaplib.IMAP4) -> int:
    _, data = imap.response("UIDVALIDITY")
    for item in data or []:
        if isinstance(item, bytes) and item.strip().isdigit():
            return int(item.strip())
    return 0
