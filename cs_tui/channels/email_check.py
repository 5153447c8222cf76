"""`cs-tui channels test NAME` for an e-mail channel: log in to both servers, say what works.

Nothing is fetched, marked or sent: IMAP selects the folder read-only and counts its mails;
SMTP logs in and says goodbye. Each check reports in one line; a failure names the server's
answer or the connection problem (never the password).
"""

from __future__ import annotations

import contextlib
import imaplib
import smtplib
from dataclasses import dataclass

from cs_tui.channels.email_config import EmailConfigError, EmailSettings
from cs_tui.channels.email_fetch import MailboxError, connect_imap
from cs_tui.channels.email_send import connect_smtp
from cs_tui.safe_text import clean


@dataclass(frozen=True)
class Check:
    server: str  # imap | smtp
    ok: bool
    detail: str  # one printable line: a server's words are untrusted

    def __post_init__(self) -> None:
        object.__setattr__(self, "detail", clean(self.detail, single_line=True)[:300])


def check_channel(settings: EmailSettings, timeout: float = 15.0) -> list[Check]:
    try:
        password = settings.password()
    except EmailConfigError as exc:
        return [Check("imap", False, str(exc)), Check("smtp", False, str(exc))]
    return [_imap(settings, password, timeout), _smtp(settings, password, timeout)]


def _imap(settings: EmailSettings, password: str, timeout: float) -> Check:
    where = settings.imap.url()
    try:
        imap = connect_imap(settings, password, timeout=timeout)
    except MailboxError as exc:
        return Check("imap", False, f"{where}: {exc}")
    try:
        folder = '"' + settings.folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
        status, data = imap.select(folder, readonly=True)
        if status != "OK":
            return Check(
                "imap",
                False,
                f"{where}: logged in, but folder {settings.folder!r} cannot be opened",
            )
        count = int(data[0] or 0) if data and isinstance(data[0], bytes) else 0
        if settings.move_to:
            target = '"' + settings.move_to.replace("\\", "\\\\").replace('"', '\\"') + '"'
            status, found = imap.list('""', target)
            if status != "OK" or not [f for f in found if f]:
                return Check(
                    "imap",
                    False,
                    f"{where}: logged in, but the --move-to folder "
                    f"{settings.move_to!r} does not exist",
                )
        tls = _tls_word(settings.imap.tls, isinstance(imap.sock, _ssl_socket()), settings)
        mode = "IDLE" if "IDLE" in imap.capabilities else f"polling every {settings.poll_s:g}s"
        return Check(
            "imap",
            True,
            f"{where}: logged in ({tls}); {settings.folder} holds {count} mails; "
            f"new mail by {mode}",
        )
    except (imaplib.IMAP4.error, OSError) as exc:
        return Check("imap", False, f"{where}: {exc}")
    finally:
        with contextlib.suppress(Exception):
            imap.logout()


def _smtp(settings: EmailSettings, password: str, timeout: float) -> Check:
    where = settings.smtp.url()
    try:
        smtp = connect_smtp(settings, password, timeout=timeout)
    except smtplib.SMTPAuthenticationError as exc:
        return Check("smtp", False, f"{where}: login refused ({exc.smtp_code})")
    except (smtplib.SMTPException, OSError) as exc:
        return Check("smtp", False, f"{where}: {' '.join(str(exc).split())[:200]}")
    try:
        tls = _tls_word(settings.smtp.tls, isinstance(smtp.sock, _ssl_socket()), settings)
        return Check(
            "smtp", True, f"{where}: logged in ({tls}); replies leave from {settings.from_address}"
        )
    finally:
        with contextlib.suppress(Exception):
            smtp.quit()


def _tls_word(from_start: bool, upgraded: bool, settings: EmailSettings) -> str:
    """How the connection is protected, and whether the channel insists on it."""
    if from_start:
        word = "TLS"
    elif upgraded:
        word = "STARTTLS"
    else:
        return "no TLS (not offered)"
    return f"{word}, required" if settings.require_tls else word


def _ssl_socket() -> type:
    import ssl

    return ssl.SSLSocket
