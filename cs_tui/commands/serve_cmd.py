"""`cs-tui serve`: the gateway server (HTTP intake, receipts, the webhook delivery worker).

One process beside the workstations, on the same store (SQLite or PostgreSQL, from --db like
every command). See cs_tui.server for what it answers and docs/channels.md for setting it up.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cs_tui.commands.errors import UserError
from cs_tui.commands.options import add_command

if TYPE_CHECKING:
    from cs_tui.server.settings import ServerSettings


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "serve",
        run_serve,
        help="run the gateway server: channel API, receipts and webhook delivery",
        description="Serve the channel API (POST /api/v1/messages, PATCH /api/v1/messages/ID, "
        "GET /healthz) and deliver agents' replies to the channels' webhooks. SIGTERM stops "
        "it cleanly within 10 s. One access-log line per request goes to stderr.",
    )
    p.add_argument(
        "--bind",
        default="127.0.0.1:8080",
        metavar="HOST:PORT",
        help="address to listen on (default 127.0.0.1:8080; port 0 picks a free one)",
    )
    p.add_argument(
        "--rate",
        default="50/s",
        metavar="N/s",
        help="requests a second per channel token before 429 (default 50/s)",
    )
    p.add_argument(
        "--burst",
        type=int,
        default=200,
        metavar="N",
        help="requests a token may send at once above the rate (default 200)",
    )
    p.add_argument(
        "--no-deliver",
        action="store_true",
        help="do not run the webhook delivery worker in this process",
    )
    p.add_argument(
        "--retry-base",
        default="5s",
        metavar="DURATION",
        help="first wait before a failed delivery is tried again, doubling after (default 5s)",
    )
    p.add_argument(
        "--give-up",
        default="24h",
        metavar="DURATION",
        help="a delivery still failing this long after the reply fails for good (default 24h, "
        "at most 30d)",
    )
    p.add_argument(
        "--web-give-up",
        metavar="DURATION",
        help="a web chat reply whose visitor has not come back to the page this long after "
        "it fails, and its conversation shows as undelivered (default: --give-up, at most 30d)",
    )
    p.add_argument(
        "--body-timeout",
        default="30s",
        metavar="DURATION",
        help="a request body not fully received by then gets 408 (default 30s)",
    )
    p.add_argument(
        "--max-connections",
        type=int,
        default=1000,
        metavar="N",
        help="connections served at once, web chat sockets included; more get 503 (default 1000)",
    )
    p.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="CIDR",
        help="a reverse proxy (address or network) whose X-Forwarded-For names the client, "
        "for the per-address limits and the access log; repeatable (default: none, the header "
        "is ignored)",
    )
    p.add_argument("--no-access-log", action="store_true", help="no line per request on stderr")


MAX_GIVE_UP_S = 30 * 86400.0
"""The longest --give-up and --web-give-up: a delivery's deadline must stay a date the clock
can hold (a larger one overflowed the give-up loop), and no reply is worth sending a month late."""


def settings_from(args: argparse.Namespace) -> ServerSettings:
    from cs_tui.durations import parse_duration
    from cs_tui.server.forwarded import parse_network
    from cs_tui.server.limits import parse_rate
    from cs_tui.server.serve import parse_bind
    from cs_tui.server.settings import ServerSettings

    try:
        host, port = parse_bind(args.bind)
        rate = parse_rate(args.rate)
        retry_base = parse_duration(args.retry_base)
        give_up = parse_duration(args.give_up)
        web_give_up = give_up if args.web_give_up is None else parse_duration(args.web_give_up)
        body_timeout = parse_duration(args.body_timeout)
        proxies = tuple(str(parse_network(text)) for text in args.trusted_proxy)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if args.burst < 1:
        raise UserError("--burst must be at least 1")
    if args.max_connections < 1:
        raise UserError("--max-connections must be at least 1")
    if retry_base <= 0 or give_up <= 0 or web_give_up <= 0 or body_timeout <= 0:
        raise UserError(
            "--retry-base, --give-up, --web-give-up and --body-timeout must be above zero"
        )
    for option, seconds in (("--give-up", give_up), ("--web-give-up", web_give_up)):
        if seconds > MAX_GIVE_UP_S:
            raise UserError(f"{option}: at most 30d (a reply undelivered that long is lost)")
    return ServerSettings(
        host=host,
        port=port,
        rate=rate,
        burst=args.burst,
        deliver=not args.no_deliver,
        retry_base_s=retry_base,
        give_up_s=give_up,
        web_give_up_s=web_give_up,
        access_log=not args.no_access_log,
        body_timeout_s=body_timeout,
        max_connections=args.max_connections,
        trusted_proxies=proxies,
    )


def run_serve(args: argparse.Namespace) -> int:
    from cs_tui.commands.common import open_store
    from cs_tui.server.serve import BindError, bind, serve

    settings = settings_from(args)
    store = open_store(args)
    try:
        try:
            sock = bind(settings.host, settings.port)
        except BindError as exc:
            raise UserError(str(exc)) from None
        return serve(store, settings, sock)
    finally:
        store.dispose()
