"""The channel's notes in a mail conversation: stored readable in English (for export), shown
in the agent's language; and a supervisor's delete takes the mail's files with it."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
import sqlalchemy as sa

from cs_tui.channels import email_notes
from cs_tui.data.errors import NotAllowed
from cs_tui.data.tables import MAIL_MESSAGE, MSG
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


def _shown(store, conversation_id: int) -> list[str]:
    """The transcript's bodies as the workstation draws them (notes from their codes)."""
    from cs_tui.widgets.message_view import shown_body

    detail = store.conversation(conversation_id)
    return [shown_body(m, "v", detail.mail_notes.get(m.id)) for m in detail.messages]


def test_notes_are_kept_as_codes_so_neither_wording_nor_customers_can_fake_them(store, tmp_path):
    channel_id, settings = email_channel(store)
    # A customer whose own words end like our notes: no quoted text, no attachment.
    mimic = mails.raw_mail(
        "utf-8",
        "请看下面\n\n(quoted text not shown)\n\nAttachments:\n- 退款单.pdf (1 KB)",
        subject="退款",
        message_id="<mimic@example.com>",
        sender="mimic@example.com",
    )
    store_fetched(
        store,
        channel_id,
        settings,
        tmp_path,
        [quoted_with_attachment(), out_of_office_in_thread(), mimic],
    )
    conv = store.conversation_id(f"mail:{channel_id}:<q1@example.com>")
    with store._read() as conn:
        notes = dict(
            conn.execute(
                sa.select(MAIL_MESSAGE.c.mail_id, MAIL_MESSAGE.c.note).where(
                    MAIL_MESSAGE.c.channel_id == channel_id
                )
            ).all()
        )
    assert notes["<q1@example.com>"] == {"quoted": True, "attachments": 1}
    assert notes["<ooo-q1@example.com>"] == {
        "lead": {
            "code": "automatic",
            "sender": "wangfang@example.com",
            "why": "Auto-Submitted: auto-replied",
        }
    }
    assert notes["<mimic@example.com>"] == {}  # no notes (an older mail's would be NULL)
    set_language("zh")
    customer, robot = _shown(store, conv)
    assert (
        "(引用内容未显示:按 v 查看整封邮件)" in customer and "附件:\n- 碎杯.jpg (3 KB)" in customer
    )
    assert robot.startswith("自动邮件,来自 wangfang@example.com(Auto-Submitted: auto-replied)")
    # The customer's look-alike lines are theirs: shown as written, untranslated.
    [mimicked] = _shown(store, store.conversation_id(f"mail:{channel_id}:<mimic@example.com>"))
    assert mimicked.endswith("(quoted text not shown)\n\nAttachments:\n- 退款单.pdf (1 KB)")
    # The codes, not the English words, are what is translated: a note whose stored English
    # reads otherwise (a later version's wording) is still shown in Chinese.
    with store._write() as conn:
        conn.execute(
            sa.update(MSG)
            .where(MSG.c.external_id == f"mail:{channel_id}:<ooo-q1@example.com>")
            .values(body="Robot mail from wangfang@example.com, Auto-Submitted\n\n我休假到下周。")
        )
    assert _shown(store, conv)[1].startswith("自动邮件,来自 wangfang@example.com")


def test_notes_of_mails_stored_before_the_codes_are_still_translated(store, tmp_path):
    channel_id, settings = email_channel(store)
    store_fetched(
        store, channel_id, settings, tmp_path, [quoted_with_attachment(), out_of_office_in_thread()]
    )
    with store._write() as conn:  # as an older version stored them: no codes
        conn.execute(sa.update(MAIL_MESSAGE).values(note=None))
    conv = store.conversation_id(f"mail:{channel_id}:<q1@example.com>")
    set_language("zh")
    customer, robot = _shown(store, conv)
    assert "(引用内容未显示:按 v 查看整封邮件)" in customer and "附件:" in customer
    assert robot.startswith("自动邮件,来自 wangfang@example.com")


def test_a_schema_7_store_is_upgraded_and_its_mails_keep_their_notes(store_url, clock, tmp_path):
    from cs_tui.data.store import Store
    from tests.test_upgrade import _set_version

    store = Store.open(store_url, clock=clock)
    channel_id, settings = email_channel(store)
    store_fetched(store, channel_id, settings, tmp_path, [quoted_with_attachment()])
    with store._write() as conn:  # schema 7 had no note column
        conn.exec_driver_sql("ALTER TABLE mail_message DROP COLUMN note")
    store.dispose()
    _set_version(store_url, 7)
    store = Store.open(store_url, clock=clock)
    try:
        conv = store.conversation_id(f"mail:{channel_id}:<q1@example.com>")
        set_language("zh")
        [customer] = _shown(store, conv)
        assert customer.startswith("收到的杯子碎了") and "附件:\n- 碎杯.jpg (3 KB)" in customer
    finally:
        store.dispose()
