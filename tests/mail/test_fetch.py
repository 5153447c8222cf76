"""Fetching a real Dovecot mailbox into the store: charsets, HTML, attachments, automatic mail,
size limit, quarantine, and no mail stored twice."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cs_tui.channels.email_config import build_settings
from cs_tui.channels.email_fetch import MailFetcher
from cs_tui.data.store import Store
from tests.mail import mails
from tests.mail.conftest import IMAP_PASSWORD, IMAP_USER, SMTP_USER

pytestmark = pytest.mark.slow


def _channel(store: Store, dovecot, folder: str) -> tuple[int, object]:
    settings = build_settings(
        imap=dovecot.url(IMAP_USER),
        smtp=f"smtp://{SMTP_USER}@127.0.0.1:2525",
        sender="小店客服 <service@shop.example>",
        password_env="MAIL_PASSWORD",
        password_file=None,
        folder=folder,
        poll="2s",
    )
    made = store.add_channel(
        None, "email", f"mail-{folder.lower()}", channel_type="email", settings=settings.to_json()
    )
    return made.channel.id, settings


def _folder(dovecot, name: str) -> str:
    imap = dovecot.client(IMAP_USER)
    try:
        imap.create(name)
    finally:
        imap.logout()
    return name


def _transcripts(store: Store) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    with store._read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT cu.handle, m.author_kind, m.body FROM message m "
            "JOIN conversation c ON c.id = m.conversation_id "
            "JOIN customer cu ON cu.id = c.customer_id ORDER BY m.id"
        ).all()
    for handle, kind, body in rows:
        out.setdefault(handle, []).append((kind, body))
    return out


def test_mails_of_every_kind_arrive_readable_and_once(dovecot, sqlite_store, tmp_path):
    folder = _folder(dovecot, "Kinds")
    channel_id, settings = _channel(sqlite_store, dovecot, folder)
    for raw in (
        mails.gb2312_mail(),
        mails.big5_mail(),
        mails.iso2022jp_mail(),
        mails.html_only_mail(),
        mails.alternative_with_attachment(),
        mails.no_message_id(),
        mails.big_mail(),
        mails.out_of_office(),
        mails.unparsable(),
    ):
        dovecot.append(IMAP_USER, raw, folder)
    sup = sqlite_store.add_agent(None, "sue", "Sue", "supervisor")
    fetcher = MailFetcher(sqlite_store, channel_id, settings, IMAP_PASSWORD, tmp_path / "data")
    try:
        stats = fetcher.fetch_once()
    finally:
        fetcher.close()
    assert stats.seen == 9 and stats.quarantined == 1 and stats.too_big == 1
    seen = _transcripts(sqlite_store)
    # GB2312-declared mail with characters only in GB18030: decoded, quote split off (the
    # transcript says so; `v` shows it).
    assert seen["customer@example.com"] == [
        ("customer", "您好，我的订单𠀀啰还没到。\n\n(quoted text not shown)")
    ]
    texts = {h: [b for _, b in v] for h, v in seen.items()}
    assert texts["chen@example.tw"] == ["請問退貨流程是什麼？"]
    assert texts["yamada@example.jp"] == ["注文はいつ届きますか。"]
    assert texts["html@example.com"] == ["Where is order 42?"]
    [with_files] = texts["lisi@example.com"]
    assert with_files.startswith("照片和发票在附件里。")
    assert "发票.pdf (2 KB)" in with_files and "image" not in with_files.split("\n")[0]
    saved = list((tmp_path / "data" / "mail" / "attachments").rglob("*发票.pdf"))
    assert len(saved) == 1 and saved[0].read_bytes().startswith(b"%PDF")
    assert texts["noid@example.com"] == ["没有 Message-ID 的邮件"]
    [stub] = texts["big@example.com"]
    assert "12.2 MB" in stub and "stays on the mail server" in stub
    [(kind, away)] = seen["away@example.com"]
    assert kind == "system" and "Auto-Submitted" in away
    # An automatic mail starts no SLA clock: nothing is owed to a robot.
    away_conv = sqlite_store.conversation_id(f"mail:{channel_id}:<ooo@example.com>")
    row = sqlite_store.conversation(away_conv).row
    assert row.due_at is None and row.sla_clock is None
    # A customer's mail does: e-mail's SLA (tickets: assigned within 24 h).
    first = sqlite_store.conversation(
        sqlite_store.conversation_id(f"mail:{channel_id}:<gb@example.com>")
    ).row
    assert first.due_at is not None and first.channel == "email"
    [quarantined] = list((tmp_path / "data" / "mail" / "quarantine").rglob("*.eml"))
    # (saved as the server gave it: Dovecot stores a NUL byte as 0x80)
    assert quarantined.read_bytes() == mails.unparsable().replace(b"\x00", b"\x80")
    notes = [b for h, v in seen.items() for k, b in v if k == "system" and str(quarantined) in b]
    assert len(notes) == 1
    # ... in a conversation left open in the queue, for someone to look at.
    [held] = [
        c
        for c in sqlite_store.queue(sup)
        if c.external_id.startswith("mail:")
        and c.channel == "email"
        and "could not be read" in c.preview
    ]
    assert held.status == "new"
    # Every mail is marked read on the server and stays there.
    flags = dovecot.flags(IMAP_USER, folder)
    assert len(flags) == 9 and all(b"\\Seen" in f for f in flags)

    # A second pass, and a pass after the cursor was lost (as after a UIDVALIDITY change):
    # nothing is stored twice.
    count = sum(len(v) for v in seen.values())
    for reset in (False, True):
        if reset:
            sqlite_store.set_mail_cursor(channel_id, folder, 1, 0)
        again = MailFetcher(sqlite_store, channel_id, settings, IMAP_PASSWORD, tmp_path / "data")
        try:
            again.fetch_once()
        finally:
            again.close()
        assert sum(len(v) for v in _transcripts(sqlite_store).values()) == count


def test_a_reply_joins_its_conversation_by_references_or_subject_tag(
    dovecot, store, tmp_path: Path
):
    folder = _folder(dovecot, f"Thread{id(store) % 10000}")
    channel_id, settings = _channel(store, dovecot, folder)
    first = mails.raw_mail(
        "utf-8",
        "第一封",
        subject="订单问题",
        message_id="<t1@example.com>",
        sender="thread@example.com",
    )
    dovecot.append(IMAP_USER, first, folder)
    fetcher = MailFetcher(store, channel_id, settings, IMAP_PASSWORD, tmp_path)
    try:
        fetcher.fetch_once()
        conv = store.conversation_id(f"mail:{channel_id}:<t1@example.com>")
        second = mails.raw_mail(
            "utf-8",
            "第二封",
            subject="Re: 订单问题",
            message_id="<t2@example.com>",
            sender="thread@example.com",
            extra="In-Reply-To: <t1@example.com>\r\nReferences: <t1@example.com>\r\n",
        )
        third = mails.raw_mail(
            "utf-8",
            "第三封",
            subject="Re: 订单问题",
            message_id="<t3@example.com>",
            sender="thread@example.com",
            extra="References: <t1@example.com> <t2@example.com>\r\n",
        )
        stripped = mails.raw_mail(
            "utf-8",
            "引用被删了",
            subject=f"Re: [#{conv}] 订单问题",
            message_id="<t4@example.com>",
            sender="thread@example.com",
        )
        for raw in (second, third, stripped):
            dovecot.append(IMAP_USER, raw, folder)
        fetcher.fetch_once()
    finally:
        fetcher.close()
    detail = store.conversation(conv)
    assert [m.body for m in detail.messages] == ["第一封", "第二封", "第三封", "引用被删了"]
    assert detail.row.channel == "email"


def test_move_to_and_a_size_limit_of_the_channels_own(dovecot, sqlite_store, tmp_path):
    source = _folder(dovecot, "MoveSrc")
    done = _folder(dovecot, "MoveDone")
    settings = build_settings(
        imap=dovecot.url(IMAP_USER),
        smtp=f"smtp://{SMTP_USER}@127.0.0.1:2525",
        sender="service@shop.example",
        password_env="MAIL_PASSWORD",
        password_file=None,
        folder=source,
        max_bytes="4KB",
        move_to=done,
    )
    made = sqlite_store.add_channel(
        None, "email", "moving", channel_type="email", settings=settings.to_json()
    )
    small = mails.raw_mail("utf-8", "小", subject="s", message_id="<s@example.com>")
    large = mails.raw_mail(
        "utf-8", "大" * 3000, subject="l", message_id="<l@example.com>", sender="l@example.com"
    )
    for raw in (small, large):
        dovecot.append(IMAP_USER, raw, source)
    fetcher = MailFetcher(sqlite_store, made.channel.id, settings, IMAP_PASSWORD, tmp_path)
    try:
        stats = fetcher.fetch_once()
    finally:
        fetcher.close()
    assert stats.stored == 1 and stats.too_big == 1
    assert dovecot.flags(IMAP_USER, source) == []
    moved = dovecot.flags(IMAP_USER, done)
    assert len(moved) == 2 and all(b"\\Seen" in f for f in moved)
    texts = [b for v in _transcripts(sqlite_store).values() for _, b in v]
    assert "小" in texts
    assert any("(the limit is 4 KB)" in t for t in texts)


def test_a_whole_thread_fetched_in_one_pass_is_one_conversation(dovecot, store, tmp_path):
    folder = _folder(dovecot, f"OnePass{time.monotonic_ns() % 10**9}")
    channel_id, settings = _channel(store, dovecot, folder)
    previous = None
    for n in range(1, 4):
        extra = f"In-Reply-To: {previous}\r\n" if previous else ""
        mid = f"<p{n}.{folder}@example.com>"
        raw = mails.raw_mail(
            "utf-8",
            f"第{n}封",
            subject="退款",
            message_id=mid,
            sender="pass@example.com",
            extra=extra,
        )
        dovecot.append(IMAP_USER, raw, folder)
        previous = mid
    fetcher = MailFetcher(store, channel_id, settings, IMAP_PASSWORD, tmp_path)
    try:
        assert fetcher.fetch_once().stored == 3
    finally:
        fetcher.close()
    conv = store.conversation_id(f"mail:{channel_id}:<p1.{folder}@example.com>")
    assert [m.body for m in store.conversation(conv).messages] == ["第1封", "第2封", "第3封"]


def test_a_folder_renumbered_by_the_server_is_read_again_without_duplicates(
    dovecot, sqlite_store, tmp_path
):
    folder = _folder(dovecot, f"Renum{time.monotonic_ns() % 10**9}")
    channel_id, settings = _channel(sqlite_store, dovecot, folder)
    raws = [
        mails.raw_mail(
            "utf-8",
            f"第{n}封",
            subject="s",
            message_id=f"<rn{n}.{folder}@x.example>",
            sender="renum@example.com",
        )
        for n in range(3)
    ]
    for raw in raws[:2]:
        dovecot.append(IMAP_USER, raw, folder)

    def fetch() -> None:
        fetcher = MailFetcher(sqlite_store, channel_id, settings, IMAP_PASSWORD, tmp_path)
        try:
            fetcher.fetch_once()
        finally:
            fetcher.close()

    fetch()
    before = sqlite_store.mail_cursor(channel_id, folder)
    # The folder is deleted and made again (a restore, a migration): new UIDVALIDITY, UIDs from 1.
    imap = dovecot.client(IMAP_USER)
    try:
        assert imap.delete(folder)[0] == "OK"
        assert imap.create(folder)[0] == "OK"
    finally:
        imap.logout()
    for raw in raws:
        dovecot.append(IMAP_USER, raw, folder)
    fetch()
    after = sqlite_store.mail_cursor(channel_id, folder)
    assert before is not None and after is not None and after[0] != before[0]
    texts = [b for v in _transcripts(sqlite_store).values() for _, b in v]
    assert sorted(texts) == ["第0封", "第1封", "第2封"]


def test_a_disabled_channel_fetches_nothing_and_loses_nothing(dovecot, sqlite_store, tmp_path):
    from cs_tui.data.errors import NotAllowed

    folder = _folder(dovecot, f"Off{time.monotonic_ns() % 10**9}")
    channel_id, settings = _channel(sqlite_store, dovecot, folder)
    dovecot.append(
        IMAP_USER,
        mails.raw_mail("utf-8", "关了吗", subject="s", message_id=f"<off.{folder}@x.example>"),
        folder,
    )
    sqlite_store.set_channel_active(None, f"mail-{folder.lower()}", False)
    fetcher = MailFetcher(sqlite_store, channel_id, settings, IMAP_PASSWORD, tmp_path)
    try:
        with pytest.raises(NotAllowed):
            fetcher.fetch_once()
        assert all(b"\\Seen" not in f for f in dovecot.flags(IMAP_USER, folder))
        assert list(tmp_path.rglob("*.eml")) == []
        sqlite_store.set_channel_active(None, f"mail-{folder.lower()}", True)
        assert fetcher.fetch_once().stored == 1
    finally:
        fetcher.close()
