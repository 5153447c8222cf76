"""`channels add web`, the visitor identity rules and the shipped page assets (no browser)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from cs_tui.channels.web_identity import (
    identified_visitor,
    identifier_hash,
    new_visitor,
    normalize_origin,
    origin_allowed,
    visitor_from_token,
)
from cs_tui.channels.web_prechat import PreChat, read_pre_chat
from cs_tui.cli import main
from cs_tui.data.store import Store


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


@pytest.fixture
def db(store_url):
    with Store.open(store_url) as s:
        s.ensure_agent("boss", "Boss", role="supervisor")
        s.ensure_agent("alice", "Alice")
    return store_url


def test_a_supervisor_adds_a_web_channel_with_its_origins(capsys, db):
    rc, out, _err = cli(
        capsys,
        *("channels", "add", "web", "shop", "--origin", "https://Shop.Example:443/"),
        *("--origin", "http://localhost:8000", "--origin", "https://shop.example"),
        *("--json", "--db", db, "--agent", "boss"),
    )
    assert rc == 0
    made = json.loads(out)
    assert made["name"] == "shop" and made["kind"] == "web" and len(made["secret"]) == 64
    # Written either way, the same site is listed once.
    assert made["origins"] == ["https://shop.example", "http://localhost:8000"]
    assert made["type"] == "chat" and made["webhook_url"] is None
    rc, out, _err = cli(capsys, "channels", "show", "shop", "--db", db, "--agent", "boss")
    assert "https://shop.example http://localhost:8000" in out


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ((), "needs at least one --origin"),
        (("--origin", "https://shop.example/path"), "is not an origin"),
        (("--origin", "ftp://shop.example"), "is not an origin"),
        (("--origin", "https://a.example", "--webhook-url", "https://x.example"), "no --webhook"),
    ],
)
def test_a_web_channel_needs_good_origins_and_no_webhook(capsys, db, extra, said):
    rc, out, err = cli(
        capsys, "channels", "add", "web", "shop", *extra, "--db", db, "--agent", "boss"
    )
    assert rc != 0 and said in err and "Traceback" not in err
    rc, out, err = cli(capsys, "channels", "list", "--json", "--db", db, "--agent", "boss")
    assert json.loads(out) == []


def test_only_a_supervisor_adds_a_web_channel(capsys, db):
    rc, _out, err = cli(
        capsys,
        *("channels", "add", "web", "shop", "--origin", "https://shop.example"),
        *("--db", db, "--agent", "alice"),
    )
    assert rc != 0 and "supervisor" in err


def test_a_visitor_token_opens_only_its_own_visitor():
    visitor = new_visitor("shop", "s" * 64)
    assert visitor.token is not None
    again = visitor_from_token("shop", "s" * 64, visitor.token)
    assert again is not None and again.key == visitor.key
    assert visitor.conversation_id("shop") == again.conversation_id("shop")
    other = new_visitor("shop", "s" * 64)
    assert other.conversation_id("shop") != visitor.conversation_id("shop")
    # Another channel's secret, an altered id or signature, junk: nobody.
    assert visitor_from_token("shop", "t" * 64, visitor.token) is None
    version, vid, sig = visitor.token.split(".")
    assert visitor_from_token("shop", "s" * 64, f"{version}.{vid[:-1]}A.{sig}") is None
    flipped = "1" if sig[-1] == "0" else "0"
    assert visitor_from_token("shop", "s" * 64, f"{version}.{vid}.{sig[:-1]}{flipped}") is None
    for junk in (None, 42, "", "v1..", "x" * 500, ["v1"]):
        assert visitor_from_token("shop", "s" * 64, junk) is None


def test_an_identifier_counts_only_with_the_channel_secrets_hash():
    good = identifier_hash("s" * 64, "wang.fang")
    found = identified_visitor("s" * 64, "wang.fang", good.upper())
    assert found is not None and found.customer == "wang.fang" and found.token is None
    assert identified_visitor("t" * 64, "wang.fang", good) is None
    assert identified_visitor("s" * 64, "li.lei", good) is None
    assert identified_visitor("s" * 64, "wang.fang", None) is None
    assert (
        identified_visitor("s" * 64, "bad\x1bname", identifier_hash("s" * 64, "bad\x1bname"))
        is None
    )


def test_origins_are_compared_as_browsers_send_them():
    allowed = (normalize_origin("https://shop.example"),)
    assert origin_allowed("https://shop.example", allowed, None)
    assert origin_allowed("https://SHOP.example:443", allowed, None)
    assert not origin_allowed("https://shop.example.evil.com", allowed, None)
    assert not origin_allowed("http://shop.example", allowed, None)
    assert not origin_allowed(None, allowed, None)
    assert not origin_allowed("null", allowed, None)
    assert origin_allowed("http://127.0.0.1:8080", allowed, "http://127.0.0.1:8080")


def test_the_page_assets_are_small_plain_and_shipped_in_the_package():
    web = resources.files("cs_tui.channels").joinpath("web")
    sizes = {
        name: len(web.joinpath(name).read_bytes())
        for name in ("chat.html", "widget.js", "widget.css")
    }
    assert sum(sizes.values()) < 40 * 1024, sizes
    script = web.joinpath("widget.js").read_text(encoding="utf-8")
    # Text nodes only: nothing a person wrote can become markup.
    for risky in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert risky not in script
    for contract in (
        '"textarea"',
        'name: "message"',
        'type: "submit"',
        '"data-author"',
        '"data-status"',
        '"data-connection"',
    ):
        assert contract in script


def test_the_pre_chat_form_is_off_unless_a_web_channel_asks_for_it(capsys, db):
    base = ("--db", db, "--agent", "boss")
    rc, out, _ = cli(
        capsys, "channels", "add", "web", "plain", "--origin", "https://a.example", *base
    )
    assert rc == 0
    rc, out, _ = cli(capsys, "channels", "show", "plain", *base)
    assert "pre-chat: off" in out
    rc, out, _ = cli(
        capsys,
        *("channels", "add", "web", "asks", "--origin", "https://a.example", "--pre-chat"),
        *("--json", *base),
    )
    assert rc == 0 and json.loads(out)["pre_chat"] is True
    rc, out, _ = cli(capsys, "channels", "show", "asks", *base)
    assert "pre-chat: on (name, order number)" in out
    rc, out, _ = cli(capsys, "channels", "show", "asks", "--json", *base)
    assert json.loads(out)["pre_chat"] is True
    rc, _, err = cli(
        capsys,
        *("channels", "add", "api", "hook", "--webhook-url", "https://x.example/h", "--pre-chat"),
        *base,
    )
    assert rc != 0 and "--pre-chat is for web channels" in err


@pytest.mark.parametrize(
    ("name", "order", "expected"),
    [
        ("  Wang   Fang ", " 2026111100001 ", PreChat("Wang Fang", "2026111100001")),
        ("王芳", "", PreChat("王芳", None)),
        (None, None, PreChat()),
        ("   ", "A-1_b", PreChat(None, "A-1_b")),
        ("x" * 81, "", "bad_name"),
        ("Eve\u202eevil", "", "bad_name"),
        ("Eve\x1b[2J", "", "bad_name"),
        ("[@click=app.quit]x[/]", "", PreChat("[@click=app.quit]x[/]", None)),
        (["list"], "", "bad_name"),
        ("Wang", "<script>", "bad_order"),
        ("Wang", "1" * 27, "bad_order"),
        ("Wang", "-1", "bad_order"),
        ("Wang", 2026, "bad_order"),
    ],
)
def test_the_pre_chat_fields_are_checked_as_untrusted_input(name, order, expected):
    assert read_pre_chat(name, order) == expected


def test_pre_chat_fields_become_the_customer_name_and_an_order_tag():
    assert PreChat("王芳", "2026111100001").line_fields() == {
        "customer_name": "王芳",
        "tags": ["order:2026111100001"],
    }
    assert PreChat().line_fields() == {}


def test_a_forged_signature_with_any_characters_is_refused_not_raised():
    """compare_digest raises on non-ASCII text: a forged token or hash must just fail."""
    assert visitor_from_token("shop", "s" * 64, "v1.aaaaaaaaaaaaaaaaaaaa.é") is None
    assert identified_visitor("s" * 64, "wang.fang", "é" * 64) is None


def test_a_supervisor_switches_the_pre_chat_form_and_the_origins_of_a_web_channel(capsys, db):
    base = ("--db", db, "--agent", "boss")
    rc, _, _ = cli(capsys, "channels", "add", "web", "shop", "--origin", "https://a.example", *base)
    assert rc == 0
    rc, out, _ = cli(capsys, "channels", "set", "shop", "--pre-chat", "on", *base)
    assert (rc, out) == (0, "channel shop: pre-chat = on\n")
    rc, out, _ = cli(capsys, "channels", "show", "shop", *base)
    assert "pre-chat: on (name, order number)" in out
    rc, out, _ = cli(
        capsys,
        *("channels", "set", "shop", "--add-origin", "https://B.example:443/"),
        *("--add-origin", "http://localhost:8000", "--remove-origin", "https://a.example"),
        *("--pre-chat", "off", "--json", *base),
    )
    assert rc == 0
    shown = json.loads(out)
    assert shown["pre_chat"] is False
    assert shown["origins"] == ["https://b.example", "http://localhost:8000"]
    # The secret and the rest of the settings are kept.
    rc, out, _ = cli(capsys, "channels", "show", "shop", "--json", *base)
    assert json.loads(out) == {**shown, "updated_at": json.loads(out)["updated_at"]}


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        ((), "nothing to change"),
        (("--pre-chat", "maybe"), "invalid choice"),
        (("--add-origin", "https://a.example/path"), "is not an origin"),
        (("--remove-origin", "https://z.example"), "channel shop has no origin https://z.example"),
        (("--remove-origin", "https://a.example"), "needs at least one origin"),
        (("--require-tls",), "--require-tls is for email channels"),
        (("--ack-language", "zh"), "--ack-language is for email channels"),
        (("--no-acknowledge",), "--acknowledge is for email channels"),
    ],
)
def test_bad_web_channel_changes_are_named_and_change_nothing(capsys, db, argv, said):
    base = ("--db", db, "--agent", "boss")
    rc, _, _ = cli(capsys, "channels", "add", "web", "shop", "--origin", "https://a.example", *base)
    assert rc == 0
    try:
        rc, _out, err = cli(capsys, "channels", "set", "shop", *argv, *base)
    except SystemExit as exit_:  # argparse's own refusal (a bad choice)
        rc, err = int(exit_.code or 0), capsys.readouterr().err
    assert rc == 2 and said in err and "Traceback" not in err
    rc, out, _ = cli(capsys, "channels", "show", "shop", "--json", *base)
    assert json.loads(out)["origins"] == ["https://a.example"]
    assert json.loads(out)["pre_chat"] is False


def test_only_a_supervisor_changes_a_web_channel_and_api_channels_have_no_pre_chat(capsys, db):
    base = ("--db", db)
    cli(
        capsys,
        "channels",
        "add",
        "web",
        "shop",
        "--origin",
        "https://a.example",
        *base,
        "--agent",
        "boss",
    )
    rc, _, err = cli(
        capsys, "channels", "set", "shop", "--pre-chat", "on", *base, "--agent", "alice"
    )
    assert rc != 0 and "supervisor" in err
    cli(
        capsys,
        *("channels", "add", "api", "hook", "--webhook-url", "https://x.example/h"),
        *base,
        *("--agent", "boss"),
    )
    rc, _, err = cli(
        capsys, "channels", "set", "hook", "--pre-chat", "on", *base, "--agent", "boss"
    )
    assert rc == 2 and "are for web channels" in err
