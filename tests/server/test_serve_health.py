"""`GET /healthz` follows the store: 503 while PostgreSQL cannot be reached, 200 once it can.

The server reaches PostgreSQL through a small TCP relay that the test cuts and restores, so
the store really goes away (connections dropped, new ones refused) and really comes back.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from cs_tui.data.store import Store
from tests.conftest import PG_URL, make_pg_url
from tests.server.conftest import ServeProcess

pytestmark = [pytest.mark.slow, pytest.mark.pg]


class Relay:
    """Forwards 127.0.0.1:PORT to the database server until cut; `restore` listens again on
    the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        assert self._listener is not None
        with contextlib.suppress(OSError):  # wakes the thread blocked in accept()
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._conns.clear()


def test_healthz_is_503_while_the_store_is_away_and_200_after(tmp_path):
    if not PG_URL:
        pytest.skip("set CS_TUI_TEST_PG=postgresql://... to run the PostgreSQL tests")
    url = make_pg_url()
    Store.open(url).dispose()  # the schema exists before the relay is involved
    parts = urlsplit(url)
    relay = Relay((parts.hostname or "127.0.0.1", parts.port or 5432))
    relay.start()
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{relay.port}"
    relayed = urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) > 1 else host))
    server = ServeProcess(relayed, tmp_path / "home", "--no-deliver")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert client.get("/healthz").status_code == 200
            relay.cut()
            away = client.get("/healthz")
            assert away.status_code == 503
            assert away.json() == {"status": "unavailable", "store": "unreachable"}
            relay.start()
            back = client.get("/healthz")
            assert back.status_code == 200
        assert "Traceback" not in server.log()
    finally:
        relay.cut()
        assert server.terminate() == 0
