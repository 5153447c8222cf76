"""An e-mail conversation in the workstation: the transcript shows the new text and says the
quoted part is hidden; `v` shows the whole mail (subject, quoted history, signature, attachments
and where they are saved), drawn safe; the channel's notes read in the agent's language."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from textual.geometry import Region

from cs_tui.i18n import set_language
from cs_tui.screens.fullmessage import FullMessageScreen
from cs_tui.screens.workstation import WorkstationScreen
from tests.mail import mails
from tests.mail.fetched import email_channel, store_fetched
from tests.ui.pilot_helpers import alice, app_for, open_row, settle


@pytest.fixture(autouse=True)
def _english_after():
    yield
    set_language("en")


def customer_mail() -> bytes:
    msg = EmailMessage()
    msg["From"] = "王芳 <wangfang@example.com>"
    msg["To"] = mails.SHOP
    msg["Subject"] = "杯子碎了 [@click=app.quit]x[/] \x1b]52;c;aGk=\x07"
    msg["Date"] = mails.WHEN
    msg["Message-ID"] = "<cup@example.com>"
    msg.set_content(
        "收到的杯子碎了，照片在附件。\n\n-- \n王芳 [b]VIP[/b]\n\n"
        "在 2026年11月10日 上午9:00，小店客服 写道：\n> 您的订单已发货。\n"
    )
    msg.add_attachment(
        b"\xff\xd8 jpeg " + b"x" * 3000, maintype="image", subtype="jpeg", filename="碎杯.jpg"
    )
    return bytes(msg)


def absence_note() -> bytes:
    return mails.raw_mail(
        "utf-8",
        "我休假到下周。",
        subject="自动回复",
        message_id="<away@example.com>",
        sender="wangfang@example.com",
        extra="Auto-Submitted: auto-replied\r\nIn-Reply-To: <cup@example.com>\r\n",
    )


def drawn(widget) -> str:
    width, height = widget.size
    lines = widget.render_lines(Region(0, 0, width, min(max(height, 1), 400)))
    return "\n".join(strip.text for strip in lines)


def squeezed(text: str) -> str:
    return "".join(text.split())


def mail_conversation(store, tmp_path, raws: list[bytes]):
    """The mails stored as the fetcher stores them; the customer's conversation, alice's."""
    channel_id, settings = email_channel(store, "shop-mail", store.get_agent("sam"))
    stats = store_fetched(store, channel_id, settings, tmp_path / "data", raws)
    assert stats.stored == len(raws)
    conv = store.conversation_id(f"mail:{channel_id}:<cup@example.com>")
    assert store.claim(alice(store), conv)
    return store.queue_row(conv)


def no_raw_controls_or_actions(screen) -> None:
    for widget in screen.query("Static"):
        width, height = widget.size
        for strip in widget.render_lines(Region(0, 0, width, min(max(height, 1), 400))):
            for segment in strip:
                assert not set(segment.text) & {"\x1b", "\x9b", "\x07"}
                meta = segment.style.meta if segment.style else {}
                assert "@click" not in meta


HIDDEN = {
    "en": "(quoted text not shown: v shows the whole mail)",
    "zh": "(引用内容未显示:按 v 查看整封邮件)",
}
FILES = {"en": "Attachments:", "zh": "附件:"}
ROBOT = {
    "en": "Automatic mail from wangfang@example.com (Auto-Submitted: auto-replied)",
    "zh": "自动邮件,来自 wangfang@example.com(Auto-Submitted: auto-replied)",
}


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_v_shows_the_whole_mail(store, clock, tmp_path, lang):
    row = mail_conversation(store, tmp_path, [customer_mail()])
    app = app_for(store, clock, lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, row)
        transcript = squeezed(drawn(pilot.app.screen.query_one("#transcript-body")))
        assert squeezed("收到的杯子碎了，照片在附件。") in transcript
        assert "您的订单已发货" not in transcript  # the quoted history is left out...
        assert squeezed(HIDDEN[lang]) in transcript  # ...and the transcript says so
        assert squeezed(FILES[lang] + "- 碎杯.jpg (3 KB)") in transcript

        await pilot.press("v")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, FullMessageScreen)
        whole = squeezed(drawn(screen.query_one("#whole-text")))
        assert squeezed("收到的杯子碎了，照片在附件。") in whole
        assert "您的订单已发货。" in whole and squeezed("王芳 [b]VIP[/b]") in whole
        subject = drawn(screen.query_one("#mail-subject"))
        assert "杯子碎了 [@click=app.quit]x[/]" in subject
        attached = squeezed(drawn(screen.query_one("#mail-attachments")))
        [saved] = list((tmp_path / "data" / "mail" / "attachments").rglob("*碎杯.jpg"))
        assert squeezed("碎杯.jpg (3 KB)") in attached and saved.name in attached
        no_raw_controls_or_actions(screen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, WorkstationScreen)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_an_automatic_mail_reads_in_the_agents_language(store, clock, tmp_path, lang):
    row = mail_conversation(store, tmp_path, [customer_mail(), absence_note()])
    app = app_for(store, clock, lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_row(pilot, row)
        transcript = squeezed(drawn(pilot.app.screen.query_one("#transcript-body")))
        assert squeezed(ROBOT[lang]) in transcript and "我休假到下周。" in transcript
        if lang == "zh":
            assert "Automatic" not in transcript and "Attachments" not in transcript
        # v: the newest mail is the absence note; its whole view keeps the note's first line.
        await pilot.press("v")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, FullMessageScreen)
        assert screen.message.author_kind == "system"
        whole = squeezed(drawn(screen.query_one("#whole-text")))
        assert squeezed(ROBOT[lang]) in whole and "我休假到下周。" in whole
        no_raw_controls_or_actions(screen)
