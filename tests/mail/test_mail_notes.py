"""The channel's notes in a mail conversation: stored readable in English (for export), shown
in the agent's language; and a supervisor's delete takes the mail's files with it."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
import sqlalchemy as sa

from cs_tui.channels import email_notes
from cs_tui.data.errors import NotAllowed
from cs_tui.data.tables import MSG
from cs_tui.i18n import set_language, translate
from tests.mail import mails
from tests.mail.fetched import email_channel, store_fetched


@pytest.fixture(autouse=True)
def _english_after():
    yield
    set_language("en")


def quoted_with_attachment() -> bytes:
    """A customer's answer above the quoted thread and a signature, with a photo attached."""
    msg = EmailMessage()
    msg["From"] = "王芳 <wangfang@example.com>"
    msg["To"] = mails.SHOP
    msg["Subject"] = "Re: [#7] 订单 2026111100042"
    msg["Date"] = mails.WHEN
    msg["Message-ID"] = "<q1@example.com>"
    msg.set_content(
        "收到的杯子碎了，照片在附件。\n\n-- \n王芳\n\n"
        "在 2026年11月10日 上午9:00，小店客服 写道：\n> 您的订单已发货。\n"
    )
    msg.add_attachment(
        b"\xff\xd8 jpeg " + b"x" * 3000, maintype="image", subtype="jpeg", filename="碎杯.jpg"
    )
    return bytes(msg)


def out_of_office_in_thread() -> bytes:
    return mails.raw_mail(
        "utf-8",
        "我休假到下周。",
        subject="自动回复: 订单",
        message_id="<ooo-q1@example.com>",
        sender="wangfang@example.com",
        extra="Auto-Submitted: auto-replied\r\nIn-Reply-To: <q1@example.com>\r\n",
    )


def _bodies(store, conversation_id: int) -> list[tuple[str, str]]:
    return [(m.author_kind, m.body) for m in store.conversation(conversation_id).messages]


def zh(msgid: str) -> str:
    return translate("zh", msgid)


def test_notes_are_stored_in_english_and_shown_in_the_agents_language(store, tmp_path):
    channel_id, settings = email_channel(store)
    stats = store_fetched(
        store,
        channel_id,
        settings,
        tmp_path / "data",
        [quoted_with_attachment(), out_of_office_in_thread(), mails.unparsable()],
    )
    assert stats.stored == 2 and stats.quarantined == 1
    conv = store.conversation_id(f"mail:{channel_id}:<q1@example.com>")
    [(kind, body), (robot, note)] = _bodies(store, conv)
    # Stored: the new text, then English notes that export reads as they are.
    assert kind == "customer"
    assert body.startswith("收到的杯子碎了，照片在附件。")
    assert "您的订单已发货" not in body and "王芳" not in body
    assert "(quoted text not shown)" in body
    assert "Attachments:\n- 碎杯.jpg (3 KB)" in body
    assert robot == "system"
    assert note.startswith(
        "Automatic mail from wangfang@example.com (Auto-Submitted: auto-replied)"
    )
    # Shown: the same notes in Chinese, the customer's words untouched.
    set_language("zh")
    from cs_tui.i18n import _

    shown = email_notes.localize(body, False, _, "v")
    assert shown.startswith("收到的杯子碎了，照片在附件。")
    assert "(引用内容未显示:按 v 查看整封邮件)" in shown
    assert "附件:\n- 碎杯.jpg (3 KB)" in shown and "Attachments" not in shown
    shown_note = email_notes.localize(note, True, _, "v")
    assert shown_note.startswith("自动邮件,来自 wangfang@example.com(Auto-Submitted: auto-replied)")
    assert "我休假到下周。" in shown_note
    # The quarantined mail's note names its file, in Chinese too.
    held = _quarantine_note(store)
    assert held.startswith("A mail could not be read (")
    shown_held = email_notes.localize(held, True, _, "v")
    assert shown_held.startswith("一封邮件无法读取(") and "已完整保存为" in shown_held
    # A customer cannot make their words look like the system's: a customer's text that reads
    # like a note is left as it is.
    assert email_notes.localize(note, False, _, "v") == note


def _quarantine_note(store) -> str:
    with store._read() as conn:
        return conn.execute(
            sa.select(MSG.c.body).where(
                MSG.c.author_kind == "system", MSG.c.body.startswith("A mail could not be read")
            )
        ).scalar_one()


def test_size_stub_and_every_template_have_both_translations():
    stub = email_notes.too_big("12.2 MB", "10.0 MB")
    assert stub == (
        "A mail of 12.2 MB was not fetched (the limit is 10.0 MB); it stays on the mail server."
    )
    set_language("zh")
    from cs_tui.i18n import _

    assert email_notes.localize(stub, False, _) == (
        "一封 12.2 MB 的邮件未收取(上限为 10.0 MB),原件仍在邮件服务器上。"
    )
    for msgid in (
        email_notes.AUTOMATIC,
        email_notes.AUTOMATIC_REASON,
        email_notes.QUARANTINED,
        email_notes.TOO_BIG,
        email_notes.ATTACHMENTS,
        email_notes.QUOTED_SHOWN,
    ):
        assert zh(msgid) != msgid and translate("en", msgid) == msgid


def test_a_deleted_conversation_takes_its_attachments_and_quarantined_mail(store, tmp_path):
    data = tmp_path / "data"
    channel_id, settings = email_channel(store)
    store_fetched(
        store,
        channel_id,
        settings,
        data,
        [quoted_with_attachment(), mails.alternative_with_attachment(), mails.unparsable()],
    )
    photo = next((data / "mail" / "attachments").rglob("*碎杯.jpg"))
    other = next((data / "mail" / "attachments").rglob("*发票.pdf"))
    [held] = list((data / "mail" / "quarantine").rglob("*.eml"))
    sup = store.add_agent(None, "sue", "Sue", "supervisor")
    agent = store.add_agent(sup, "al", "Al", "agent")
    conv = store.conversation_id(f"mail:{channel_id}:<q1@example.com>")
    # An agent may not delete: the files stay.
    with pytest.raises(NotAllowed):
        store.delete_conversation(agent, conv)
    assert photo.exists()
    store.delete_conversation(sup, conv)
    assert not photo.exists() and not photo.parent.exists()
    assert other.exists() and held.exists()  # another conversation's files are its own
    # The quarantined mail's note opened a conversation: deleting it removes the saved mail.
    with store._read() as conn:
        held_conv = conn.execute(
            sa.select(MSG.c.conversation_id).where(
                MSG.c.body.startswith("A mail could not be read")
            )
        ).scalar_one()
    store.delete_conversation(sup, held_conv)
    assert not held.exists()
    assert other.exists()
