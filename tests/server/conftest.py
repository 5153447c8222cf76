"""A real `cs-tui serve` process on an ephemeral port, and a store to set it up and check it.

The server binds port 0 and says `cs-tui serve: listening on http://HOST:PORT` on stderr; the
harness reads the port from that line. stderr goes to a file (an unread pipe would fill up
and stall the server), which the tests read for the access log.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from cs_tui.data.store import Store
from tests.conftest import PG_URL, make_pg_url

LISTENING = re.compile(r"cs-tui serve: listening on (http://\S+)")
START_TIMEOUT_S = 30.0


class ServeProcess:
    def __init__(self, db: str, home: Path, *options: str) -> None:
        self.db = db
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.log_path = home / f"serve-{time.monotonic_ns()}.log"
        env = dict(os.environ)
        env.update(
            CS_TUI_DATA_DIR=str(home / "data"),
            CS_TUI_CONFIG_DIR=str(home / "config"),
        )
        for name in ("CS_TUI_DB", "CS_TUI_AGENT", "CS_TUI_CONFIG"):
            env.pop(name, None)
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cs_tui",
                "serve",
                "--db",
                db,
                "--bind",
                "127.0.0.1:0",
                *options,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env=env,
        )
        self.url = self._wait_for_url()

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            match = LISTENING.search(self.log())
            if match:
                return match.group(1)
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited with {self.proc.returncode}: {self.log()}")
            time.sleep(0.05)
        self.proc.kill()
        raise AssertionError(f"serve did not start: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def terminate(self, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._log.close()


@dataclass
class Gateway:
    """A running server and the channels set up for the tests (name -> token)."""

    server: ServeProcess
    store: Store
    tokens: dict[str, str]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, timeout=30)

    def auth(self, channel: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[channel]}"}


def backend_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return str(tmp_path / "store.db")
    if not PG_URL:
        pytest.skip("set CS_TUI_TEST_PG=postgresql://... to run the PostgreSQL tests")
    return make_pg_url()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)]


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> str:
    return request.param


def start_gateway(
    tmp_path: Path,
    backend: str,
    channels: dict[str, bool],
    *options: str,
    webhook_url: str = "http://127.0.0.1:9/hook",
) -> Iterator[Gateway]:
    """Channels named with their active flag, all with `webhook_url`; the store is open in
    the test process too."""
    url = backend_url(backend, tmp_path)
    store = Store.open(url)
    tokens = {}
    for name, active in channels.items():
        tokens[name] = store.add_channel(None, "api", name, webhook_url=webhook_url).token
        if not active:
            store.set_channel_active(None, name, False)
    server = ServeProcess(url, tmp_path / "home", *options)
    try:
        yield Gateway(server, store, tokens)
    finally:
        server.terminate()
        store.dispose()


def message(n: int | str, *, conversation: str = "c-1", **fields: object) -> dict[str, object]:
    """One inbound message in the import format (channel left out: the channel's type)."""
    line: dict[str, object] = {
        "message_id": f"m-{n}",
        "conversation_id": conversation,
        "customer": "wang.fang",
        "author": "customer",
        "text": f"where is my parcel {n}?",
        "sent_at": "2026-11-11T09:00:00+00:00",
    }
    line.update(fields)
    return line
