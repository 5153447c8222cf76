"""An e-mail channel's settings: where its mailbox is, how replies leave, who they come from.

Kept in the channel's `settings` JSON (never the password: only the name of the environment
variable or file it is read from when `serve` starts). URLs name one account each:

    imap://USER@HOST:PORT    IMAP, upgraded with STARTTLS when the server offers it
    imaps://USER@HOST:PORT   IMAP over TLS
    smtp://USER@HOST:PORT    SMTP (submission), STARTTLS when offered
    smtps://USER@HOST:PORT   SMTP over TLS

With `require_tls`, imap:// and smtp:// refuse to log in (or send) when the server does not
offer STARTTLS, instead of going on in the clear: a team that must never send a password or
a customer's mail unencrypted says so once, and a server (or someone in between) that drops
STARTTLS stops the channel rather than downgrading it.

`acknowledge` (off unless asked for) makes the channel answer a new conversation's first
mail by itself, saying when someone will answer (cs_tui.channels.email_ack); `ack_language`
is its language: "auto" (the mail's), "zh" or "en".
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from cs_tui.durations import parse_duration

IMAP_SCHEMES = {"imap": 143, "imaps": 993}
SMTP_SCHEMES = {"smtp": 587, "smtps": 465}
DEFAULT_POLL_S = 30.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
ACK_LANGUAGES = ("auto", "zh", "en")


class EmailConfigError(ValueError):
    """A setting that cannot be used, said in one line (no password in it)."""


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    user: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        """TLS from the first byte (imaps, smtps); else STARTTLS when offered."""
        return self.scheme.endswith("s")

    def url(self) -> str:
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}"


def parse_endpoint(text: str, schemes: dict[str, int], what: str) -> Endpoint:
    if not isinstance(text, str) or not text.isprintable() or len(text) > 500:
        raise EmailConfigError(f"{what}: not a URL")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise EmailConfigError(f"{what}: not a URL") from None
    if parts.scheme not in schemes:
        known = ", ".join(f"{s}://" for s in schemes)
        raise EmailConfigError(f"{what}: the scheme must be one of {known}")
    if parts.password is not None:
        raise EmailConfigError(f"{what}: no password in the URL (use --password-env)")
    if not parts.hostname or not parts.username:
        raise EmailConfigError(f"{what}: USER@HOST[:PORT] is needed")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise EmailConfigError(f"{what}: nothing may follow HOST:PORT")
    return Endpoint(
        parts.scheme, unquote(parts.username), parts.hostname, port or schemes[parts.scheme]
    )


def parse_from(text: str) -> tuple[str, str]:
    """`显示名 <service@shop.example>` -> (display name, address)."""
    name, address = parseaddr(text or "")
    if not address or "@" not in address or not address.isprintable():
        raise EmailConfigError("--from: 'Name <address@domain>' or an address is needed")
    try:
        Address(display_name=name, addr_spec=address)
    except (ValueError, IndexError):
        raise EmailConfigError("--from: not an e-mail address") from None
    return name, address


@dataclass(frozen=True)
class EmailSettings:
    imap: Endpoint
    smtp: Endpoint
    from_name: str
    from_address: str
    password_env: str | None
    password_file: str | None
    folder: str = "INBOX"
    poll_s: float = DEFAULT_POLL_S
    max_bytes: int = DEFAULT_MAX_BYTES
    move_to: str | None = None  # a folder fetched mail is moved to (else it stays, \Seen)
    require_tls: bool = False  # imap://, smtp://: refuse to go on without STARTTLS
    acknowledge: bool = False  # answer a new conversation's first mail by itself
    ack_language: str = "auto"  # auto (the mail's language) | zh | en

    @property
    def domain(self) -> str:
        return self.from_address.rpartition("@")[2].lower()

    def to_json(self) -> dict[str, Any]:
        return {
            "imap": self.imap.url(),
            "smtp": self.smtp.url(),
            "from_name": self.from_name,
            "from_address": self.from_address,
            "password_env": self.password_env,
            "password_file": self.password_file,
            "folder": self.folder,
            "poll_s": self.poll_s,
            "max_bytes": self.max_bytes,
            "move_to": self.move_to,
            "require_tls": self.require_tls,
            "acknowledge": self.acknowledge,
            "ack_language": self.ack_language,
        }

    def password(self) -> str:
        """Read now (at `serve`'s start or by `channels test`), never stored."""
        if self.password_file:
            try:
                text = Path(self.password_file).read_text(encoding="utf-8")
            except OSError as exc:
                raise EmailConfigError(
                    f"password file {self.password_file!r}: {exc.strerror}"
                ) from None
            return text.rstrip("\r\n")
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise EmailConfigError(f"environment variable {self.password_env} is not set")
            return value
        raise EmailConfigError("no --password-env or --password-file was given")


def build_settings(
    *,
    imap: str,
    smtp: str,
    sender: str,
    password_env: str | None,
    password_file: str | None,
    folder: str = "INBOX",
    poll: str | float = DEFAULT_POLL_S,
    max_bytes: int | str = DEFAULT_MAX_BYTES,
    move_to: str | None = None,
    require_tls: bool = False,
    acknowledge: bool = False,
    ack_language: str = "auto",
) -> EmailSettings:
    """Checked settings from what `channels add email` was given."""
    if not password_env and not password_file:
        raise EmailConfigError("give --password-env VAR or --password-file FILE")
    if password_env is not None and not password_env.replace("_", "a").isalnum():
        raise EmailConfigError("--password-env: the name of an environment variable")
    for option, name in (("--folder", folder), ("--move-to", move_to)):
        if name is None and option == "--move-to":
            continue
        if not name or not name.isprintable() or len(name) > 200 or '"' in name:
            raise EmailConfigError(f"{option}: a mailbox name such as INBOX")
    if move_to == folder:
        raise EmailConfigError("--move-to: another folder than --folder")
    size = parse_size(max_bytes)
    try:
        poll_s = parse_duration(poll)
    except ValueError as exc:
        raise EmailConfigError(f"--poll: {exc}") from None
    if not 1 <= poll_s <= 3600:
        raise EmailConfigError("--poll: between 1s and 1h")
    name, address = parse_from(sender)
    if ack_language not in ACK_LANGUAGES:
        raise EmailConfigError("--ack-language: one of " + ", ".join(ACK_LANGUAGES))
    return EmailSettings(
        imap=parse_endpoint(imap, IMAP_SCHEMES, "--imap"),
        smtp=parse_endpoint(smtp, SMTP_SCHEMES, "--smtp"),
        from_name=name,
        from_address=address,
        password_env=password_env or None,
        password_file=str(Path(password_file).resolve()) if password_file else None,
        folder=folder,
        poll_s=poll_s,
        max_bytes=size,
        move_to=move_to or None,
        require_tls=bool(require_tls),
        acknowledge=bool(acknowledge),
        ack_language=ack_language,
    )


def settings_of(stored: dict[str, Any]) -> EmailSettings:
    """The settings kept in a channel's JSON, checked again (the store may be old or edited)."""
    return build_settings(
        imap=str(stored.get("imap", "")),
        smtp=str(stored.get("smtp", "")),
        sender=f"{stored.get('from_name') or ''} <{stored.get('from_address') or ''}>",
        password_env=stored.get("password_env"),
        password_file=stored.get("password_file"),
        folder=str(stored.get("folder") or "INBOX"),
        poll=float(stored.get("poll_s") or DEFAULT_POLL_S),
        max_bytes=int(stored.get("max_bytes") or DEFAULT_MAX_BYTES),
        move_to=stored.get("move_to") or None,
        require_tls=stored.get("require_tls") is True,
        acknowledge=stored.get("acknowledge") is True,
        ack_language=str(stored.get("ack_language") or "auto"),
    )


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*$", re.IGNORECASE)


def parse_size(text: int | str) -> int:
    """Bytes in `10MB`, `500KB`, `1.5M` or a plain number (of bytes)."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        match = _SIZE.match(str(text))
        if not match:
            raise EmailConfigError(f"--max-size: {text!r} is not a size like 10MB or 500KB")
        unit = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]
        value = int(float(match.group(1)) * unit)
    if not 1024 <= value <= 1024**3:
        raise EmailConfigError("--max-size: between 1KB and 1GB")
    return value


def size_text(count: int) -> str:
    """Bytes as a person reads them: `12.2 MB`, `3 KB`, `512 B` (a mail's or an attachment's
    size, and the channel's --max-size in the note about a mail too big to fetch)."""
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB"
    if count >= 1024:
        return f"{count / 1024:.0f} KB"
    return f"{count} B"
