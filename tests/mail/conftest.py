"""Fixtures of the e-mail tests: a real Dovecot per test module and aiosmtpd per test.

Without Dovecot installed (`.ci/install-system-deps` installs it) the tests that need it are
skipped on a developer's machine and fail in CI (CI=true), where a missing server is a broken
set-up, not a reason to test less.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.mail.mailserver import Dovecot, SmtpSink, dovecot_available, smtp_sink, start_dovecot

IMAP_USER = "service"
IMAP_PASSWORD = "imap-pass-1"
SMTP_USER = "service"
SMTP_PASSWORD = "smtp-pass-1"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    if not dovecot_available():
        message = "Dovecot is not installed (.ci/install-system-deps installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = start_dovecot({IMAP_USER: IMAP_PASSWORD})
    yield server
    server.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with smtp_sink({SMTP_USER: SMTP_PASSWORD}) as sink:
        yield sink
