"""`cs-tui serve` fetches its e-mail channels by itself: new mail arrives by IMAP IDLE, and a
serve killed with SIGKILL halfway through a fetch leaves nothing stored twice."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cs_tui.channels.email_config import build_settings
from cs_tui.data.store import Store
from tests.mail import mails
from tests.mail.conftest import IMAP_PASSWORD, IMAP_USER, SMTP_USER
from tests.server.conftest import ServeProcess

pytestmark = pytest.mark.slow


def _setup(store: Store, dovecot, folder: str, poll: str) -> int:
    imap = dovecot.client(IMAP_USER)
    try:
        imap.create(folder)
    finally:
        imap.logout()
    settings = build_settings(
        imap=dovecot.url(IMAP_USER),
        smtp=f"smtp://{SMTP_USER}@127.0.0.1:2525",
        sender="service@shop.example",
        password_env="CS_TEST_IMAP_PASSWORD",
        password_file=None,
        folder=folder,
        poll=poll,
    )
    made = store.add_channel(
        None, "email", "mail", channel_type="email", settings=settings.to_json()
    )
    return made.channel.id


def _messages(store: Store) -> list[str]:
    import sqlalchemy as sa

    with store._read() as conn:
        return [
            r[0]
            for r in conn.execute(
                sa.text("SELECT external_id FROM message WHERE external_id LIKE :p"),
                {"p": "mail:%"},
            )
        ]


def _until(check: Callable[[], bool], within: float = 60.0) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return check()


def _mail(n: int) -> bytes:
    body = f"第 {n} 封邮件\n" + "内容" * 2000
    return mails.raw_mail(
        "utf-8",
        body,
        subject=f"邮件 {n}",
        message_id=f"<k{n}@example.com>",
        sender=f"c{n % 7}@example.com",
    )


def test_a_channel_added_while_serve_runs_is_fetched_and_new_mail_arrives_by_idle(
    store_url, dovecot, tmp_path: Path, monkeypatch
):
    monkeypatch.setenv("CS_TEST_IMAP_PASSWORD", IMAP_PASSWORD)
    Store.open(store_url).dispose()
    serve = ServeProcess(store_url, tmp_path / "home")
    try:
        with Store.open(store_url) as store:
            # Added after serve started; polling once an hour: only IDLE brings the second
            # mail while the test waits.
            _setup(store, dovecot, f"Idle{time.monotonic_ns() % 10**9}", "1h")
            folder = store.email_channels()[0][2]["folder"]
            dovecot.append(IMAP_USER, _mail(1), folder)
            assert _until(lambda: len(_messages(store)) == 1), serve.log()
            assert "email channel mail: fetching" in serve.log()
            time.sleep(0.5)  # (not timed: lets the fetcher enter IDLE before the mail lands)
            dovecot.append(IMAP_USER, _mail(2), folder)
            assert _until(lambda: len(_messages(store)) == 2, within=30), serve.log()
    finally:
        assert serve.terminate() == 0, serve.log()
    assert IMAP_PASSWORD not in serve.log() and "内容" not in serve.log()


def test_a_fetch_killed_halfway_stores_each_mail_once(
    store_url, dovecot, tmp_path: Path, monkeypatch
):
    monkeypatch.setenv("CS_TEST_IMAP_PASSWORD", IMAP_PASSWORD)
    folder = f"Kill{time.monotonic_ns() % 10**9}"
    with Store.open(store_url) as store:
        _setup(store, dovecot, folder, "1s")
    total = 150
    imap = dovecot.client(IMAP_USER)
    try:
        for n in range(total):
            assert imap.append(folder, "", None, _mail(n))[0] == "OK"  # type: ignore[arg-type]
    finally:
        imap.logout()
    serve = ServeProcess(store_url, tmp_path / "home")
    with Store.open(store_url) as store:
        assert _until(lambda: len(_messages(store)) >= 20), serve.log()
        serve.proc.send_signal(signal.SIGKILL)
        serve.proc.wait(10)
        serve._log.close()
        stored_at_kill = len(_messages(store))
        assert stored_at_kill < total, "the fetch finished before it could be killed"
        again = ServeProcess(store_url, tmp_path / "home2")
        try:
            assert _until(lambda: len(_messages(store)) >= total), again.log()
            time.sleep(1.5)  # one more poll: nothing more may come
        finally:
            assert again.terminate() == 0, again.log()
        stored = _messages(store)
    assert len(stored) == total == len(set(stored))
