"""`cs-tui channels add email` and `cs-tui channels test` against the real servers."""

from __future__ import annotations

import json

import pytest

from cs_tui.cli import main
from cs_tui.data.store import Store
from tests.mail.conftest import IMAP_PASSWORD, IMAP_USER, SMTP_USER

pytestmark = pytest.mark.slow


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def add_email(capsys, db: str, dovecot, smtp, *extra: str) -> tuple[int, str, str]:
    return cli(
        capsys,
        "channels",
        "add",
        "email",
        "mail",
        "--db",
        db,
        "--agent",
        "sue",
        "--imap",
        dovecot.url(IMAP_USER),
        "--smtp",
        f"smtp://{SMTP_USER}@127.0.0.1:{smtp.port}",
        "--from",
        "小店客服 <service@shop.example>",
        "--password-env",
        "SHOP_MAIL_PW",
        "--poll",
        "10s",
        *extra,
    )


def test_add_keeps_the_settings_but_never_the_password(
    capsys, sqlite_store, dovecot, smtp, monkeypatch
):
    db = sqlite_store.location
    monkeypatch.setenv("SHOP_MAIL_PW", IMAP_PASSWORD)
    rc, out, _ = add_email(capsys, db, dovecot, smtp, "--json")
    assert rc == 0
    shown = json.loads(out)
    assert shown["kind"] == "email" and shown["type"] == "email"
    assert shown["imap"] == dovecot.url(IMAP_USER) and shown["folder"] == "INBOX"
    assert shown["from_name"] == "小店客服" and shown["from_address"] == "service@shop.example"
    assert shown["password_env"] == "SHOP_MAIL_PW" and shown["poll_s"] == 10
    assert "token" not in shown and "secret" not in shown
    with Store.open(db) as store, store._read() as conn:
        dump = "\n".join(str(r) for r in conn.exec_driver_sql("SELECT * FROM gateway_channel"))
    assert IMAP_PASSWORD not in dump


def test_channels_test_says_what_works_and_what_does_not(
    capsys, sqlite_store, dovecot, smtp, monkeypatch
):
    db = sqlite_store.location
    # The same password opens both accounts here, as with most mail hosts.
    smtp.users[SMTP_USER] = IMAP_PASSWORD
    monkeypatch.setenv("SHOP_MAIL_PW", IMAP_PASSWORD)
    assert add_email(capsys, db, dovecot, smtp)[0] == 0
    rc, out, _ = cli(capsys, "channels", "test", "mail", "--db", db, "--agent", "sue", "--json")
    result = json.loads(out)
    assert rc == 0, result
    assert result["imap"]["ok"] and "IDLE" in result["imap"]["detail"]
    assert result["smtp"]["ok"]
    # A wrong password: both say so, and the command fails.
    monkeypatch.setenv("SHOP_MAIL_PW", "wrong")
    rc, out, _ = cli(capsys, "channels", "test", "mail", "--db", db, "--agent", "sue")
    assert rc == 1
    assert "IMAP  FAIL" in out and "SMTP  FAIL" in out and "wrong" not in out
    # No password at all: named, not a traceback.
    monkeypatch.delenv("SHOP_MAIL_PW")
    rc, out, _ = cli(capsys, "channels", "test", "mail", "--db", db, "--agent", "sue")
    assert rc == 1 and "SHOP_MAIL_PW is not set" in out


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--imap", "http://x@host", "--imap: the scheme"),
        ("--imap", "imap://user:pw@host", "no password in the URL"),
        ("--from", "not an address", "--from"),
        ("--poll", "soon", "--poll"),
    ],
)
def test_bad_settings_are_named(capsys, sqlite_store, dovecot, smtp, option, value, says):
    rc, _, err = add_email(capsys, sqlite_store.location, dovecot, smtp, option, value)
    assert rc != 0 and says in err


def test_the_password_may_come_from_a_file(capsys, sqlite_store, dovecot, smtp, tmp_path):
    secret = tmp_path / "mail-password"
    secret.write_text(IMAP_PASSWORD + "\n", encoding="utf-8")
    smtp.users[SMTP_USER] = IMAP_PASSWORD
    db = sqlite_store.location
    rc, out, err = cli(
        capsys,
        "channels",
        "add",
        "email",
        "mail",
        "--db",
        db,
        "--agent",
        "sue",
        "--imap",
        dovecot.url(IMAP_USER),
        "--smtp",
        f"smtp://{SMTP_USER}@127.0.0.1:{smtp.port}",
        "--from",
        "service@shop.example",
        "--password-file",
        str(secret),
    )
    assert rc == 0, err
    assert "read from" in out and str(secret) in out and IMAP_PASSWORD not in out
    rc, out, _ = cli(capsys, "channels", "test", "mail", "--db", db, "--agent", "sue")
    assert rc == 0, out
    assert out.count(" ok ") == 2


def test_a_move_to_folder_that_does_not_exist_is_named(
    capsys, sqlite_store, dovecot, smtp, monkeypatch
):
    monkeypatch.setenv("SHOP_MAIL_PW", IMAP_PASSWORD)
    smtp.users[SMTP_USER] = IMAP_PASSWORD
    db = sqlite_store.location
    assert add_email(capsys, db, dovecot, smtp, "--move-to", "Archive/Nope")[0] == 0
    rc, out, _ = cli(capsys, "channels", "test", "mail", "--db", db, "--agent", "sue")
    assert rc == 1 and "'Archive/Nope' does not exist" in out


def test_a_channel_that_requires_tls_refuses_servers_without_starttls(
    capsys, sqlite_store, dovecot, smtp, monkeypatch, tmp_path
):
    """Neither this Dovecot nor this aiosmtpd offers STARTTLS: with --require-tls nothing is
    logged in to, fetched or sent; `channels set --no-require-tls` lets the channel go on."""
    from cs_tui.channels.email_config import settings_of
    from cs_tui.channels.email_fetch import MailboxError, MailFetcher
    from cs_tui.channels.email_send import MailSender
    from tests.mail import mails

    monkeypatch.setenv("SHOP_MAIL_PW", IMAP_PASSWORD)
    smtp.users[SMTP_USER] = IMAP_PASSWORD
    db = sqlite_store.location
    rc, out, err = add_email(capsys, db, dovecot, smtp, "--require-tls", "--json")
    assert rc == 0, err
    assert json.loads(out)["require_tls"] is True
    rc, out, _ = cli(capsys, "channels", "test", "mail", "--db", db, "--agent", "sue", "--json")
    result = json.loads(out)
    assert rc == 1
    for server in ("imap", "smtp"):
        assert not result[server]["ok"]
        assert "no STARTTLS" in result[server]["detail"], result
        assert "requires TLS" in result[server]["detail"]
    # Serve's fetcher and sender refuse the same way.
    channel = sqlite_store.channel(None, "mail")
    settings = settings_of(channel.settings)
    dovecot.append(IMAP_USER, mails.raw_mail("utf-8", "在吗", subject="问"))
    fetcher = MailFetcher(sqlite_store, channel.id, settings, IMAP_PASSWORD, tmp_path)
    with pytest.raises(MailboxError, match="requires TLS"):
        fetcher.fetch_once()
    fetcher.close()
    assert sqlite_store.mail_cursor(channel.id, "INBOX") is None  # nothing was read
    from tests.mail.fetched import store_fetched

    store_fetched(
        sqlite_store,
        channel.id,
        settings,
        tmp_path,
        [mails.raw_mail("utf-8", "在吗", subject="问", message_id="<t1@c.example>")],
    )
    conv = sqlite_store.conversation_id(f"mail:{channel.id}:<t1@c.example>")
    sue = sqlite_store.add_agent(None, "sue", "Sue", "supervisor")
    sqlite_store.claim(sue, conv)
    sqlite_store.post_reply(sue, conv, "在的")
    [delivery] = sqlite_store.deliveries(sue, conversation_id=conv)
    sender = MailSender(sqlite_store)
    try:
        result_send = sender.send(delivery.delivery_id)
    finally:
        sender.close()
    assert result_send.kind == "failed" and "requires TLS" in (result_send.reason or "")
    assert smtp.received == []
    # Turned off later: the same servers are used again.
    rc, out, err = cli(
        capsys, "channels", "set", "mail", "--no-require-tls", "--db", db, "--agent", "sue"
    )
    assert rc == 0, err
    assert "require-tls = off" in out
    rc, out, _ = cli(capsys, "channels", "test", "mail", "--db", db, "--agent", "sue")
    assert rc == 0, out
