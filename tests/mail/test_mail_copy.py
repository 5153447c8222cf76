"""A store moved to another backend keeps its e-mail threads and cursors: a reply to a mail
fetched before the move joins its conversation, and new mail rows get fresh ids."""

from __future__ import annotations

from datetime import UTC, datetime

from cs_tui.data.copy import copy_store
from cs_tui.data.mail_store import IncomingMail
from cs_tui.data.store import Store

SETTINGS = {"imap": "imap://u@127.0.0.1:1", "smtp": "smtp://u@127.0.0.1:2"}


def _mail(n: int, refs: tuple[str, ...] = ()) -> IncomingMail:
    return IncomingMail(
        mail_id=f"<cp{n}@example.com>",
        sender="copy@example.com",
        sender_name=None,
        subject="订单",
        sent_at=datetime(2026, 11, 11, 8, n, tzinfo=UTC),
        text=f"第{n}封",
        full_text=f"第{n}封",
        author="customer",
        thread_ids=refs,
        tag=None,
    )


def test_copy_keeps_mail_threads_and_cursors(tmp_path, store_url, clock):
    source = str(tmp_path / "source.db")
    with Store.open(source, clock=clock) as s:
        made = s.add_channel(None, "email", "mail", channel_type="email", settings=SETTINGS)
        s.store_mail(made.channel.id, _mail(1))
        s.set_mail_cursor(made.channel.id, "INBOX", 77, 5)
    report = copy_store(source, store_url)
    assert report.ok and report.counts["mail_message"] == (1, 1)
    with Store.open(store_url, clock=clock) as t:
        channel_id = made.channel.id
        assert t.mail_cursor(channel_id, "INBOX") == (77, 5)
        assert t.known_mail_ids(channel_id, ["<cp1@example.com>"]) == {"<cp1@example.com>"}
        first = t.store_mail(channel_id, _mail(2, ("<cp1@example.com>",)))
        assert first.status == "stored"
        conv = t.conversation(first.conversation_id)
        assert [m.body for m in conv.messages] == ["第1封", "第2封"]


def test_a_supervisor_deletes_an_email_conversation_with_its_mail_rows(store, clock):
    sup = store.add_agent(None, "sue", "Sue", "supervisor")
    made = store.add_channel(sup, "email", "mail", channel_type="email", settings=SETTINGS)
    stored = store.store_mail(made.channel.id, _mail(1))
    store.delete_conversation(sup, stored.conversation_id)
    assert store.known_mail_ids(made.channel.id, ["<cp1@example.com>"]) == set()
