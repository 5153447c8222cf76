"""`serve --trusted-proxy`: X-Forwarded-For names the client only when the request comes from a
trusted proxy, read from the right (the rightmost address that is not a trusted proxy), so the web
chat's per-address limits count visitors behind a reverse proxy apart, and a visitor cannot pick
their own address by sending the header."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest

from cs_tui.cli import main
from cs_tui.server.forwarded import client_address, parse_network

PROXIES = (parse_network("10.0.0.0/8"), parse_network("2001:db8::/32"))


@pytest.mark.parametrize(
    ("peer", "header", "client"),
    [
        # From a trusted proxy: the address it saw.
        ("10.0.0.2", ["203.0.113.5"], "203.0.113.5"),
        # Two proxies of ours, the visitor before them.
        ("10.0.0.2", ["203.0.113.5, 10.0.0.9"], "203.0.113.5"),
        # Two headers count as one list.
        ("10.0.0.2", ["203.0.113.5", "10.0.0.9"], "203.0.113.5"),
        # What the visitor wrote themselves (left of what our proxy saw) is never read.
        ("10.0.0.2", ["1.1.1.1, 203.0.113.5"], "203.0.113.5"),
        # Ports and IPv6 as proxies write them.
        ("10.0.0.2", ["203.0.113.5:5123"], "203.0.113.5"),
        ("2001:db8::7", ["[2001:db9::5]:443"], "2001:db9::5"),
        # From anyone else the header is ignored.
        ("198.51.100.1", ["203.0.113.5"], "198.51.100.1"),
        # A hop that is no address ends the walk at the last one read.
        ("10.0.0.2", ["203.0.113.5, evil\x1b[2J"], "10.0.0.2"),
        ("10.0.0.2", ["", ""], "10.0.0.2"),
        # Only proxies: the leftmost (still one of ours).
        ("10.0.0.2", ["10.0.0.7, 10.0.0.9"], "10.0.0.7"),
    ],
)
def test_the_client_is_the_rightmost_address_that_is_not_a_trusted_proxy(peer, header, client):
    assert client_address(peer, header, PROXIES) == client


def test_a_bad_trusted_proxy_is_named(tmp_path, capsys):
    status = main(["serve", "--db", str(tmp_path / "s.db"), "--trusted-proxy", "proxy.local"])
    err = capsys.readouterr().err
    assert status == 2
    assert "--trusted-proxy 'proxy.local' is not an IP address or network" in err
    assert "Traceback" not in err


async def _sockets(gateway, forwarded: list[str]) -> list[str]:
    """Open one chat socket per X-Forwarded-For value (kept open); what each was told first."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from tests.webchat.test_chat_sockets import ORIGIN, frame, ws_url

    said, opened = [], []
    for value in forwarded:
        ws = await connect(
            ws_url(gateway),
            origin=ORIGIN,  # type: ignore[arg-type]
            ping_interval=None,
            additional_headers={"X-Forwarded-For": value},
        )
        opened.append(ws)
        hello = {"type": "hello", "token": None, "last_seq": 0, "lang": "en"}
        with contextlib.suppress(ConnectionClosed):  # an address over its cap is closed at once
            await ws.send(json.dumps(hello))
        got = await frame(ws)
        said.append(got.get("code") or got["type"])
    for ws in opened:
        await ws.close()
    return said


@pytest.mark.slow
@pytest.mark.parametrize("trusted", [True, False])
def test_per_address_limits_count_visitors_behind_a_trusted_proxy_apart(tmp_path, trusted):
    """One chat socket per address (the channel's limit): behind a trusted proxy two visitors
    each get theirs and a third from an address already in use is refused; without
    `--trusted-proxy` the header counts for nothing and they all share the proxy's address."""
    from tests.webchat.conftest import web_gateway

    options = ("--trusted-proxy", "127.0.0.1/32") if trusted else ()
    gateways = web_gateway(tmp_path, settings={"limits": {"sockets_per_ip": 1}}, options=options)
    gateway = next(gateways)
    try:
        said = asyncio.run(
            _sockets(gateway, ["203.0.113.5", "198.51.100.7", "1.1.1.1, 203.0.113.5"])
        )
        if trusted:
            assert said == ["welcome", "welcome", "too_many_sockets"]
        else:
            assert said == ["welcome", "too_many_sockets", "too_many_sockets"]
        # The access log names the visitor, not the proxy, when the proxy is trusted.
        import httpx

        httpx.get(f"{gateway.url}/chat/shop", headers={"X-Forwarded-For": "203.0.113.77"})
        assert gateway.server is not None
        log = gateway.server.log()
        line = next(line for line in log.splitlines() if "GET /chat/shop" in line)
        assert line.startswith("203.0.113.77 " if trusted else "127.0.0.1 "), line
    finally:
        gateways.close()
