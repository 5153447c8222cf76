"""`cs-tui channels set` reaches a running serve: the fetcher takes the channel's settings anew
each poll or IDLE round (connecting again when the way to the mailbox changed), and the sender
does not reuse a connection opened under the old ones."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cs_tui.channels.email_config import build_settings
from cs_tui.channels.email_send import MailSender
from cs_tui.cli import main
from cs_tui.data.store import Store
from tests.mail import mails
from tests.mail.conftest import IMAP_PASSWORD, IMAP_USER, SMTP_PASSWORD, SMTP_USER
from tests.mail.fetched import store_fetched
from tests.mail.mailserver import smtp_sink
from tests.server.conftest import ServeProcess


def _set(db: str, *options: str) -> None:
    assert main(["channels", "set", "mail", *options, "--db", db]) == 0


def _until(check: Callable[[], bool], within: float = 30.0) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_require_tls_set_while_serving_is_not_sent_through_an_older_connection(
    sqlite_store, tmp_path, smtp, monkeypatch, capsys
):
    """The test's SMTP server offers no STARTTLS: once the channel requires TLS, the next
    reply is refused before anything is sent, although a connection from the reply before
    is idle and would take it."""
    store = sqlite_store
    monkeypatch.setenv("CS_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    settings = build_settings(
        imap="imap://service@127.0.0.1:1143",
        smtp=f"smtp://{SMTP_USER}@127.0.0.1:{smtp.port}",
        sender="service@shop.example",
        password_env="CS_TEST_SMTP_PASSWORD",
        password_file=None,
    )
    channel_id = store.add_channel(
        None, "email", "mail", channel_type="email", settings=settings.to_json()
    ).channel.id
    sue = store.add_agent(None, "sue", "Sue", "supervisor")
    raws = [
        mails.raw_mail(
            "utf-8", "在吗", subject="问", message_id=f"<t{n}@c.ex>", sender=f"c{n}@c.ex"
        )
        for n in (1, 2)
    ]
    store_fetched(store, channel_id, settings, tmp_path, raws)
    deliveries = []
    for n in (1, 2):
        conv = store.conversation_id(f"mail:{channel_id}:<t{n}@c.ex>")
        store.claim(sue, conv)
        store.post_reply(sue, conv, "在的")
        [delivery] = store.deliveries(sue, conversation_id=conv)
        deliveries.append(delivery.delivery_id)
    sender = MailSender(store)
    try:
        assert sender.send(deliveries[0]).kind == "sent"
        _set(store.location, "--require-tls", "--agent", "sue")
        refused = sender.send(deliveries[1])
    finally:
        sender.close()
    assert refused.kind == "failed" and "requires TLS" in (refused.reason or "")
    assert len(smtp.received) == 1


@pytest.mark.slow
def test_settings_changed_while_serve_runs_apply_without_a_restart(
    store_url, dovecot, tmp_path: Path, monkeypatch, capsys
):
    """Acknowledgement turned on: the next new mail is acknowledged. TLS required of a server
    without STARTTLS: the open connection is left and no mail is fetched until it is turned
    off again; then the mail waiting arrives."""
    monkeypatch.setenv("CS_TEST_IMAP_PASSWORD", IMAP_PASSWORD)
    folder = f"Live{time.monotonic_ns() % 10**9}"
    imap = dovecot.client(IMAP_USER)
    try:
        imap.create(folder)
    finally:
        imap.logout()
    with Store.open(store_url) as store:
        settings = build_settings(
            imap=dovecot.url(IMAP_USER),
            smtp=f"smtp://{SMTP_USER}@127.0.0.1:2525",
            sender="service@shop.example",
            password_env="CS_TEST_IMAP_PASSWORD",
            password_file=None,
            folder=folder,
            poll="1s",
        )
        channel_id = store.add_channel(
            None, "email", "mail", channel_type="email", settings=settings.to_json()
        ).channel.id

    def mail(n: int) -> bytes:
        return mails.raw_mail(
            "utf-8", f"第 {n} 封", subject=f"问 {n}", message_id=f"<v{n}@c.ex>", sender=f"v{n}@c.ex"
        )

    serve = ServeProcess(store_url, tmp_path / "home")
    try:
        with Store.open(store_url) as store:

            def conversation(n: int) -> int | None:
                try:
                    return store.conversation_id(f"mail:{channel_id}:<v{n}@c.ex>")
                except Exception:  # noqa: BLE001 - not stored yet
                    return None

            def acknowledged(n: int) -> bool:
                conv = conversation(n)
                return conv is not None and any(
                    m.author_kind == "system" for m in store.conversation(conv).messages
                )

            dovecot.append(IMAP_USER, mail(1), folder)
            assert _until(lambda: conversation(1) is not None), serve.log()
            time.sleep(1.5)  # a round later: still no acknowledgement (it is off)
            assert not acknowledged(1)
            _set(store_url, "--acknowledge", "--ack-language", "en")
            dovecot.append(IMAP_USER, mail(2), folder)
            assert _until(lambda: acknowledged(2)), serve.log()
            assert not acknowledged(1)  # (only a new conversation's first mail is)

            _set(store_url, "--require-tls")
            time.sleep(2.5)  # the fetcher's next round takes it
            dovecot.append(IMAP_USER, mail(3), folder)
            assert not _until(lambda: conversation(3) is not None, within=4.0), serve.log()
            assert "requires TLS" in serve.log()
            _set(store_url, "--no-require-tls")
            assert _until(lambda: conversation(3) is not None), serve.log()
    finally:
        assert serve.terminate() == 0, serve.log()


def test_an_address_only_smtputf8_can_carry_fails_at_once_saying_why(
    sqlite_store, tmp_path, monkeypatch
):
    """The test's SMTP server does not offer SMTPUTF8: a reply to `张伟@例子.中国` can never be
    sent through it, so it fails at the first attempt with a reason the agent can act on,
    instead of being retried until the give-up time."""
    with smtp_sink({SMTP_USER: SMTP_PASSWORD}, smtputf8=False) as smtp:
        _reply_to_an_smtputf8_address(sqlite_store, tmp_path, smtp, monkeypatch)


def _reply_to_an_smtputf8_address(store, tmp_path, smtp, monkeypatch) -> None:
    monkeypatch.setenv("CS_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    settings = build_settings(
        imap="imap://service@127.0.0.1:1143",
        smtp=f"smtp://{SMTP_USER}@127.0.0.1:{smtp.port}",
        sender="service@shop.example",
        password_env="CS_TEST_SMTP_PASSWORD",
        password_file=None,
    )
    channel_id = store.add_channel(
        None, "email", "mail", channel_type="email", settings=settings.to_json()
    ).channel.id
    raw = (
        "From: 张伟 <张伟@例子.中国>\r\nTo: service@shop.example\r\nSubject: 订单\r\n"
        "Date: Mon, 07 Dec 2026 10:00:00 +0800\r\nMessage-ID: <u1@c.ex>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "我的订单呢\r\n"
    ).encode()
    store_fetched(store, channel_id, settings, tmp_path, [raw])
    conv = store.conversation_id(f"mail:{channel_id}:<u1@c.ex>")
    sue = store.add_agent(None, "sue", "Sue", "supervisor")
    store.claim(sue, conv)
    store.post_reply(sue, conv, "马上查")
    [delivery] = store.deliveries(sue, conversation_id=conv)
    sender = MailSender(store)
    try:
        result = sender.send(delivery.delivery_id)
    finally:
        sender.close()
    assert result.kind == "failed", result
    assert "SMTPUTF8" in (result.reason or "") and "张伟@例子.中国" in (result.reason or "")
    assert smtp.received == []
