"""A real `cs-tui serve` with a web channel, and headless Chromium from the system's packages.

The browser and its driver are Debian's `chromium` and `chromium-driver` (installed by
.ci/install-system-deps); the driver's path is given to Selenium, so Selenium Manager never
runs and nothing is downloaded. Without them the tests skip locally and fail in CI (CI=true).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cs_tui.data.store import Store
from tests.server.conftest import ServeProcess, backend, backend_url

WAIT_S = 15.0
"""How long a test waits for something to show in the page (a condition, not a timing)."""


def chromium_paths() -> tuple[str, str]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or (
        "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
    )
    if binary and driver:
        return binary, driver
    why = "Chromium and chromedriver are needed (run .ci/install-system-deps)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture
def browser(tmp_path) -> Iterator[Callable[..., Any]]:
    """Open headless Chromium windows, each with its own profile (its own localStorage)."""
    binary, driver_path = chromium_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opened: list[Any] = []

    def open_browser(lang: str = "en-US") -> Any:
        options = Options()
        options.binary_location = binary
        for arg in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--no-first-run",
            "--window-size=1000,800",
            f"--lang={lang}",
            f"--user-data-dir={tmp_path / f'profile-{len(opened)}'}",
        ):
            options.add_argument(arg)
        options.add_experimental_option("prefs", {"intl.accept_languages": lang})
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        driver.set_page_load_timeout(WAIT_S)
        opened.append(driver)
        return driver

    yield open_browser
    for driver in opened:
        driver.quit()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class WebGateway:
    store: Store
    db: str
    home: Path
    port: int
    server: ServeProcess | None
    secret: str
    name: str = "shop"
    options: tuple[str, ...] = ()
    """More options for `serve` (the port is the gateway's)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server = ServeProcess(
            self.db, self.home, "--bind", f"127.0.0.1:{self.port}", *self.options
        )

    def kill(self) -> None:
        """SIGKILL: no goodbye to the pages, as when the machine dies."""
        assert self.server is not None
        self.server.proc.kill()
        self.server.proc.wait()
        self.server.terminate()
        self.server = None


def web_gateway(
    tmp_path: Path,
    *,
    origins: list[str] | None = None,
    settings: dict[str, Any] | None = None,
    policy: str | None = None,
    options: tuple[str, ...] = (),
    backend: str = "sqlite",
) -> Iterator[WebGateway]:
    """A web channel `shop` and `serve` on it; `policy` is the text of the team's SLA policy
    file, named by the server's config file (`sla_policy`), as a team would set it up."""
    if policy is not None:
        policy_file = tmp_path / "team-sla.toml"
        policy_file.write_text(policy, encoding="utf-8")
        config = tmp_path / "home" / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "config.toml").write_text(f'sla_policy = "{policy_file}"\n', encoding="utf-8")
    db = backend_url(backend, tmp_path)
    store = Store.open(db)
    made = store.add_channel(
        None,
        "web",
        "shop",
        settings={"origins": origins or ["http://shop.example"], **(settings or {})},
    )
    gateway = WebGateway(
        store, db, tmp_path / "home", free_port(), None, made.secret, options=options
    )
    gateway.start()
    try:
        yield gateway
    finally:
        if gateway.server is not None:
            gateway.server.terminate()
        store.dispose()


@pytest.fixture
def gateway(tmp_path) -> Iterator[WebGateway]:
    yield from web_gateway(tmp_path)


@pytest.fixture
def any_gateway(tmp_path, backend) -> Iterator[WebGateway]:
    """The gateway on each store: SQLite, and PostgreSQL when CS_TUI_TEST_PG names a server
    (a schema of its own; the LISTEN/NOTIFY change feed instead of SQLite's data_version)."""
    yield from web_gateway(tmp_path, backend=backend)


__all__ = ["backend"]  # the store fixture `any_gateway` is parametrised by (tests.server)


class ShopSite:
    """A shop's own web server on another port: one page (set `page` before it is asked for),
    embedding the gateway's widget."""

    def __init__(self, page: str = "") -> None:
        self.page = page
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                body = site.page.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
