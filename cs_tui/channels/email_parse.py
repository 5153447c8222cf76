"""One raw mail into what the store keeps: sender, threading ids, subject, new text, the whole
text, attachments, and whether it is an automatic mail or a bounce.

Parsed with the standard library's `email` package (policy.default). Text is decoded by what
the mail declares, with the declarations that lie most often read generously: GB2312 and GBK
as GB18030 (their superset, which mail clients really send), and a declaration that does not
decode (or none at all on 8-bit text) by detection (charset-normalizer). Encoded words in
headers (RFC 2047) get the same treatment. HTML-only mail becomes text (email_html).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header
from email.message import EmailMessage, Message
from email.policy import default as default_policy
from email.utils import getaddresses, parsedate_to_datetime

from cs_tui.channels.email_html import html_to_text
from cs_tui.data.coltypes import MAX_ROW_ID

MAX_TEXT = 200_000  # characters of a mail's text kept (the store takes up to 1,000,000)
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "big5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "iso-2022-jp": "iso2022_jp_ext",
    "utf8": "utf-8",
}
_NULL_PATH = re.compile(r"\s*<\s*>\s*")
_MSGID = re.compile(r"<[^<>\s]{1,290}>")
_TAG = re.compile(r"\[#(\d{1,18})\]")
_AUTO_SENDERS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|auto-?reply)([+@.-]|$)",
    re.IGNORECASE,
)
_QUOTE_MARKERS = re.compile(
    r"^\s*(?:"
    r"On\b.{0,300}\bwrote:\s*$"
    r"|.{0,300}写道[:：]\s*$"
    r"|.{0,300}於.{0,100}寫道[:：]\s*$"
    r"|[-_]{2,}\s*(?:原始邮件|原始郵件|Original Message|Forwarded message)\s*[-_]{2,}.*$"
    r"|(?:发件人|寄件者|From)\s*[:：].*$"
    r"|-- $"
    r"|--$"
    r")",
    re.IGNORECASE,
)


class MailParseError(ValueError):
    """The mail cannot be read as a customer's message (it is quarantined, not stored)."""


@dataclass
class Attachment:
    name: str
    size: int
    content_type: str
    data: bytes = field(repr=False)


@dataclass
class Bounce:
    """A delivery status notification: which of our mails failed and why."""

    original_id: str | None
    reason: str


@dataclass
class ParsedMail:
    mail_id: str  # the Message-ID, or one derived from the raw mail's hash
    sender: str  # the address, lower case
    sender_name: str | None
    subject: str
    sent_at: datetime | None
    in_reply_to: list[str]
    references: list[str]
    new_text: str  # without quoted history and signature
    full_text: str
    attachments: list[Attachment]
    automatic: str | None  # why it is an automatic mail, or None
    bounce: Bounce | None
    no_answer: str | None = None  # why a person's mail gets no automatic answer, or None

    @property
    def thread_ids(self) -> list[str]:
        """Ids to find the conversation by: In-Reply-To first, then References newest first."""
        seen: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen:
                seen.append(mid)
        return seen

    @property
    def conversation_tag(self) -> int | None:
        """The first `[#N]` in the subject that can be one of our conversation ids. A larger
        number (another system's ticket number, such as a date-stamped one) is not ours and is
        ignored: conversation ids are 32-bit on PostgreSQL."""
        for match in _TAG.finditer(self.subject):
            if 0 < int(match.group(1)) <= MAX_ROW_ID:
                return int(match.group(1))
        return None


def codec_for(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    return _CHARSET_ALIASES.get(name, name)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text by its declared charset (read generously), else by detection."""
    codec = codec_for(charset)
    if codec:
        try:
            return data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            pass
    if data.isascii():
        return data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        return str(best)
    return (
        data.decode(codec or "utf-8", errors="replace")
        if _known(codec)
        else (data.decode("utf-8", errors="replace"))
    )


def _known(codec: str | None) -> bool:
    import codecs

    if not codec:
        return False
    try:
        codecs.lookup(codec)
    except LookupError:
        return False
    return True


def decode_words(raw: str, hint: str | None = None) -> str:
    """A header's raw value (RFC 2047 encoded words, or raw 8-bit bytes) as text.

    Raw 8-bit bytes in a header declare nothing: they are read by `hint` (the body's charset,
    which the same client used), else as UTF-8, else, being short, as GB18030 when that gives
    Chinese text (detection guesses poorly on a few bytes), else by detection."""
    if not raw:
        return ""
    raw = re.sub(r"\r?\n[ \t]+", " ", raw)
    if any("\udc80" <= ch <= "\udcff" for ch in raw):  # 8-bit bytes kept by the parser
        data = raw.encode("ascii", "surrogateescape")
        for codec in (codec_for(hint), "utf-8", "gb18030"):
            if not codec:
                continue
            try:
                text = data.decode(codec)
            except (LookupError, UnicodeDecodeError):
                continue
            if codec != "gb18030" or all(_chinese_or_ascii(ch) for ch in text):
                return text.strip()
        return decode_bytes(data, None).strip()
    try:
        parts = decode_header(raw)
    except Exception:  # noqa: BLE001 - a broken encoded word is shown as it came
        return raw.strip()
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset))
        else:
            out.append(chunk)
    return "".join(out).strip()


def _chinese_or_ascii(ch: str) -> bool:
    return (
        ch.isascii()
        or "\u4e00" <= ch <= "\u9fff"
        or "\u3000" <= ch <= "\u303f"
        or ("\uff00" <= ch <= "\uffef")
    )


def _raw_header(msg: Message, name: str) -> str | None:
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _ids(raw: str | None) -> list[str]:
    return _MSGID.findall(raw or "")[:100]


def _sender(msg: Message, hint: str | None) -> tuple[str, str | None]:
    raw = _raw_header(msg, "From")
    if raw is None:
        raise MailParseError("no From header")
    text = decode_words(raw, hint)
    pairs = getaddresses([text])
    for name, address in pairs:
        address = address.strip().lower()
        if "@" in address and address.isprintable() and len(address) <= 200 and " " not in address:
            shown = "".join(ch if ch.isprintable() else " " for ch in name).strip()[:200]
            return address, (shown or None)
    raise MailParseError("no sender address in From")


def _hint(msg: Message) -> str | None:
    """The charset of the mail's first text part (its client's charset)."""
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            return part.get_content_charset()
    return None


def _date(msg: Message) -> datetime | None:
    raw = _raw_header(msg, "Date")
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def automatic_reason(msg: Message, sender: str) -> str | None:
    """Why this mail was sent by a machine (no SLA clock, never answered), or None."""
    auto = (_raw_header(msg, "Auto-Submitted") or "").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto[:40]}"
    precedence = (_raw_header(msg, "Precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "List-Unsubscribe"):
        if _raw_header(msg, name) is not None:
            return name
    if _NULL_PATH.fullmatch(_raw_header(msg, "Return-Path") or "x"):
        # RFC 5321 4.5.5: only notifications (bounces, receipts) go out with a null sender.
        return "Return-Path: <>"
    local = sender.partition("@")[0]
    if _AUTO_SENDERS.match(local):
        return f"sender {local}@"
    if msg.get_content_type() == "multipart/report":
        return "delivery report"
    return None


def no_answer_reason(msg: Message) -> str | None:
    """Why a mail that a person may well have written must still get no automatic answer, or
    None (RFC 3834 section 2): it came through a mailing list (List-Id, List-Post: an answer
    would go to the list, or to someone who never wrote to us), or its sender asks for none
    (X-Auto-Response-Suppress). Unlike automatic_reason, it is the customer's mail: its SLA
    clock runs."""
    for name in ("List-Id", "List-Post", "X-Auto-Response-Suppress"):
        if _raw_header(msg, name) is not None:
            return name
    return None


def _bounce(msg: Message) -> Bounce | None:
    if msg.get_content_type() != "multipart/report":
        return None
    reason = ""
    original: str | None = None
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            reason = _dsn_reason(part) or reason
        elif ctype in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            original = original or _original_id(part)
    return Bounce(original, reason or "the recipient's server refused the mail")


def _dsn_reason(part: Message) -> str:
    fields: dict[str, str] = {}
    payload = part.get_payload()
    blocks = payload if isinstance(payload, list) else []
    for block in blocks:
        if not isinstance(block, Message):
            continue
        for key, value in block.items():
            fields.setdefault(key.lower(), str(value))
    if not blocks:
        text = part.get_payload(decode=True)
        if not isinstance(text, bytes):
            text = b""
        for line in text.decode("utf-8", "replace").splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields.setdefault(key.strip().lower(), value.strip())
    diagnostic = fields.get("diagnostic-code", "").partition(";")[2].strip()
    status = fields.get("status", "").strip()
    reason = " ".join(x for x in (status, diagnostic) if x)
    return " ".join(reason.split())[:250]


def _original_id(part: Message) -> str | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        inner = payload[0]
        found = _ids(_raw_header(inner, "Message-ID"))
        return found[0] if found else None
    text = part.get_payload(decode=True)
    if not isinstance(text, bytes):
        return None
    match = re.search(rb"^Message-ID:\s*(<[^<>\s]+>)", text, re.IGNORECASE | re.MULTILINE)
    return match.group(1).decode("ascii", "replace") if match else None


def _part_text(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    return decode_bytes(data, part.get_content_charset())


def _body_and_attachments(msg: Message) -> tuple[str, list[Attachment]]:
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        # (parsing a header costs: Content-Disposition and names only where there are some)
        has_disposition = "Content-Disposition" in part
        disposition = (part.get_content_disposition() or "").lower() if has_disposition else ""
        named = has_disposition or "name" in (_raw_header(part, "Content-Type") or "").lower()
        filename = part.get_filename() if named else None
        if ctype in ("message/delivery-status",):
            continue
        if disposition == "attachment" or filename or not ctype.startswith("text/"):
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                name = decode_words(filename) if filename else _unnamed(ctype)
                attachments.append(Attachment(_safe_name(name), len(data), ctype, data))
            continue
        if ctype == "text/html":
            html.append(_part_text(part))
        elif ctype.startswith("text/"):
            plain.append(_part_text(part))
    if plain and any(p.strip() for p in plain):
        text = "\n\n".join(p for p in plain if p.strip())
    elif html:
        text = "\n\n".join(html_to_text(h) for h in html)
    else:
        text = ""
    return text.replace("\r\n", "\n").replace("\x00", "\ufffd"), attachments


def _unnamed(ctype: str) -> str:
    return "attachment." + (ctype.partition("/")[2] or "bin")[:20]


def _safe_name(name: str) -> str:
    """A file name as shown and saved: no directories, no control characters, not empty."""
    name = name.replace("\\", "/").rpartition("/")[2]
    name = "".join(ch if ch.isprintable() else "_" for ch in name).strip(" .")
    return (name or "attachment")[:150]


def split_quoted(text: str) -> str:
    """The new text of a reply: what comes before the quoted history or the signature."""
    lines = text.split("\n")
    cut = len(lines)
    for index, line in enumerate(lines):
        if _QUOTE_MARKERS.match(line) and index > 0:
            cut = index
            break
    # A block of "> " lines at the end is quoted too.
    while cut > 0 and (lines[cut - 1].startswith(">") or not lines[cut - 1].strip()):
        cut -= 1
    new = "\n".join(lines[:cut]).strip()
    return new or text.strip()


def derived_id(raw: bytes) -> str:
    """The id of a mail without a Message-ID: the same raw mail always gets the same one."""
    return f"<sha256.{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id>"


def header_message_id(raw_headers: bytes) -> str | None:
    """The Message-ID in a mail's header block (the cheap first look of a fetch)."""
    match = re.search(
        rb"^Message-ID:[ \t]*\r?\n?[ \t]*(<[^<>\s]{1,290}>)", raw_headers, re.I | re.M
    )
    return match.group(1).decode("ascii", "replace") if match else None


def parse_mail(raw: bytes) -> ParsedMail:
    """What the store keeps of one mail; MailParseError when it cannot be a message."""
    if not raw.strip():
        raise MailParseError("empty mail")
    head = raw[:65536]
    if b"\n\n" not in head.replace(b"\r\n", b"\n") and len(raw) > 65536:
        raise MailParseError("no end of the header block")
    try:
        msg = message_from_bytes(raw, policy=default_policy)
        assert isinstance(msg, EmailMessage)
        hint = _hint(msg)
        sender, name = _sender(msg, hint)
        ids = _ids(_raw_header(msg, "Message-ID"))
        text, attachments = _body_and_attachments(msg)
        subject = decode_words(_raw_header(msg, "Subject") or "", hint)
        parsed = ParsedMail(
            mail_id=ids[0] if ids else derived_id(raw),
            sender=sender,
            sender_name=name,
            subject="".join(ch if ch.isprintable() else " " for ch in subject)[:900],
            sent_at=_date(msg),
            in_reply_to=_ids(_raw_header(msg, "In-Reply-To")),
            references=_ids(_raw_header(msg, "References")),
            new_text="",
            full_text=text[:MAX_TEXT],
            attachments=attachments,
            automatic=automatic_reason(msg, sender),
            bounce=_bounce(msg),
            no_answer=no_answer_reason(msg),
        )
    except MailParseError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of a parser on hostile input
        raise MailParseError(f"unreadable mail ({type(exc).__name__})") from None
    parsed.new_text = split_quoted(parsed.full_text)
    return parsed
