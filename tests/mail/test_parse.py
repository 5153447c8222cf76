"""Reading mails without a server: charsets declared wrong, encoded words, quoted history,
automatic mail, and names of attachments that try to leave their folder."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from cs_tui.channels.email_html import html_to_text
from cs_tui.channels.email_parse import MailParseError, parse_mail, split_quoted
from cs_tui.channels.email_send import reply_subject
from tests.mail import mails


def test_a_wrong_charset_declaration_is_read_by_detection():
    text = "您好，我想问一下这个订单什么时候发货，已经等了三天了，谢谢。" * 3
    # Declared UTF-8, sent as GBK (an old client's default): detection reads it.
    raw = mails.raw_mail("utf-8", text, subject="订单", codec="gbk")
    assert parse_mail(raw).new_text == text
    # Declared a charset that does not exist.
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=x-unknown-9"
        b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text.encode("utf-8")
    )
    assert parse_mail(raw).new_text == text


def test_encoded_words_and_8bit_headers_are_decoded():
    raw = mails.gb2312_mail()
    parsed = parse_mail(raw)
    assert parsed.subject == "订单𠀀没到" and parsed.sender_name == "张三"
    # A client that puts raw GBK bytes in the header, undeclared.
    raw = (
        b"From: "
        + "王五".encode("gbk")
        + b" <wang@example.com>\r\nSubject: "
        + ("退款进度".encode("gbk"))
        + b"\r\n\r\nhi\r\n"
    )
    parsed = parse_mail(raw)
    assert parsed.sender == "wang@example.com" and parsed.subject == "退款进度"


@pytest.mark.parametrize(
    "marker",
    [
        "On Tue, 10 Nov 2026 at 09:00, Shop <service@shop.example> wrote:",
        "在 2026年11月10日 09:00，客服 写道：",
        "发件人: 客服 <service@shop.example>",
        "-----原始邮件-----",
        "-----Original Message-----",
        "-- ",
    ],
)
def test_quoted_history_and_signature_are_split_off(marker):
    text = f"好的，谢谢！\n明天见。\n\n{marker}\n> 您的订单已发货\n> 祝好"
    assert split_quoted(text) == "好的，谢谢！\n明天见。"


def test_only_quotes_keeps_the_whole_text():
    assert split_quoted("> only a quote") == "> only a quote"


@pytest.mark.parametrize(
    ("header", "sender"),
    [
        ("Precedence: bulk\r\n", "a@example.com"),
        ("X-Autoreply: yes\r\n", "a@example.com"),
        ("List-Unsubscribe: <mailto:u@list.example>\r\n", "a@example.com"),
        ("", "no-reply@example.com"),
        ("", "MAILER-DAEMON@example.com"),
        ("Auto-Submitted: auto-generated\r\n", "a@example.com"),
    ],
)
def test_automatic_mail_is_recognised(header, sender):
    raw = mails.raw_mail("utf-8", "自动", subject="x", sender=sender, extra=header)
    assert parse_mail(raw).automatic


def test_a_person_writing_is_not_automatic():
    raw = mails.raw_mail("utf-8", "人", subject="x", extra="Auto-Submitted: no\r\n")
    assert parse_mail(raw).automatic is None


def test_attachment_names_cannot_leave_their_folder():
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg.set_content("see attached")
    msg.add_attachment(
        b"x", maintype="application", subtype="octet-stream", filename="../../etc/\x1b[31mpasswd"
    )
    [attachment] = parse_mail(bytes(msg)).attachments
    assert attachment.name == "_[31mpasswd"


def test_html_loses_scripts_and_keeps_links():
    text = html_to_text(
        '<p>Track <a href="https://t.example/1">here</a></p><script>x()</script>'
        "<style>p{}</style><ul><li>one</li><li>two</li></ul>"
    )
    assert text == "Track here (https://t.example/1)\n\n- one\n\n- two"


def test_mail_without_a_sender_cannot_be_read():
    with pytest.raises(MailParseError):
        parse_mail(mails.unparsable())


def test_reply_subject_has_one_re_and_one_tag():
    assert reply_subject("Re: 回复: [#7] 订单", 7) == "Re: [#7] 订单"
    assert reply_subject("", 9) == "Re: [#9]"


def test_a_very_long_or_strange_display_name_is_cut_not_refused():
    raw = (
        b"From: =?utf-8?B?"
        + __import__("base64").b64encode(("名" * 400 + "\x07").encode())
        + b"?= <long@example.com>\r\nSubject: x\r\n\r\nhi\r\n"
    )
    parsed = parse_mail(raw)
    assert parsed.sender == "long@example.com"
    assert parsed.sender_name == "名" * 200
