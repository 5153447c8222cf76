"""The channel's automatic acknowledgement of a new mail: when someone will take it up, from the
SLA policy's calendar (the shipped one: e-mail on Monday-Friday 09:00-18:30, Asia/Shanghai),
in the customer's language, once per conversation and once a day per address, never to robots;
and it leaves by SMTP (aiosmtpd) marked Auto-Submitted and threaded under the customer's mail."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cs_tui.channels.email_config import build_settings
from cs_tui.channels.email_send import MailSender
from tests.mail import mails
from tests.mail.conftest import SMTP_PASSWORD, SMTP_USER
from tests.mail.fetched import store_fetched

FRIDAY_EVENING = datetime(2026, 11, 13, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
WEDNESDAY_MORNING = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def _channel(store, *, acknowledge: bool = True, language: str = "auto", smtp_port: int = 2525):
    settings = build_settings(
        imap="imap://service@127.0.0.1:1143",
        smtp=f"smtp://{SMTP_USER}@127.0.0.1:{smtp_port}",
        sender="小店客服 <service@shop.example>",
        password_env="CS_TEST_SMTP_PASSWORD",
        password_file=None,
        acknowledge=acknowledge,
        ack_language=language,
    )
    made = store.add_channel(
        None, "email", "service", channel_type="email", settings=settings.to_json()
    )
    return made.channel.id, settings


def _mail(body: str, subject: str, mail_id: str, sender: str = "li@customer.example", extra=""):
    return mails.raw_mail(
        "utf-8", body, subject=subject, message_id=mail_id, sender=sender, extra=extra
    )


def _acks(store, conv: int) -> list[str]:
    return [m.body for m in store.conversation(conv).messages if m.author_kind == "system"]


def test_outside_hours_it_says_when_the_team_is_back_and_by_when(store, clock, tmp_path):
    clock.set(FRIDAY_EVENING)
    channel_id, settings = _channel(store)
    store_fetched(
        store, channel_id, settings, tmp_path, [_mail("Where is my parcel?", "Parcel", "<a1@c>")]
    )
    conv = store.conversation_id(f"mail:{channel_id}:<a1@c>")
    [ack] = _acks(store, conv)
    # Back Monday 09:00; 24 h of open time (9.5 h a day) is Wednesday 14:00.
    assert "We are back on Mon 2026-11-16 09:00 (Asia/Shanghai time)" in ack
    assert "by Wed 2026-11-18 14:00" in ack
    assert f"#{conv}" in ack and "automatic reply" in ack
    # It is queued like a reply, but no person has answered: the assignment clock still runs.
    sup = store.add_agent(None, "sue", "Sue", "supervisor")
    [delivery] = store.deliveries(sup, conversation_id=conv)
    assert delivery.status == "queued"
    row = store.conversation(conv).row
    assert row.status == "new" and row.due_at is not None
    assert row.preview.startswith("Where is my parcel")


def test_inside_hours_in_chinese_for_a_chinese_mail(store, clock, tmp_path):
    clock.set(WEDNESDAY_MORNING)
    channel_id, settings = _channel(store)
    store_fetched(
        store, channel_id, settings, tmp_path, [_mail("我的包裹在哪里", "包裹", "<z1@c>")]
    )
    conv = store.conversation_id(f"mail:{channel_id}:<z1@c>")
    [ack] = _acks(store, conv)
    # 8.5 h left on Wednesday, 9.5 h on Thursday, 6 h on Friday.
    assert "24 小时" in ack and "2026-11-13（周五）15:00" in ack, ack
    assert "Asia/Shanghai" in ack and "自动回复" in ack


def test_once_per_conversation_once_a_day_per_address_never_for_robots(store, clock, tmp_path):
    clock.set(WEDNESDAY_MORNING)
    channel_id, settings = _channel(store, language="en")
    store_fetched(store, channel_id, settings, tmp_path, [_mail("Hello", "Order", "<o1@c>")])
    conv = store.conversation_id(f"mail:{channel_id}:<o1@c>")
    clock.advance(60)
    follow_up = _mail("And one more thing", "Re: Order", "<o2@c>", extra="In-Reply-To: <o1@c>\r\n")
    # The same address opens another conversation an hour later; a robot writes in too.
    other = _mail("A different question", "Invoice", "<o3@c>")
    robot = _mail(
        "I am away",
        "Out of office",
        "<r1@c>",
        sender="away@c.example",
        extra="Auto-Submitted: auto-replied\r\n",
    )
    listed = _mail(
        "News",
        "Our newsletter",
        "<l1@c>",
        sender="news@c.example",
        extra="List-Unsubscribe: <mailto:u@c.example>\r\n",
    )
    store_fetched(store, channel_id, settings, tmp_path, [follow_up, other, robot, listed])
    assert len(_acks(store, conv)) == 1
    assert _acks(store, store.conversation_id(f"mail:{channel_id}:<o3@c>")) == []
    for mail_id in ("<r1@c>", "<l1@c>"):
        bodies = _acks(store, store.conversation_id(f"mail:{channel_id}:{mail_id}"))
        assert all("automatic reply" not in b for b in bodies)
    # A day later the address is acknowledged again.
    clock.advance(days=1)
    store_fetched(store, channel_id, settings, tmp_path, [_mail("Hi again", "New", "<o4@c>")])
    assert len(_acks(store, store.conversation_id(f"mail:{channel_id}:<o4@c>"))) == 1


def test_off_unless_asked_for(store, clock, tmp_path):
    clock.set(FRIDAY_EVENING)
    channel_id, settings = _channel(store, acknowledge=False)
    store_fetched(store, channel_id, settings, tmp_path, [_mail("Hello", "Order", "<n1@c>")])
    assert _acks(store, store.conversation_id(f"mail:{channel_id}:<n1@c>")) == []


def test_it_leaves_marked_automatic_and_threaded(sqlite_store, clock, tmp_path, smtp, monkeypatch):
    monkeypatch.setenv("CS_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    clock.set(FRIDAY_EVENING)
    channel_id, settings = _channel(sqlite_store, smtp_port=smtp.port)
    store_fetched(
        sqlite_store, channel_id, settings, tmp_path, [_mail("Hello", "Order 7", "<s1@c>")]
    )
    conv = sqlite_store.conversation_id(f"mail:{channel_id}:<s1@c>")
    sup = sqlite_store.add_agent(None, "sue", "Sue", "supervisor")
    [delivery] = sqlite_store.deliveries(sup, conversation_id=conv)
    sender = MailSender(sqlite_store)
    try:
        assert sender.send(delivery.delivery_id).kind == "sent"
    finally:
        sender.close()
    [sent] = smtp.wait_for(1)
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["In-Reply-To"] == "<s1@c>"
    assert str(sent["Subject"]) == f"Re: [#{conv}] Order 7"
    assert "We are back on Mon 2026-11-16 09:00" in sent.get_body(("plain",)).get_content()
    assert smtp.received[0][1] == ["li@customer.example"]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_channel_may_fix_the_language(store, clock, tmp_path, language):
    clock.set(FRIDAY_EVENING)
    channel_id, settings = _channel(store, language=language)
    store_fetched(store, channel_id, settings, tmp_path, [_mail("你好", "订单", "<g1@c>")])
    [ack] = _acks(store, store.conversation_id(f"mail:{channel_id}:<g1@c>"))
    assert ("周一" in ack) is (language == "zh")


def test_a_failed_acknowledgement_is_not_an_undelivered_reply(store, clock, tmp_path):
    """The acknowledgement is the channel's, not the agent's: that it did not arrive is kept on
    its delivery, but the conversation is not marked as the agent's undelivered reply. An
    agent's reply that fails still is."""
    clock.set(WEDNESDAY_MORNING)
    channel_id, settings = _channel(store, language="en")
    store_fetched(store, channel_id, settings, tmp_path, [_mail("Hello", "Order", "<f1@c>")])
    conv = store.conversation_id(f"mail:{channel_id}:<f1@c>")
    sue = store.add_agent(None, "sue", "Sue", "supervisor")
    [ack] = store.deliveries(sue, conversation_id=conv)
    [job] = store.claim_deliveries("worker-1", 10, 60)
    assert job.delivery_id == ack.delivery_id
    store.delivery_failed(ack.delivery_id, "worker-1", "SMTP 550: mailbox unavailable", 550)
    assert store.delivery(ack.delivery_id).status == "failed"
    assert "550" in (store.delivery(ack.delivery_id).last_error or "")
    assert store.delivery(ack.delivery_id).from_channel  # the channel's message, not sue's
    assert store.queue_row(conv).undelivered is False
    assert store.conversation(conv).row.undelivered is False
    # The agent's own reply failing is what the mark is for.
    store.claim(sue, conv)
    store.post_reply(sue, conv, "We are on it")
    reply = next(d for d in store.deliveries(sue, conversation_id=conv) if d.status == "queued")
    clock.advance(1)
    [job] = store.claim_deliveries("worker-1", 10, 60)
    store.delivery_failed(reply.delivery_id, "worker-1", "SMTP 550: mailbox unavailable", 550)
    assert store.queue_row(conv).undelivered is True
    # Resent, the reply is on its way again: the failed acknowledgement does not keep the mark.
    store.retry_delivery(sue, reply.delivery_id)
    assert store.queue_row(conv).undelivered is False


def test_a_bounce_of_the_acknowledgement_marks_no_reply_undelivered(
    sqlite_store, clock, tmp_path, smtp, monkeypatch
):
    monkeypatch.setenv("CS_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    clock.set(WEDNESDAY_MORNING)
    store = sqlite_store
    channel_id, settings = _channel(store, smtp_port=smtp.port)
    store_fetched(store, channel_id, settings, tmp_path, [_mail("Hello", "Order", "<bb1@c>")])
    conv = store.conversation_id(f"mail:{channel_id}:<bb1@c>")
    sue = store.add_agent(None, "sue", "Sue", "supervisor")
    [ack] = store.deliveries(sue, conversation_id=conv)
    sender = MailSender(store)
    try:
        assert sender.send(ack.delivery_id).kind == "sent"
    finally:
        sender.close()
    [sent] = smtp.wait_for(1)
    store_fetched(store, channel_id, settings, tmp_path, [mails.bounce(str(sent["Message-ID"]))])
    assert store.delivery(ack.delivery_id).status == "failed"
    assert "no such user" in (store.delivery(ack.delivery_id).last_error or "")
    assert store.queue_row(conv).undelivered is False


@pytest.mark.parametrize(
    ("header", "a_person_may_have_written_it"),
    [
        ("List-Id: Shop buyers <buyers.lists.c.example>", True),
        ("List-Post: <mailto:buyers@lists.c.example>", True),
        ("X-Auto-Response-Suppress: All", True),
        ("X-Auto-Response-Suppress: OOF, AutoReply", True),
        ("List-Unsubscribe: <mailto:leave@lists.c.example>", False),
        ("Return-Path: <>", False),
    ],
)
def test_mail_that_asks_for_no_automatic_answer_gets_none(
    store, clock, tmp_path, header, a_person_may_have_written_it
):
    """RFC 3834: no automatic answer to list mail (it would go to the list, or to someone who
    never wrote to us), to a sender that asks for none, or to a null return path (only
    notifications have one). A list header or X-Auto-Response-Suppress says how the mail
    travelled, not that no person wrote it: it is the customer's and its SLA clock runs. A null
    return path or List-Unsubscribe (a newsletter) is a machine's: no clock."""
    clock.set(WEDNESDAY_MORNING)
    channel_id, settings = _channel(store, language="en")
    store_fetched(
        store,
        channel_id,
        settings,
        tmp_path,
        [_mail("Is my order on its way?", "Order", "<q1@c>", extra=header + "\r\n")],
    )
    conv = store.conversation_id(f"mail:{channel_id}:<q1@c>")
    assert all("automatic reply" not in b for b in _acks(store, conv))
    sup = store.add_agent(None, "sue", "Sue", "supervisor")
    assert store.deliveries(sup, conversation_id=conv) == []
    detail = store.conversation(conv)
    if a_person_may_have_written_it:
        assert detail.messages[0].author_kind == "customer"
        assert detail.row.status == "new" and detail.row.due_at is not None
    else:
        assert detail.messages[0].author_kind == "system"
        assert detail.row.status == "closed"
    # The same address writing plainly later is acknowledged: nothing was sent to it before.
    store_fetched(store, channel_id, settings, tmp_path, [_mail("Hello?", "Again", "<q2@c>")])
    assert len(_acks(store, store.conversation_id(f"mail:{channel_id}:<q2@c>"))) == 1
