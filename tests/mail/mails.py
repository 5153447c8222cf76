"""The mails of the e-mail tests, built as a customer's mail client (or a robot) sends them."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

SHOP = "service@shop.example"
WHEN = format_datetime(datetime(2026, 11, 11, 8, 0, tzinfo=UTC))


def _b(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset if charset != 'gb2312' else 'gb18030')).decode()}?="


def raw_mail(
    charset: str,
    body: str,
    *,
    subject: str,
    sender: str = "customer@example.com",
    name: str | None = None,
    message_id: str | None = "<m1@example.com>",
    extra: str = "",
    codec: str | None = None,
    date: str = WHEN,
) -> bytes:
    """A text/plain mail declared `charset`, its body and encoded words in `codec`."""
    codec = codec or charset
    who = f"{_b(name, charset)} <{sender}>" if name else sender
    head = (
        f"From: {who}\r\nTo: {SHOP}\r\nSubject: {_b(subject, charset)}\r\nDate: {date}\r\n"
        + (f"Message-ID: {message_id}\r\n" if message_id else "")
        + extra
        + f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset={charset}\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head.encode("ascii") + body.replace("\n", "\r\n").encode(codec)


def gb2312_mail() -> bytes:
    # 𠀀 and 啰 are outside GB2312: clients that declare GB2312 really send GB18030/GBK.
    return raw_mail(
        "gb2312",
        "您好，我的订单𠀀啰还没到。\n\n在 2026年11月10日 周二 上午9:00，客服 写道：\n> 已发货",
        subject="订单𠀀没到",
        name="张三",
        message_id="<gb@example.com>",
        codec="gb18030",
    )


def big5_mail() -> bytes:
    return raw_mail(
        "big5",
        "請問退貨流程是什麼？",
        subject="退貨",
        name="陳小姐",
        message_id="<big5@example.tw>",
        sender="chen@example.tw",
    )


def iso2022jp_mail() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Yamada <yamada@example.jp>"
    msg["To"] = SHOP
    msg["Subject"] = "注文について"
    msg["Date"] = WHEN
    msg["Message-ID"] = "<jp@example.jp>"
    msg.set_content("注文はいつ届きますか。", charset="iso-2022-jp", cte="7bit")
    return bytes(msg)


def html_only_mail() -> bytes:
    msg = EmailMessage()
    msg["From"] = "html@example.com"
    msg["To"] = SHOP
    msg["Subject"] = "HTML only"
    msg["Date"] = WHEN
    msg["Message-ID"] = "<html@example.com>"
    msg.set_content(
        "<html><head><style>p{color:red}</style></head><body><p>Where is <b>order 42</b>?</p>"
        "<script>alert(1)</script></body></html>",
        subtype="html",
    )
    return bytes(msg)


def alternative_with_attachment() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Li Si <lisi@example.com>"
    msg["To"] = SHOP
    msg["Subject"] = "=?utf-8?B?" + base64.b64encode("发票和照片".encode()).decode() + "?="
    msg["Date"] = WHEN
    msg["Message-ID"] = "<alt@example.com>"
    msg.set_content("照片和发票在附件里。")
    msg.add_alternative('<p>照片和发票在附件里。<img src="cid:img1"></p>', subtype="html")
    msg.get_payload()[1].add_related(b"\x89PNG fake", "image", "png", cid="<img1>")
    msg.add_attachment(
        b"%PDF-1.4 " + b"x" * 2000, maintype="application", subtype="pdf", filename="发票.pdf"
    )
    return bytes(msg)


def no_message_id() -> bytes:
    return raw_mail(
        "utf-8",
        "没有 Message-ID 的邮件",
        subject="无ID",
        message_id=None,
        sender="noid@example.com",
    )


def big_mail(size: int = 12 * 1024 * 1024) -> bytes:
    body = ("x" * 76 + "\n") * (size // 77 + 1)
    return raw_mail(
        "us-ascii", body, subject="big", message_id="<big@example.com>", sender="big@example.com"
    )


def out_of_office() -> bytes:
    return raw_mail(
        "utf-8",
        "我休假到下周。",
        subject="自动回复: 订单",
        message_id="<ooo@example.com>",
        sender="away@example.com",
        extra="Auto-Submitted: auto-replied\r\n",
    )


def unparsable() -> bytes:
    return b"this is not a mail at all, no headers, no sender\r\n\x00\xff\xfe garbage"


def bounce(original_id: str) -> bytes:
    """A delivery status notification (RFC 3464) for one of our mails, sent now."""
    now = format_datetime(datetime.now(UTC) + timedelta(seconds=1))
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>\r\n"
        f"To: {SHOP}\r\nSubject: Undelivered Mail Returned to Sender\r\nDate: {now}\r\n"
        "Message-ID: <dsn1@mx.customer.example>\r\nAuto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BB"\r\n\r\n'
        "--BB\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "Your message could not be delivered.\r\n\r\n"
        "--BB\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.customer.example\r\n\r\n"
        "Final-Recipient: rfc822; gone@customer.example\r\nAction: failed\r\n"
        "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <gone@customer.example>: no such user\r\n\r\n"
        "--BB\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: service@shop.example\r\nTo: gone@customer.example\r\nMessage-ID: {original_id}\r\n"
        "Subject: Re: hello\r\n\r\n"
        "--BB--\r\n"
    ).encode("ascii")
