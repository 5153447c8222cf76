"""Agents' replies as e-mail, sent with the standard library's smtplib (in the worker's threads).

A reply goes out as `text/plain; charset=utf-8` with a simple HTML part beside it, from the
channel's address and display name (RFC 2047 encoded where needed), to the customer's address.
Threading: a Message-ID of the channel's domain (the same on every attempt of one delivery, so
a receiver that got it twice can tell), In-Reply-To the customer's last mail, References its
chain, and `[#<conversation id>]` in the subject with one `Re:`.

Outcomes: 2xx sent; 4xx, a refused connection or one lost mid-way: tried again with the
outbox's backoff; 5xx: failed with the server's reply. Connections are kept open per channel
and reused (a new one only when none is idle), so replies leave at the rate the server takes.
"""

from __future__ import annotations

import contextlib
import html
import re
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING, Literal

from cs_tui.channels.email_config import EmailConfigError, EmailSettings, settings_of

if TYPE_CHECKING:
    from cs_tui.data.mail_store import ReplyContext
    from cs_tui.data.store import Store

_RE = re.compile(r"^\s*((re|aw|sv|fw|fwd|回复|答复|回覆|转发)\s*[:：]\s*)+", re.IGNORECASE)
_TAG = re.compile(r"\s*\[#\d{1,18}\]\s*")
TIMEOUT_S = 20.0  # per SMTP command; well inside the worker's 60 s lease
IDLE_PER_CHANNEL = 8
CONNECTIONS_PER_CHANNEL = 4  # mail servers limit a client's connections at once


@dataclass(frozen=True)
class SendResult:
    kind: Literal["sent", "retry", "failed"]
    status: int | None
    reason: str | None = None


def connect_smtp(
    settings: EmailSettings, password: str, timeout: float = TIMEOUT_S
) -> smtplib.SMTP:
    """A logged-in SMTP connection: TLS from the start (smtps), else STARTTLS when offered."""
    end = settings.smtp
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if end.tls:
        smtp = smtplib.SMTP_SSL(end.host, end.port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(end.host, end.port, timeout=timeout)
    try:
        smtp.ehlo()
        if not end.tls and smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        if smtp.has_extn("auth"):
            smtp.login(end.user, password)
    except BaseException:
        _quit(smtp)
        raise
    return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except Exception:  # noqa: BLE001 - closing a connection that may be broken
        smtp.close()


def reply_subject(subject: str, conversation_id: int) -> str:
    """`Re: [#42] the customer's subject`: one Re:, one tag."""
    base = _TAG.sub(" ", _RE.sub("", subject or "")).strip()
    return f"Re: [#{conversation_id}] {base}".rstrip()


def outgoing_id(delivery_id: int, domain: str) -> str:
    return f"<cs.delivery.{delivery_id}@{domain}>"


def build_reply(ctx: ReplyContext, settings: EmailSettings) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = Address(display_name=settings.from_name, addr_spec=settings.from_address)
    try:
        msg["To"] = Address(display_name=ctx.customer_name or "", addr_spec=ctx.customer)
    except (ValueError, IndexError):
        msg["To"] = ctx.customer
    msg["Subject"] = reply_subject(ctx.subject, ctx.conversation_id)
    msg["Date"] = format_datetime(ctx.sent_at)
    msg["Message-ID"] = outgoing_id(ctx.delivery_id, settings.domain)
    if ctx.in_reply_to:
        msg["In-Reply-To"] = ctx.in_reply_to
        msg["References"] = " ".join([*ctx.references, ctx.in_reply_to][-20:])
    msg["Auto-Submitted"] = "no"
    msg.set_content(ctx.text, charset="utf-8")
    paragraphs = "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in ctx.text.split("\n\n")
    )
    msg.add_alternative(f"<html><body>{paragraphs}</body></html>", subtype="html", charset="utf-8")
    return msg


class MailSender:
    """Sends e-mail deliveries; one per worker, used from several threads."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._idle: dict[int, list[smtplib.SMTP]] = {}
        self._passwords: dict[int, str] = {}
        self._slots: dict[int, threading.BoundedSemaphore] = {}

    def send(self, delivery_id: int) -> SendResult:
        try:
            ctx = self.store.reply_context(delivery_id)
        except LookupError:
            return SendResult("failed", None, "the reply or its channel is gone")
        try:
            settings = settings_of(ctx.settings)
            password = self._password(ctx.channel_id, settings)
        except EmailConfigError as exc:
            return SendResult("failed", None, f"the channel's mail settings: {exc}")
        msg = build_reply(ctx, settings)
        self.store.record_outgoing_mail(ctx, str(msg["Message-ID"]), str(msg["Subject"]))
        with self._slot(ctx.channel_id):
            return self._send(ctx, settings, password, msg)

    def _slot(self, channel_id: int) -> threading.BoundedSemaphore:
        with self._lock:
            if channel_id not in self._slots:
                self._slots[channel_id] = threading.BoundedSemaphore(CONNECTIONS_PER_CHANNEL)
            return self._slots[channel_id]

    def _send(
        self, ctx: ReplyContext, settings: EmailSettings, password: str, msg: EmailMessage
    ) -> SendResult:
        try:
            smtp = self._connection(ctx.channel_id, settings, password)
        except smtplib.SMTPAuthenticationError as exc:
            return SendResult("failed", exc.smtp_code, _reply("login refused", exc))
        except smtplib.SMTPResponseException as exc:
            return _by_code(exc.smtp_code, _reply("SMTP", exc))
        except (OSError, smtplib.SMTPException) as exc:
            return SendResult("retry", None, f"SMTP connection failed: {_line(exc)}")
        try:
            refused = smtp.send_message(msg, settings.from_address, [ctx.customer])
        except smtplib.SMTPRecipientsRefused as exc:
            self._give_back(ctx.channel_id, smtp)
            code, text = next(iter(exc.recipients.values()), (550, b"refused"))
            return _by_code(code, f"SMTP {code}: {_text(text)}")
        except smtplib.SMTPResponseException as exc:
            self._drop(smtp)
            return _by_code(exc.smtp_code, _reply("SMTP", exc))
        except (OSError, smtplib.SMTPException) as exc:
            self._drop(smtp)
            return SendResult("retry", None, f"SMTP connection lost: {_line(exc)}")
        self._give_back(ctx.channel_id, smtp)
        if refused:
            code, text = next(iter(refused.values()))
            return _by_code(code, f"SMTP {code}: {_text(text)}")
        return SendResult("sent", 250)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for smtp in conns:
                _quit(smtp)

    def _password(self, channel_id: int, settings: EmailSettings) -> str:
        with self._lock:
            if channel_id not in self._passwords:
                self._passwords[channel_id] = settings.password()
            return self._passwords[channel_id]

    def _connection(self, channel_id: int, settings: EmailSettings, password: str) -> smtplib.SMTP:
        while True:
            with self._lock:
                idle = self._idle.get(channel_id) or []
                smtp = idle.pop() if idle else None
            if smtp is None:
                return connect_smtp(settings, password)
            try:
                if smtp.noop()[0] == 250:
                    return smtp
            except (OSError, smtplib.SMTPException):
                pass
            self._drop(smtp)

    def _give_back(self, channel_id: int, smtp: smtplib.SMTP) -> None:
        with self._lock:
            idle = self._idle.setdefault(channel_id, [])
            if len(idle) < IDLE_PER_CHANNEL:
                idle.append(smtp)
                return
        _quit(smtp)

    def _drop(self, smtp: smtplib.SMTP) -> None:
        with contextlib.suppress(Exception):  # already broken
            smtp.close()


def _by_code(code: int, reason: str) -> SendResult:
    if 400 <= code < 500:
        return SendResult("retry", code, reason)
    return SendResult("failed", code, reason)


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return " ".join(text.split())[:200]


def _reply(what: str, exc: smtplib.SMTPResponseException) -> str:
    return f"{what} {exc.smtp_code}: {_text(exc.smtp_error)}"


def _line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
