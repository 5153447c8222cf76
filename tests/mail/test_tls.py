"""TLS as mail hosts require it: IMAP with STARTTLS and over TLS (imaps), SMTP with STARTTLS;
a certificate the system does not trust is refused, and said so."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cs_tui.channels.email_check import check_channel
from cs_tui.channels.email_config import build_settings
from cs_tui.channels.email_fetch import MailFetcher
from tests.mail import mails
from tests.mail.conftest import IMAP_PASSWORD, IMAP_USER
from tests.mail.mailserver import Dovecot, dovecot_available, smtp_sink, start_dovecot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tls_dovecot() -> Iterator[Dovecot]:
    if not dovecot_available():
        message = "Dovecot is not installed (.ci/install-system-deps installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = start_dovecot({IMAP_USER: IMAP_PASSWORD}, tls=True)
    yield server
    server.stop()


def _settings(imap: str, smtp_port: int):
    return build_settings(
        imap=imap,
        smtp=f"smtp://{IMAP_USER}@127.0.0.1:{smtp_port}",
        sender="service@shop.example",
        password_env="CS_TEST_TLS_PASSWORD",
        password_file=None,
    )


def test_starttls_and_imaps_are_used_and_checked(tls_dovecot, monkeypatch, sqlite_store, tmp_path):
    cert = tls_dovecot.root / "tls" / "cert.pem"
    key = tls_dovecot.root / "tls" / "key.pem"
    monkeypatch.setenv("CS_TEST_TLS_PASSWORD", IMAP_PASSWORD)
    with smtp_sink({IMAP_USER: IMAP_PASSWORD}, tls=(cert, key)) as smtp:
        imap_url = f"imap://{IMAP_USER}@127.0.0.1:{tls_dovecot.port}"
        imaps_url = f"imaps://{IMAP_USER}@127.0.0.1:{tls_dovecot.imaps_port}"
        # Not trusted yet: both refuse, saying why.
        checks = check_channel(_settings(imaps_url, smtp.port))
        assert not any(c.ok for c in checks)
        assert all("certificate" in c.detail.lower() for c in checks)
        # Trusted (as with a private CA): STARTTLS on imap:// and smtp://, TLS on imaps://.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        starttls = check_channel(_settings(imap_url, smtp.port))
        assert [c.ok for c in starttls] == [True, True]
        assert "(STARTTLS)" in starttls[0].detail and "(STARTTLS)" in starttls[1].detail
        [imaps, _] = check_channel(_settings(imaps_url, smtp.port))
        assert imaps.ok and "(TLS)" in imaps.detail
        # And a fetch over imaps stores the mail.
        tls_dovecot.append(IMAP_USER, mails.big5_mail())
        settings = _settings(imaps_url, smtp.port)
        made = sqlite_store.add_channel(
            None, "email", "tls", channel_type="email", settings=settings.to_json()
        )
        fetcher = MailFetcher(
            sqlite_store, made.channel.id, settings, IMAP_PASSWORD, Path(tmp_path)
        )
        try:
            assert fetcher.fetch_once().stored == 1
        finally:
            fetcher.close()
