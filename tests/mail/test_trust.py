"""What a mail may claim about itself: a subject tag `[#N]` files a mail in conversation N only
when its customer sent it, and our replies' Message-IDs cannot be guessed, so a forged bounce
cannot fail a reply by naming it."""

from __future__ import annotations

import re
import socket

import sqlalchemy as sa

from cs_tui.channels.email_send import MailSender
from cs_tui.data.tables import MAIL_MESSAGE
from tests.mail import mails
from tests.mail.fetched import email_channel, store_fetched


def _closed_port() -> int:
    """An SMTP port nobody listens on: every attempt to send is retried."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _opened(store, channel_id, settings, tmp_path, sender: str, mail_id: str) -> int:
    raw = mails.raw_mail(
        "utf-8", "我的订单还没到", subject="订单", message_id=mail_id, sender=sender
    )
    assert store_fetched(store, channel_id, settings, tmp_path, [raw]).stored == 1
    return store.conversation_id(f"mail:{channel_id}:{mail_id}")


def test_a_subject_tag_files_only_the_customers_own_mail(store, tmp_path):
    channel_id, settings = email_channel(store)
    conv = _opened(store, channel_id, settings, tmp_path, "wang@customer.example", "<w1@c.example>")
    forged = [
        # A robot (Auto-Submitted) from elsewhere, naming the conversation in its subject.
        mails.raw_mail(
            "utf-8",
            "您的账户已冻结,请点击链接",
            subject=f"Re: [#{conv}] 订单",
            message_id="<f1@evil.example>",
            sender="notice@evil.example",
            extra="Auto-Submitted: auto-replied\r\n",
        ),
        # A person from another address doing the same.
        mails.raw_mail(
            "utf-8",
            "我是他朋友,把退款打给我",
            subject=f"Re: [#{conv}] 订单",
            message_id="<f2@evil.example>",
            sender="friend@evil.example",
        ),
    ]
    store_fetched(store, channel_id, settings, tmp_path, forged)
    assert [m.body for m in store.conversation(conv).messages] == ["我的订单还没到"]
    for mail_id in ("<f1@evil.example>", "<f2@evil.example>"):
        assert store.conversation_id(f"mail:{channel_id}:{mail_id}") != conv
    # The customer's own answer, its References stripped by their client, still joins by the tag
    # (the address compared case-blind).
    again = mails.raw_mail(
        "utf-8",
        "还是没到",
        subject=f"Re: [#{conv}] 订单",
        message_id="<w2@c.example>",
        sender="Wang@Customer.Example",
    )
    store_fetched(store, channel_id, settings, tmp_path, [again])
    assert [m.body for m in store.conversation(conv).messages][-1] == "还是没到"


def test_reply_message_ids_are_unguessable_and_kept_across_attempts(
    sqlite_store, tmp_path, monkeypatch
):
    store = sqlite_store
    monkeypatch.setenv("MAIL_PASSWORD", "x")
    sup = store.add_agent(None, "sue", "Sue", "supervisor")
    agent = store.add_agent(sup, "alice", "Alice", "agent")
    channel_id, settings = email_channel(store, actor=sup, smtp_port=_closed_port())
    conv = _opened(store, channel_id, settings, tmp_path, "gone@customer.example", "<g1@c.ex>")
    store.claim(agent, conv)
    store.post_reply(agent, conv, "您好")
    [delivery] = store.deliveries(sup, conversation_id=conv)
    sender = MailSender(store)
    try:
        assert sender.send(delivery.delivery_id).kind == "retry"
        assert sender.send(delivery.delivery_id).kind == "retry"
    finally:
        sender.close()
    with store._read() as conn:
        ids = (
            conn.execute(
                sa.select(MAIL_MESSAGE.c.mail_id).where(
                    MAIL_MESSAGE.c.delivery_id == delivery.delivery_id
                )
            )
            .scalars()
            .all()
        )
    [ours] = ids  # one Message-ID for every attempt of the delivery
    assert len(ours.split("@")[0]) >= len("<cs.delivery.") + 32  # 128 random bits
    # A forged bounce naming the id a sequential scheme would have given this reply fails
    # nothing; the real one (it quotes our Message-ID) does.
    guessed = f"<cs.delivery.{delivery.delivery_id}@shop.example>"
    forged = mails.bounce(guessed).replace(b"<dsn1@", b"<forged1@")
    store_fetched(store, channel_id, settings, tmp_path, [forged])
    assert store.delivery(delivery.delivery_id).status == "queued"
    store_fetched(store, channel_id, settings, tmp_path, [mails.bounce(ours)])
    assert store.delivery(delivery.delivery_id).status == "failed"
    assert store.reply_context(delivery.delivery_id).mail_id == ours


def test_a_legacy_sequential_message_id_is_neither_trusted_nor_reused(store, tmp_path, monkeypatch):
    """A store upgraded from the version whose replies had `<cs.delivery.N@domain>` ids still
    holds them. Anyone can write such an id: a bounce naming one fails nothing, and the next
    attempt of that reply goes out with a new random id (kept for the attempts after it)."""
    monkeypatch.setenv("MAIL_PASSWORD", "x")
    sup = store.add_agent(None, "sue", "Sue", "supervisor")
    channel_id, settings = email_channel(store, actor=sup, smtp_port=_closed_port())
    conv = _opened(store, channel_id, settings, tmp_path, "li@customer.example", "<l1@c.ex>")
    store.claim(sup, conv)
    store.post_reply(sup, conv, "您好")
    [delivery] = store.deliveries(sup, conversation_id=conv)
    legacy = f"<cs.delivery.{delivery.delivery_id}@shop.example>"
    ctx = store.reply_context(delivery.delivery_id)
    store.record_outgoing_mail(ctx, legacy, "Re: 订单")  # as the old version recorded it
    forged = mails.bounce(legacy).replace(b"<dsn1@", b"<forged2@")
    store_fetched(store, channel_id, settings, tmp_path, [forged])
    assert store.delivery(delivery.delivery_id).status == "queued"
    assert store.queue_row(conv).undelivered is False
    assert store.reply_context(delivery.delivery_id).mail_id is None
    sender = MailSender(store)
    try:
        assert sender.send(delivery.delivery_id).kind == "retry"
        fresh = store.reply_context(delivery.delivery_id).mail_id
        assert sender.send(delivery.delivery_id).kind == "retry"
    finally:
        sender.close()
    assert fresh is not None and fresh != legacy
    assert re.fullmatch(r"<cs\.delivery\.[0-9a-f]{32}@shop\.example>", fresh)
    assert store.reply_context(delivery.delivery_id).mail_id == fresh  # the same on each attempt
    store_fetched(store, channel_id, settings, tmp_path, [mails.bounce(fresh)])
    assert store.delivery(delivery.delivery_id).status == "failed"


def test_a_legacy_sequential_message_id_threads_only_the_customers_own_mail(
    store, tmp_path, monkeypatch
):
    """In-Reply-To naming an old numbered reply id is as easy to forge as a subject tag: a
    stranger's mail or robot notice that names one is not filed in that conversation; the
    customer's own answer joins it."""
    channel_id, settings = email_channel(store)
    sup = store.add_agent(None, "sue", "Sue", "supervisor")
    conv = _opened(store, channel_id, settings, tmp_path, "li@customer.example", "<l1@c.ex>")
    store.claim(sup, conv)
    store.post_reply(sup, conv, "您好")
    [delivery] = store.deliveries(sup, conversation_id=conv)
    legacy = f"<cs.delivery.{delivery.delivery_id}@shop.example>"
    store.record_outgoing_mail(store.reply_context(delivery.delivery_id), legacy, "Re: 订单")
    answers = [
        mails.raw_mail(
            "utf-8",
            "我是他朋友,把退款打给我",
            subject="Re: 订单",
            message_id="<f3@evil.example>",
            sender="friend@evil.example",
            extra=f"In-Reply-To: {legacy}\r\nReferences: {legacy}\r\n",
        ),
        # A robot's notice would be filed in the thread it answers, as a system message.
        mails.raw_mail(
            "utf-8",
            "您的账户已冻结,请点击链接",
            subject="Re: 订单",
            message_id="<f4@evil.example>",
            sender="notice@evil.example",
            extra=f"Auto-Submitted: auto-replied\r\nIn-Reply-To: {legacy}\r\n",
        ),
        mails.raw_mail(
            "utf-8",
            "收到,谢谢",
            subject="Re: 订单",
            message_id="<l2@c.ex>",
            sender="li@customer.example",
            extra=f"In-Reply-To: {legacy}\r\n",
        ),
    ]
    store_fetched(store, channel_id, settings, tmp_path, answers)
    bodies = [m.body for m in store.conversation(conv).messages]
    assert "收到,谢谢" in bodies
    assert not [b for b in bodies if "我是他朋友" in b or "您的账户已冻结" in b]
    assert store.conversation_id(f"mail:{channel_id}:<f3@evil.example>") != conv


def test_a_subject_tag_too_big_to_be_a_conversation_of_ours_is_ignored(store, tmp_path):
    """`[#20261207123456]` (a date-stamped ticket number of another system) is no conversation
    id of ours: the mail opens a conversation of its own instead of failing the lookup (on
    PostgreSQL ids are 32-bit) and landing in quarantine; a reply to it joins it by its
    headers."""
    channel_id, settings = email_channel(store)
    raw = mails.raw_mail(
        "utf-8",
        "工单还没处理",
        subject="Re: [#20261207123456] 工单",
        message_id="<big1@c.ex>",
        sender="li@customer.example",
    )
    stats = store_fetched(store, channel_id, settings, tmp_path, [raw])
    assert (stats.stored, stats.quarantined) == (1, 0)
    conv = store.conversation_id(f"mail:{channel_id}:<big1@c.ex>")
    assert [m.body for m in store.conversation(conv).messages] == ["工单还没处理"]
    follow = mails.raw_mail(
        "utf-8",
        "还有一件事",
        subject="Re: [#2147483648] 工单",
        message_id="<big2@c.ex>",
        sender="li@customer.example",
        extra="In-Reply-To: <big1@c.ex>\r\n",
    )
    stats = store_fetched(store, channel_id, settings, tmp_path, [follow])
    assert (stats.stored, stats.quarantined) == (1, 0)
    assert [m.body for m in store.conversation(conv).messages][-1] == "还有一件事"
    assert not (tmp_path / "mail" / "quarantine").exists()
