"""Agents' replies as e-mail, sent with the standard library's smtplib (in the worker's threads).

A reply goes out as `text/plain; charset=utf-8` with a simple HTML part beside it, from the
channel's address and display name (RFC 2047 encoded where needed), to the customer's address.
Threading: a Message-ID of the channel's domain (the same on every attempt of one delivery, so
a receiver that got it twice can tell), In-Reply-To the customer's last mail, References its
chain, and `[#<conversation id>]` in the subject with one `Re:`.

Outcomes: 2xx sent; 4xx, a refused connection or one lost mid-way: tried again with the
outbox's backoff; 5xx: failed with the server's reply; a customer's address beyond ASCII that
the server cannot take (no SMTPUTF8): failed at once, saying so. Connections are kept open per
channel and reused (a new one only when none is idle), so replies leave at the rate the server
takes.

**One send, one deadline.** The worker leases a delivery for a while (60 s); were a send to
outlast the lease, the delivery would be claimed again and sent twice. So the whole send (the
wait for a connection slot, connecting, every command) has a deadline well inside the lease:
a timer closes the connection when it passes. What that means depends on how far the mail got:

- before the final `.` of DATA was sent, the server has not taken the mail (SMTP hands over
  responsibility only with its answer to that dot): it is tried again later, no duplicate;
- after the dot, an answer that never came (the deadline, or the connection lost) leaves it
  unknown whether the server took it. Trying again could send the customer the mail twice
  without anyone knowing, so it is *failed* instead, with a reason that says it may have left:
  the agent sees it and decides (`u` sends it again, with the same Message-ID, so a receiver
  that got both can tell).

Message-IDs carry random bytes (`outgoing_id`): a forged bounce or a forged answer cannot name
one of our replies by guessing. The one an attempt chose is recorded before it is sent and
reused by every later attempt of the delivery.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import re
import secrets
import smtplib
import socket
import ssl
import threading
import time
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
TIMEOUT_S = 20.0  # per SMTP command; the whole send has its own deadline (SEND_DEADLINE_S)
SEND_DEADLINE_S = 40.0  # a whole send, slot wait included; inside the worker's 60 s lease
DATA_RESERVE_S = 0.5  # DATA is not begun with less time than this left
IDLE_PER_CHANNEL = 8
CONNECTIONS_PER_CHANNEL = 4  # mail servers limit a client's connections at once
NO_SMTPUTF8 = (
    "the customer's address {address} is not plain ASCII and the SMTP server does not offer "
    "SMTPUTF8, which such an address needs: it cannot be sent this way (nothing sent; answer "
    "from an address of theirs in ASCII, or through a server that offers SMTPUTF8)"
)
MAY_HAVE_LEFT = (
    "no answer from the SMTP server after the whole mail was handed over ({why}): it may "
    "have been sent; not tried again, so the customer does not get it twice unknowingly"
)


class TlsRequired(smtplib.SMTPException):
    """The channel requires TLS and the server offers no STARTTLS: nothing was sent (the
    password neither)."""


class _Tracked:
    """An SMTP connection that knows whether the final `.` of a mail's DATA has been sent:
    from then on the server may have taken the mail."""

    dot_sent = False
    _in_data = False

    def data(self, msg: bytes | str) -> tuple[int, bytes]:
        self._in_data = True
        try:
            return super().data(msg)  # type: ignore[misc]
        finally:
            self._in_data = False

    def send(self, s: bytes | str) -> None:
        super().send(s)  # type: ignore[misc]
        if self._in_data and (s.endswith(b"\r\n.\r\n") if isinstance(s, bytes) else False):
            self.dot_sent = True


class _SMTP(_Tracked, smtplib.SMTP):  # type: ignore[misc]  # (the overrides take both)
    pass


class _SMTPS(_Tracked, smtplib.SMTP_SSL):  # type: ignore[misc]
    pass


@dataclass(frozen=True)
class SendResult:
    kind: Literal["sent", "retry", "failed"]
    status: int | None
    reason: str | None = None


def connect_smtp(
    settings: EmailSettings, password: str, timeout: float = TIMEOUT_S
) -> smtplib.SMTP:
    """A logged-in SMTP connection: TLS from the start (smtps), else STARTTLS when offered;
    TlsRequired, before anything is sent, when the channel requires TLS and it is not."""
    end = settings.smtp
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if end.tls:
        smtp = _SMTPS(end.host, end.port, timeout=timeout, context=context)
    else:
        smtp = _SMTP(end.host, end.port, timeout=timeout)
    try:
        smtp.ehlo()
        if not end.tls and smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        elif not end.tls and settings.require_tls:
            raise TlsRequired("the SMTP server offers no STARTTLS and the channel requires TLS")
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


OUR_ID_PREFIX = "<cs.delivery."


def outgoing_id(domain: str) -> str:
    """A new Message-ID of ours: 128 random bits, so nobody outside can name one of our
    replies (a forged bounce failing it, a forged answer joining its conversation). The store
    trusts only this form (cs_tui.data.mail_store.is_random_reply_id)."""
    return f"{OUR_ID_PREFIX}{secrets.token_hex(16)}@{domain}>"


def build_reply(ctx: ReplyContext, settings: EmailSettings) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = Address(display_name=settings.from_name, addr_spec=settings.from_address)
    try:
        msg["To"] = Address(display_name=ctx.customer_name or "", addr_spec=ctx.customer)
    except (ValueError, IndexError):
        msg["To"] = ctx.customer
    msg["Subject"] = reply_subject(ctx.subject, ctx.conversation_id)
    msg["Date"] = format_datetime(ctx.sent_at)
    msg["Message-ID"] = ctx.mail_id or outgoing_id(settings.domain)
    if ctx.in_reply_to:
        msg["In-Reply-To"] = ctx.in_reply_to
        msg["References"] = " ".join([*ctx.references, ctx.in_reply_to][-20:])
    # RFC 3834: what the channel sends by itself says so, and robots do not answer it.
    msg["Auto-Submitted"] = "auto-replied" if ctx.automatic else "no"
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
        # Idle connections and passwords are kept per channel *and* the settings they were
        # made with: a `channels set` (say --require-tls) while serve runs is not sent through
        # a connection opened before it.
        self._idle: dict[_Via, list[smtplib.SMTP]] = {}
        self._passwords: dict[tuple[int, str | None, str | None], str] = {}
        self._slots: dict[int, threading.BoundedSemaphore] = {}

    def send(self, delivery_id: int, deadline: float | None = None) -> SendResult:
        """Send one delivery; `deadline` (time.monotonic()) bounds the whole send, by default
        SEND_DEADLINE_S from now (see the module's doc for what passing it means)."""
        if deadline is None:
            deadline = time.monotonic() + SEND_DEADLINE_S
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
        if ctx.mail_id is None:
            self.store.record_outgoing_mail(ctx, str(msg["Message-ID"]), str(msg["Subject"]))
        slot = self._slot(ctx.channel_id)
        if not slot.acquire(timeout=max(0.0, deadline - time.monotonic() - DATA_RESERVE_S)):
            return SendResult("retry", None, "no SMTP connection free in time (nothing sent)")
        try:
            return self._send(ctx, settings, password, msg, deadline)
        finally:
            slot.release()

    def _slot(self, channel_id: int) -> threading.BoundedSemaphore:
        with self._lock:
            if channel_id not in self._slots:
                self._slots[channel_id] = threading.BoundedSemaphore(CONNECTIONS_PER_CHANNEL)
            return self._slots[channel_id]

    def _send(
        self,
        ctx: ReplyContext,
        settings: EmailSettings,
        password: str,
        msg: EmailMessage,
        deadline: float,
    ) -> SendResult:
        via = _via(ctx.channel_id, settings, password)
        try:
            smtp = self._connection(ctx.channel_id, settings, password, deadline)
        except TlsRequired as exc:
            return SendResult("failed", None, f"{exc} (nothing sent)")
        except smtplib.SMTPAuthenticationError as exc:
            return SendResult("failed", exc.smtp_code, _reply("login refused", exc))
        except smtplib.SMTPResponseException as exc:
            return _by_code(exc.smtp_code, _reply("SMTP", exc))
        except (OSError, smtplib.SMTPException) as exc:
            return SendResult("retry", None, f"SMTP connection failed: {_line(exc)}")
        left = deadline - time.monotonic()
        if left < DATA_RESERVE_S:
            self._give_back(via, smtp)
            return SendResult("retry", None, "the send's deadline came before DATA (nothing sent)")
        tracked = smtp if isinstance(smtp, _Tracked) else None
        if tracked is not None:
            tracked.dot_sent = False
        watchdog = _Watchdog(smtp, left)
        try:
            with watchdog:
                refused = smtp.send_message(msg, settings.from_address, [ctx.customer])
        except smtplib.SMTPNotSupportedError:
            # Raised before MAIL FROM: an address beyond ASCII and a server without SMTPUTF8.
            # Trying again cannot help: failed now, saying what would.
            self._give_back(via, smtp)
            return SendResult("failed", None, NO_SMTPUTF8.format(address=ctx.customer))
        except smtplib.SMTPRecipientsRefused as exc:
            self._give_back(via, smtp)
            code, text = next(iter(exc.recipients.values()), (550, b"refused"))
            return _by_code(code, f"SMTP {code}: {_text(text)}")
        except smtplib.SMTPResponseException as exc:
            self._drop(smtp)
            return _by_code(exc.smtp_code, _reply("SMTP", exc))
        except (OSError, smtplib.SMTPException) as exc:
            self._drop(smtp)
            why = "the send's deadline passed" if watchdog.fired else _line(exc)
            if tracked is not None and tracked.dot_sent:
                return SendResult("failed", None, MAY_HAVE_LEFT.format(why=why))
            return SendResult("retry", None, f"SMTP connection lost: {why} (nothing sent)")
        self._give_back(via, smtp)
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
        key = (channel_id, settings.password_env, settings.password_file)
        with self._lock:
            if key not in self._passwords:
                self._passwords[key] = settings.password()
            return self._passwords[key]

    def _connection(
        self, channel_id: int, settings: EmailSettings, password: str, deadline: float
    ) -> smtplib.SMTP:
        """An idle connection that still answers, else a new one; each command waits at most
        TIMEOUT_S and never past the deadline."""
        while True:
            left = deadline - time.monotonic()
            if left <= DATA_RESERVE_S:
                raise TimeoutError("the send's deadline came before DATA (nothing sent)")
            with self._lock:
                idle = self._idle.get(_via(channel_id, settings, password)) or []
                smtp = idle.pop() if idle else None
            if smtp is None:
                return connect_smtp(settings, password, timeout=min(TIMEOUT_S, left))
            try:
                if smtp.sock is not None:
                    smtp.sock.settimeout(min(TIMEOUT_S, left))
                if smtp.noop()[0] == 250:
                    return smtp
            except (OSError, smtplib.SMTPException):
                pass
            self._drop(smtp)

    def _give_back(self, via: _Via, smtp: smtplib.SMTP) -> None:
        with self._lock:
            idle = self._idle.setdefault(via, [])
            if len(idle) < IDLE_PER_CHANNEL:
                idle.append(smtp)
                return
        _quit(smtp)

    def _drop(self, smtp: smtplib.SMTP) -> None:
        with contextlib.suppress(Exception):  # already broken
            smtp.close()


_Via = tuple[int, str, bool, str]
"""What an SMTP connection was opened for: the channel, its server, its TLS requirement and
the password (a connection made for other settings is not reused)."""


def _via(channel_id: int, settings: EmailSettings, password: str) -> _Via:
    fingerprint = hashlib.sha256(password.encode("utf-8", "replace")).hexdigest()
    return (channel_id, settings.smtp.url(), settings.require_tls, fingerprint)


class _Watchdog:
    """Closes an SMTP connection's socket when `seconds` have passed (from another thread),
    so a command that hangs, or a server that answers a byte at a time, ends the send at its
    deadline whatever the per-command timeouts say."""

    def __init__(self, smtp: smtplib.SMTP, seconds: float) -> None:
        self.smtp = smtp
        self.fired = False
        self._timer = threading.Timer(max(0.0, seconds), self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        sock = self.smtp.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


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
