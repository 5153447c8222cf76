"""Gateway commands: `channels` (the integrations) and `deliveries` (replies on their way out).

Channels are the team's set-up, so their commands are a supervisor's (anyone's while the team
has none, as for `agents`). `channels add` and `channels rotate` print the inbound token and the
signing secret once: the store keeps only the token's hash, so a lost token is replaced by
rotating, never read back. `deliveries` lists what `cs-tui serve` sends to the channels'
webhooks; `deliveries retry` sends a failed one again (the conversation's owner or a
supervisor).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cs_tui.commands.common import out, print_json, settings_for
from cs_tui.commands.errors import UserError
from cs_tui.commands.options import add_command
from cs_tui.commands.team_cmd import acting_agent, with_store
from cs_tui.data.views import AgentInfo, ChannelInfo, ChannelSecrets, DeliveryView

if TYPE_CHECKING:
    from cs_tui.data.store import Store

CHANNEL_TYPES = ("chat", "ticket", "email", "social")
DELIVERY_STATUSES = ("queued", "sent", "delivered", "read", "failed")
SHOWN_ONCE = (
    "The token and the secret are shown once: the store keeps only the token's hash. "
    "Keep them now; `cs-tui channels rotate NAME` makes new ones."
)
SECRET_SHOWN_ONCE = (
    "The secret is shown once. Keep it now; `cs-tui channels rotate NAME` makes a new one."
)


def register(sub: argparse._SubParsersAction) -> None:
    channels = sub.add_parser(
        "channels", help="gateway channels: add, list, show, set, rotate, disable, enable"
    )
    csub = channels.add_subparsers(dest="channels_command", metavar="ACTION", required=True)
    p = add_command(
        csub,
        "add",
        run_channels_add,
        help="add a channel and print its token and signing secret, once (supervisors)",
        description="An API channel: an integration posts customers' messages to "
        "`cs-tui serve` with the token and receives agents' replies, signed with the secret, "
        "at the webhook URL. A web channel: a chat on the shop's pages at the given origins "
        "(`/chat/NAME`, `/widget.js`); its secret verifies identified visitors. An email "
        "channel: `cs-tui serve` fetches the mailbox (--imap) and sends replies (--smtp); the "
        "password is read from --password-env or --password-file when serve starts, never "
        "stored.",
    )
    p.add_argument(
        "kind", choices=("api", "web", "email"), help="the kind of channel (api, web, email)"
    )
    p.add_argument("name", metavar="NAME", help="lowercase letters, digits, '_' and '-'")
    p.add_argument(
        "--webhook-url", metavar="URL", help="api: where replies are POSTed (http/https)"
    )
    _origin_option(
        p,
        "--origin",
        "origins",
        "web: a site whose pages may open the chat, like https://shop.example",
    )
    p.add_argument(
        "--pre-chat",
        action="store_true",
        help="web: ask the visitor's name and order number before the first message",
    )
    p.add_argument(
        "--type",
        dest="channel_type",
        choices=CHANNEL_TYPES,
        default=None,
        help="the SLA channel of the conversations it opens (default: chat; email for email)",
    )
    _email_arguments(p)
    p.add_argument("--json", action="store_true")

    p = add_command(csub, "list", run_channels_list, help="every channel (supervisors)")
    p.add_argument("--json", action="store_true")

    named: list[tuple[str, Callable[[argparse.Namespace], int], str]] = [
        ("show", run_channels_show, "one channel (supervisors)"),
        ("rotate", run_rotate, "new token and secret; the old ones stop working (supervisors)"),
        ("disable", run_disable, "refuse its token and hold its deliveries (supervisors)"),
        ("enable", run_enable, "enable a disabled channel again (supervisors)"),
        (
            "test",
            run_channels_test,
            "an email channel: log in to its IMAP and SMTP servers and say what works",
        ),
    ]
    for action, handler, helptext in named:
        p = add_command(csub, action, handler, help=helptext)
        p.add_argument("name", metavar="NAME")
        p.add_argument("--json", action="store_true")

    p = add_command(
        csub,
        "set",
        run_channels_set,
        help="change a channel: an email channel's TLS and acknowledgement, a web channel's "
        "pre-chat form and origins (supervisors)",
        description="Only what is given changes. A web channel's pages see the change when "
        "they are next loaded (a running `cs-tui serve` reads it again within a second).",
    )
    p.add_argument("name", metavar="NAME")
    _email_switches(p, default=None)
    web = p.add_argument_group("web channels")
    web.add_argument(
        "--pre-chat",
        choices=("on", "off"),
        default=None,
        help="ask the visitor's name and order number before the first message, or not",
    )
    _origin_option(
        web, "--add-origin", "add_origins", "one more site whose pages may open the chat"
    )
    _origin_option(
        web, "--remove-origin", "remove_origins", "a site whose pages may no longer open the chat"
    )
    p.add_argument("--json", action="store_true")

    p = add_command(
        sub,
        "deliveries",
        run_deliveries,
        help="replies on their way to the channels' webhooks; `deliveries retry ID` resends one",
    )
    p.add_argument("--status", choices=DELIVERY_STATUSES, help="only this status")
    p.add_argument("--conversation", metavar="CONVERSATION_ID", help="only this conversation")
    p.add_argument("--limit", type=int, default=200, metavar="N")
    p.add_argument("--json", action="store_true")
    dsub = p.add_subparsers(dest="deliveries_command", metavar="ACTION")
    r = add_command(
        dsub,
        "retry",
        run_deliveries_retry,
        help="send a failed delivery again now (its owner, supervisors)",
    )
    r.add_argument("delivery_id", type=int, metavar="DELIVERY_ID")
    r.add_argument("--json", action="store_true")


# -- who is asking -----------------------------------------------------------------------


def channel_manager(store: Store, args: argparse.Namespace) -> AgentInfo | None:
    """The actor of a channel command; None while the team has no supervisor yet, when an
    unknown handle may set the store up (as for `agents add`)."""
    from cs_tui.config import resolve_agent

    handle = resolve_agent(getattr(args, "agent", None), settings_for(args))
    found = store.get_agent(handle)
    if found is None and store.has_supervisor():
        raise UserError(f"{handle!r} is not in this team: only a supervisor may manage channels")
    return found


# -- printing ----------------------------------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _origin_option(p: Any, flag: str, dest: str, helptext: str) -> None:
    """A web channel's repeatable ORIGIN option, gathered into a list (each is checked by
    _origins when it is used)."""
    p.add_argument(
        flag,
        dest=dest,
        action="append",
        default=[],
        metavar="ORIGIN",
        help=f"{helptext} (repeat it)",
    )


def _email_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("email channels")
    g.add_argument("--imap", metavar="URL", help="imap://USER@HOST:PORT or imaps://...")
    g.add_argument("--smtp", metavar="URL", help="smtp://USER@HOST:PORT or smtps://...")
    g.add_argument("--from", dest="sender", metavar="ADDRESS", help="'Name <service@shop.example>'")
    g.add_argument("--password-env", metavar="VAR", help="the password's environment variable")
    g.add_argument("--password-file", metavar="FILE", help="a file holding the password")
    g.add_argument("--folder", default="INBOX", help="the folder to fetch (default: INBOX)")
    g.add_argument("--poll", default="30s", help="without IMAP IDLE: look this often (30s)")
    g.add_argument(
        "--move-to", metavar="FOLDER", help="move fetched mail there (default: leave it, read)"
    )
    g.add_argument(
        "--max-size", default="10MB", help="larger mail is not fetched: a note names it (10MB)"
    )
    _email_switches(g, default=False)


def _email_switches(g: Any, default: bool | None) -> None:
    """The options `channels add email` and `channels set` share (`set` changes only those
    given: their default is None)."""
    g.add_argument(
        "--require-tls",
        action=argparse.BooleanOptionalAction,
        default=default,
        help="imap:// and smtp://: refuse to log in or send without STARTTLS"
        + (" (default: off)" if default is False else ""),
    )
    g.add_argument(
        "--acknowledge",
        action=argparse.BooleanOptionalAction,
        default=default,
        help="answer a new conversation's first mail by itself, saying when someone will "
        "answer (service hours of the SLA policy's calendar)"
        + (" (default: off)" if default is False else ""),
    )
    g.add_argument(
        "--ack-language",
        choices=("auto", "zh", "en"),
        default="auto" if default is False else None,
        help="the acknowledgement's language; auto: the customer's mail's (default)",
    )


EMAIL_OPTIONS = ("imap", "smtp", "sender", "password_env", "password_file")


def _email_dict(c: ChannelInfo) -> dict[str, Any]:
    keys = ("imap", "smtp", "from_name", "from_address", "password_env", "password_file")
    shown = {k: c.settings.get(k) for k in keys}
    shown.update(
        folder=c.settings.get("folder"),
        poll_s=c.settings.get("poll_s"),
        max_bytes=c.settings.get("max_bytes"),
        move_to=c.settings.get("move_to"),
        require_tls=c.settings.get("require_tls") is True,
        acknowledge=c.settings.get("acknowledge") is True,
        ack_language=c.settings.get("ack_language") or "auto",
    )
    return shown


def _on_off(value: Any) -> Any:
    """A setting as a person reads it: on/off for a switch (the --json output keeps JSON
    booleans), anything else as it is."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return value


def channel_dict(c: ChannelInfo) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "name": c.name,
        "kind": c.kind,
        "type": c.channel_type,
        "webhook_url": c.webhook_url,
        "active": c.active,
        "created_at": _when(c.created_at),
        "updated_at": _when(c.updated_at),
    }
    if c.kind == "web":
        shown["origins"] = list(c.settings.get("origins") or [])
        shown["pre_chat"] = c.settings.get("pre_chat") is True
    if c.kind == "email":
        shown.update(_email_dict(c))
    return shown


def _print_email_channel(c: ChannelInfo, as_json: bool, verb: str) -> None:
    """An email channel has no token to show: it fetches and sends by itself."""
    if as_json:
        print_json(channel_dict(c))
        return
    mail = _email_dict(c)
    source = mail["password_file"] or f"${mail['password_env']}"
    out(f"{verb} channel {c.name} (email, {c.channel_type})")
    out(f"fetches {mail['imap']} folder {mail['folder']}; replies by {mail['smtp']}")
    out(f"from {mail['from_name'] or ''} <{mail['from_address']}>".replace("from  <", "from <"))
    out(f"The password is read from {source} when `cs-tui serve` starts; it is not stored.")
    out(f"Try it now: cs-tui channels test {c.name}")


def _print_secrets(made: ChannelSecrets, as_json: bool, verb: str) -> None:
    if made.channel.kind == "email":
        _print_email_channel(made.channel, as_json, verb)
        return
    shown_once = SHOWN_ONCE if made.token else SECRET_SHOWN_ONCE
    if as_json:
        print_json(
            {
                **channel_dict(made.channel),
                **({"token": made.token} if made.token else {}),
                "secret": made.secret,
                "shown_once": True,
            }
        )
    else:
        c = made.channel
        target = c.webhook_url or " ".join(c.settings.get("origins") or []) or "-"
        out(f"{verb} channel {c.name} ({c.kind}, {c.channel_type}) -> {target}")
        if made.token:
            out(f"token:  {made.token}")
        out(f"secret: {made.secret}")
        out(shown_once)
        return
    print(shown_once, file=sys.stderr)


def _print_channel(c: ChannelInfo, as_json: bool) -> None:
    if as_json:
        print_json(channel_dict(c))
        return
    out(f"name:     {c.name}")
    out(f"kind:     {c.kind}")
    out(f"type:     {c.channel_type}")
    out(f"webhook:  {c.webhook_url or '-'}")
    if c.kind == "email":
        for key, value in _email_dict(c).items():
            if value is not None:
                out(f"{key + ':':<10}{_on_off(value)}")
    if c.kind == "web":
        out(f"origins:  {' '.join(c.settings.get('origins') or []) or '-'}")
        out(
            f"pre-chat: {'on (name, order number)' if c.settings.get('pre_chat') is True else 'off'}"
        )
    out(f"state:    {'active' if c.active else 'disabled'}")
    out(f"created:  {c.created_at.astimezone().strftime('%Y-%m-%d %H:%M:%S')}")


def delivery_dict(d: DeliveryView) -> dict[str, Any]:
    return {
        "delivery_id": d.delivery_id,
        "conversation_id": d.conversation_external_id,
        "message_id": d.public_message_id,
        "channel": d.channel,
        "status": d.status,
        "attempts": d.attempts,
        "last_error": d.last_error,
        "next_attempt_at": _when(d.next_attempt_at),
        "created_at": _when(d.created_at),
        "updated_at": _when(d.updated_at),
    }


def _delivery_line(d: DeliveryView) -> str:
    from cs_tui.safe_text import clean

    line = (
        f"{d.delivery_id:>8}  {d.status:<9} {d.attempts:>3}  {d.channel:<16} "
        f"{clean(d.conversation_external_id, single_line=True)}  "
        f"{clean(d.public_message_id, single_line=True)}"
    )
    if d.status == "queued" and d.next_attempt_at is not None:
        line += f"  next {d.next_attempt_at.astimezone().strftime('%H:%M:%S')}"
    if d.last_error:
        line += f"\n          {clean(d.last_error, single_line=True)}"
    return line


# -- channels ----------------------------------------------------------------------------


def _add_options(args: argparse.Namespace) -> tuple[str | None, dict[str, Any]]:
    """The webhook URL and settings of the channel to add, checked for its kind."""
    given = [f"--{k.replace('_', '-')}" for k in EMAIL_OPTIONS if getattr(args, k, None)]
    if args.pre_chat and args.kind != "web":
        raise UserError("--pre-chat is for web channels")
    if args.kind == "email":
        return None, _email_settings(args)
    if given:
        raise UserError(f"{given[0].replace('--sender', '--from')} is for email channels")
    if args.kind == "api":
        if not args.webhook_url:
            raise UserError("an api channel needs --webhook-url URL (where replies are POSTed)")
        if args.origins:
            raise UserError("--origin is for web channels")
        return args.webhook_url, {}
    if args.webhook_url:
        raise UserError("a web channel takes no --webhook-url: replies go to the visitor's page")
    if not args.origins:
        raise UserError("a web channel needs at least one --origin (like https://shop.example)")
    settings: dict[str, Any] = {"origins": _origins(args.origins)}
    if args.pre_chat:
        settings["pre_chat"] = True
    return None, settings


def _email_settings(args: argparse.Namespace) -> dict[str, Any]:
    from cs_tui.channels.email_config import EmailConfigError, build_settings

    if args.webhook_url or args.origins:
        raise UserError("an email channel takes no --webhook-url or --origin")
    for option, value in (("--imap", args.imap), ("--smtp", args.smtp), ("--from", args.sender)):
        if not value:
            raise UserError(f"an email channel needs {option}")
    try:
        settings = build_settings(
            imap=args.imap,
            smtp=args.smtp,
            sender=args.sender,
            password_env=args.password_env,
            password_file=args.password_file,
            folder=args.folder,
            poll=args.poll,
            max_bytes=args.max_size,
            move_to=args.move_to,
            require_tls=args.require_tls,
            acknowledge=args.acknowledge,
            ack_language=args.ack_language,
        )
    except EmailConfigError as exc:
        raise UserError(str(exc)) from None
    return settings.to_json()


@with_store
def run_channels_add(args: argparse.Namespace, store: Store) -> int:
    webhook_url, settings = _add_options(args)
    made = store.add_channel(
        channel_manager(store, args),
        args.kind,
        args.name,
        channel_type=args.channel_type or ("email" if args.kind == "email" else "chat"),
        webhook_url=webhook_url,
        settings=settings,
    )
    _print_secrets(made, args.json, "added")
    return 0


@with_store
def run_channels_list(args: argparse.Namespace, store: Store) -> int:
    channels = store.list_channels(channel_manager(store, args))
    if args.json:
        print_json([channel_dict(c) for c in channels])
        return 0
    if not channels:
        out("(no channels)")
        return 0
    out(f"{'NAME':<20} {'KIND':<6} {'TYPE':<7} {'STATE':<9} WEBHOOK")
    for c in channels:
        state = "active" if c.active else "disabled"
        out(f"{c.name:<20} {c.kind:<6} {c.channel_type:<7} {state:<9} {c.webhook_url or '-'}")
    return 0


@with_store
def run_channels_show(args: argparse.Namespace, store: Store) -> int:
    _print_channel(store.channel(channel_manager(store, args), args.name), args.json)
    return 0


@with_store
def run_rotate(args: argparse.Namespace, store: Store) -> int:
    _print_secrets(
        store.rotate_channel(channel_manager(store, args), args.name), args.json, "rotated"
    )
    return 0


@with_store
def run_channels_test(args: argparse.Namespace, store: Store) -> int:
    """Exit 0 when both servers let the channel in, 1 otherwise."""
    from cs_tui.channels.email_check import check_channel
    from cs_tui.channels.email_config import EmailConfigError, settings_of

    channel = store.channel(channel_manager(store, args), args.name)
    if channel.kind != "email":
        raise UserError(
            f"channel {channel.name} is an {channel.kind} channel: only email "
            "channels are tested by logging in"
        )
    try:
        settings = settings_of(channel.settings)
    except EmailConfigError as exc:
        raise UserError(f"channel {channel.name}: {exc}") from None
    checks = check_channel(settings)
    if args.json:
        print_json({c.server: {"ok": c.ok, "detail": c.detail} for c in checks})
    else:
        for c in checks:
            out(f"{c.server.upper():<5} {'ok  ' if c.ok else 'FAIL'}  {c.detail}")
    return 0 if all(c.ok for c in checks) else 1


_WEB_SET = ("--pre-chat", "--add-origin", "--remove-origin")


def _email_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The email channel's switches `channels set` was given, by their settings' names (an
    option left out is None, and changes nothing)."""
    given = {
        "require_tls": args.require_tls,
        "acknowledge": args.acknowledge,
        "ack_language": args.ack_language,
    }
    return {key: value for key, value in given.items() if value is not None}


@with_store
def run_channels_set(args: argparse.Namespace, store: Store) -> int:
    """Change a channel's settings; the rest of them stay as they are."""
    from cs_tui.channels.email_config import EmailConfigError, settings_of

    actor = channel_manager(store, args)
    channel = store.channel(actor, args.name)
    web_given = args.pre_chat is not None or args.add_origins or args.remove_origins
    if channel.kind == "web":
        return _set_web(args, store, actor, channel)
    if web_given:
        raise UserError(
            f"channel {channel.name} is an {channel.kind} channel: "
            f"{', '.join(_WEB_SET)} are for web channels"
        )
    if channel.kind != "email":
        raise UserError(
            f"channel {channel.name} is an {channel.kind} channel: only email and web "
            "channels have settings to change"
        )
    changes = _email_changes(args)
    if not changes:
        raise UserError("nothing to change: give --require-tls, --acknowledge or --ack-language")
    try:
        settings_of({**channel.settings, **changes})
    except EmailConfigError as exc:
        raise UserError(f"channel {channel.name}: {exc}") from None
    changed = store.update_channel_settings(actor, args.name, changes)
    if args.json:
        print_json(channel_dict(changed))
    else:
        shown = _email_dict(changed)
        for key in sorted(changes):
            out(f"channel {changed.name}: {key.replace('_', '-')} = {_on_off(shown[key])}")
    return 0


def _origins(given: list[str]) -> list[str]:
    from cs_tui.channels.web_identity import normalize_origin

    found: list[str] = []
    for text in given:
        try:
            origin = normalize_origin(text)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        if origin not in found:
            found.append(origin)
    return found


def _set_web(
    args: argparse.Namespace, store: Store, actor: AgentInfo | None, channel: ChannelInfo
) -> int:
    """A web channel's pre-chat form and origins. The origins are added and removed in the
    locked row, so two supervisors changing them at once both get their change."""
    email_given = list(_email_changes(args))
    if email_given:
        option = "--" + email_given[0].replace("_", "-")
        raise UserError(f"channel {channel.name} is a web channel: {option} is for email channels")
    add, remove = _origins(args.add_origins), _origins(args.remove_origins)
    if set(add) & set(remove):
        raise UserError(f"{sorted(set(add) & set(remove))[0]} is both added and removed")
    changes: dict[str, Any] = {}
    if args.pre_chat is not None:
        changes["pre_chat"] = args.pre_chat == "on"
    if not changes and not add and not remove:
        raise UserError(
            "nothing to change: give --pre-chat on|off, --add-origin ORIGIN or "
            "--remove-origin ORIGIN"
        )

    def edit(settings: dict[str, Any]) -> dict[str, Any]:
        if not add and not remove:
            return {}
        origins = [o for o in settings.get("origins") or [] if isinstance(o, str)]
        missing = [o for o in remove if o not in origins]
        if missing:
            raise UserError(f"channel {channel.name} has no origin {missing[0]}")
        kept = [o for o in origins if o not in remove]
        kept += [o for o in add if o not in kept]
        if not kept:
            raise UserError(
                f"channel {channel.name} needs at least one origin: add another before "
                "removing the last (or disable the channel)"
            )
        return {"origins": kept}

    changed = store.update_channel_settings(actor, args.name, changes, edit=edit)
    shown = channel_dict(changed)
    if args.json:
        print_json(shown)
        return 0
    if "pre_chat" in changes:
        out(f"channel {changed.name}: pre-chat = {'on' if shown['pre_chat'] else 'off'}")
    if add or remove:
        out(f"channel {changed.name}: origins = {' '.join(shown['origins'])}")
    return 0


def _set_active(args: argparse.Namespace, store: Store, active: bool) -> int:
    changed = store.set_channel_active(channel_manager(store, args), args.name, active)
    if args.json:
        print_json(channel_dict(changed))
    else:
        out(f"channel {changed.name} is {'enabled' if active else 'disabled'}")
    return 0


@with_store
def run_disable(args: argparse.Namespace, store: Store) -> int:
    return _set_active(args, store, False)


@with_store
def run_enable(args: argparse.Namespace, store: Store) -> int:
    return _set_active(args, store, True)


# -- deliveries --------------------------------------------------------------------------


@with_store
def run_deliveries(args: argparse.Namespace, store: Store) -> int:
    actor = acting_agent(store, args)
    cid = store.conversation_id(args.conversation) if args.conversation else None
    found = store.deliveries(
        actor, status=args.status, conversation_id=cid, limit=max(1, args.limit)
    )
    if args.json:
        print_json([delivery_dict(d) for d in found])
        return 0
    if not actor.is_supervisor:
        print("(deliveries of your conversations; supervisors see the team's)", file=sys.stderr)
    if not found:
        out("(no deliveries)")
        return 0
    out(f"{'ID':>8}  {'STATUS':<9} {'TRY':>3}  {'CHANNEL':<16} CONVERSATION  MESSAGE")
    for d in found:
        out(_delivery_line(d))
    return 0


@with_store
def run_deliveries_retry(args: argparse.Namespace, store: Store) -> int:
    actor = acting_agent(store, args)
    again = store.retry_delivery(actor, args.delivery_id)
    if args.json:
        print_json(delivery_dict(again))
    else:
        out(f"delivery {again.delivery_id} is queued again ({again.attempts} attempts so far)")
    return 0
