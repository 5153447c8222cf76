"""`cs-tui channels` and `cs-tui deliveries` on SQLite and PostgreSQL, through `cs_tui.cli.main`
as the script runs them: what they print, what they refuse, and what the store holds after.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from cs_tui.cli import main
from cs_tui.data.store import Store

WEBHOOK = "https://shop.example/hooks/cs"


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


@pytest.fixture
def db(store_url):
    with Store.open(store_url) as s:
        s.ensure_agent("boss", "Boss", role="supervisor")
        s.ensure_agent("alice", "Alice")
        s.ensure_agent("bob", "Bob")
    return store_url


def add(capsys, db: str, name: str = "shop", *extra: str) -> dict:
    rc, out, err = cli(
        capsys,
        "channels",
        "add",
        "api",
        name,
        "--webhook-url",
        WEBHOOK,
        "--db",
        db,
        "--agent",
        "boss",
        "--json",
        *extra,
    )
    assert rc == 0, err
    assert "shown once" in err
    return json.loads(out)


def test_add_prints_token_and_secret_once(db, capsys):
    rc, out, err = cli(
        capsys,
        "channels",
        "add",
        "api",
        "shop",
        "--webhook-url",
        WEBHOOK,
        "--type",
        "ticket",
        "--db",
        db,
        "--agent",
        "boss",
    )
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == f"added channel shop (api, ticket) -> {WEBHOOK}"
    token = lines[1].removeprefix("token:  ")
    secret = lines[2].removeprefix("secret: ")
    assert token.startswith("cst_") and len(secret) == 64
    assert "shown once" in lines[3]
    with Store.open(db) as s:
        auth = s.channel_by_token(token)
        assert auth is not None and auth.channel_type == "ticket" and auth.secret == secret
    # never again: list and show print neither
    for argv in (("list",), ("show", "shop"), ("list", "--json"), ("show", "shop", "--json")):
        rc, out, _ = cli(capsys, "channels", *argv, "--db", db, "--agent", "boss")
        assert rc == 0 and "shop" in out
        assert token not in out and secret not in out
        assert hashlib.sha256(token.encode()).hexdigest() not in out


def test_add_json_and_list_json(db, capsys):
    made = add(capsys, db)
    assert made["name"] == "shop" and made["kind"] == "api" and made["type"] == "chat"
    assert made["token"].startswith("cst_") and len(made["secret"]) == 64
    rc, out, _ = cli(capsys, "channels", "list", "--db", db, "--agent", "boss", "--json")
    [listed] = json.loads(out)
    assert listed["name"] == "shop" and listed["active"] is True
    assert "token" not in listed and "secret" not in listed


def test_rotate_disable_enable(db, capsys):
    made = add(capsys, db)
    rc, out, err = cli(
        capsys, "channels", "rotate", "shop", "--db", db, "--agent", "boss", "--json"
    )
    assert rc == 0 and "shown once" in err
    rotated = json.loads(out)
    assert rotated["token"] != made["token"] and rotated["secret"] != made["secret"]
    rc, out, _ = cli(capsys, "channels", "disable", "shop", "--db", db, "--agent", "boss")
    assert rc == 0 and out == "channel shop is disabled\n"
    rc, out, _ = cli(capsys, "channels", "show", "shop", "--db", db, "--agent", "boss", "--json")
    assert json.loads(out)["active"] is False
    rc, out, _ = cli(capsys, "channels", "enable", "shop", "--db", db, "--agent", "boss", "--json")
    assert rc == 0 and json.loads(out)["active"] is True
    with Store.open(db) as s:
        assert s.channel_by_token(made["token"]) is None
        assert s.channel_by_token(rotated["token"]) is not None


@pytest.mark.parametrize(
    "argv",
    [
        ("add", "api", "other", "--webhook-url", WEBHOOK),
        ("list",),
        ("show", "shop"),
        ("rotate", "shop"),
        ("disable", "shop"),
        ("enable", "shop"),
    ],
)
def test_agents_and_strangers_are_refused(db, capsys, argv):
    made = add(capsys, db)
    for who in ("alice", "stranger"):
        rc, out, err = cli(capsys, "channels", *argv, "--db", db, "--agent", who)
        assert rc == 2 and out == ""
        assert "supervisor" in err and "Traceback" not in err
    with Store.open(db) as s:
        assert s.channel_by_token(made["token"]) is not None
        assert [c.name for c in s.list_channels(s.get_agent("boss"))] == ["shop"]


def test_a_new_store_lets_its_first_user_add_a_channel(tmp_path, capsys):
    db = str(tmp_path / "new.db")
    rc, out, err = cli(
        capsys,
        "channels",
        "add",
        "api",
        "shop",
        "--webhook-url",
        WEBHOOK,
        "--db",
        db,
        "--agent",
        "founder",
    )
    assert rc == 0, err
    assert out.startswith("added channel shop")


@pytest.mark.parametrize(
    ("name", "url", "says"),
    [
        ("Shop", WEBHOOK, "not a usable channel name"),
        ("shop", "ftp://shop.example/h", "http:// or https://"),
        ("shop", "https://", "with a host"),
        ("shop", "https://shop.example/\x1b[31mred", "http:// or https://"),
    ],
)
def test_bad_input_gets_one_clear_line(db, capsys, name, url, says):
    rc, out, err = cli(
        capsys,
        "channels",
        "add",
        "api",
        name,
        "--webhook-url",
        url,
        "--db",
        db,
        "--agent",
        "boss",
    )
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and says in err
    assert "\x1b" not in err


def test_unknown_channel(db, capsys):
    rc, _, err = cli(capsys, "channels", "show", "nope", "--db", db, "--agent", "boss")
    assert rc == 2 and "no channel 'nope'" in err


# -- deliveries ----------------------------------------------------------------------------


def failed_delivery(db: str, token: str, conv: str = "C1", owner: str = "alice") -> int:
    """A reply of `owner` in a conversation the channel opened, whose delivery failed."""
    with Store.open(db) as s:
        shop = s.channel_by_token(token)
        assert shop is not None
        s.ingest_from_channel(
            shop.id,
            [
                {
                    "message_id": f"in-{conv}",
                    "conversation_id": conv,
                    "customer": f"wx-{conv}",
                    "author": "customer",
                    "text": "在吗",
                    "sent_at": "2026-11-11T08:59:00Z",
                }
            ],
        )
        agent = s.get_agent(owner)
        cid = s.conversation_id(conv)
        s.claim(agent, cid)
        s.post_reply(agent, cid, "在的")
        [job] = s.claim_deliveries("w1", 1, 30)
        s.delivery_failed(job.delivery_id, "w1", "HTTP 404: no such user", 404)
        return job.delivery_id


@pytest.fixture
def with_failure(db, capsys):
    return failed_delivery(db, add(capsys, db)["token"])


def test_deliveries_json_and_text(db, capsys, with_failure):
    rc, out, _ = cli(capsys, "deliveries", "--db", db, "--agent", "boss", "--json")
    [d] = json.loads(out)
    assert d["delivery_id"] == with_failure
    assert d["conversation_id"] == "C1" and d["message_id"].startswith("cs-")
    assert (d["status"], d["attempts"]) == ("failed", 1)
    assert d["last_error"] == "HTTP 404: no such user" and d["next_attempt_at"] is None
    rc, out, _ = cli(capsys, "deliveries", "--db", db, "--agent", "boss")
    assert rc == 0 and "failed" in out and "HTTP 404" in out
    rc, out, _ = cli(
        capsys, "deliveries", "--status", "sent", "--db", db, "--agent", "boss", "--json"
    )
    assert json.loads(out) == []
    rc, out, _ = cli(
        capsys, "deliveries", "--conversation", "C1", "--db", db, "--agent", "boss", "--json"
    )
    assert len(json.loads(out)) == 1
    # an agent sees the deliveries of their own conversations only
    rc, out, err = cli(capsys, "deliveries", "--db", db, "--agent", "bob")
    assert rc == 0 and "(no deliveries)" in out and "your conversations" in err


def test_deliveries_retry_by_the_owner_only(db, capsys, with_failure):
    did = str(with_failure)
    rc, out, err = cli(capsys, "deliveries", "retry", did, "--db", db, "--agent", "bob")
    assert rc == 2 and "another agent's conversation" in err
    rc, out, err = cli(capsys, "deliveries", "retry", did, "--db", db, "--agent", "alice")
    assert rc == 0, err
    assert out == f"delivery {did} is queued again (1 attempts so far)\n"
    rc, out, _ = cli(capsys, "deliveries", "retry", did, "--db", db, "--agent", "boss", "--json")
    assert rc == 0 and json.loads(out)["status"] == "queued"
    rc, _, err = cli(capsys, "deliveries", "retry", "424242", "--db", db, "--agent", "boss")
    assert rc == 2 and "no delivery #424242" in err
    with Store.open(db) as s:
        assert s.queue_row(s.conversation_id("C1")).undelivered is False


def test_only_an_api_channel_gets_a_token_for_the_inbound_api(db, capsys):
    """A web channel's visitors come in through its page: a token would be one more key to
    POST /api/v1/messages that nobody was told to keep."""
    common = ("--db", db, "--agent", "boss")
    rc, out, err = cli(
        capsys, "channels", "add", "web", "site", "--origin", "https://shop.example", *common
    )
    assert rc == 0, err
    assert "secret:" in out and "token" not in out
    rc, out, err = cli(capsys, "channels", "rotate", "site", "--json", *common)
    assert rc == 0, err
    rotated = json.loads(out)
    assert "token" not in rotated and len(rotated["secret"]) == 64
    with Store.open(db) as s:
        assert s.channel_by_token("cst_" + "x" * 43) is None
        with s._read() as conn:
            hashes = conn.exec_driver_sql(
                "SELECT token_hash FROM gateway_channel WHERE name = 'site'"
            ).scalar()
    assert hashes is None


def test_an_email_channels_switches_read_on_and_off_and_stay_booleans_in_json(db, capsys):
    rc, _, err = cli(
        capsys,
        *("channels", "add", "email", "mail", "--db", db, "--agent", "boss"),
        *("--imap", "imap://service@127.0.0.1:1143", "--smtp", "smtp://service@127.0.0.1:2525"),
        *("--from", "service@shop.example", "--password-env", "SHOP_MAIL_PW"),
    )
    assert rc == 0, err
    rc, out, err = cli(
        capsys,
        *("channels", "set", "mail", "--acknowledge", "--no-require-tls"),
        *("--db", db, "--agent", "boss"),
    )
    assert rc == 0, err
    assert out.splitlines() == [
        "channel mail: acknowledge = on",
        "channel mail: require-tls = off",
    ]
    rc, out, _ = cli(capsys, "channels", "show", "mail", "--db", db, "--agent", "boss")
    assert "acknowledge:on" in out.replace(" ", "") and "require_tls:off" in out.replace(" ", "")
    assert "True" not in out and "False" not in out
    rc, out, _ = cli(
        capsys,
        "channels",
        "set",
        "mail",
        "--ack-language",
        "zh",
        "--json",
        "--db",
        db,
        "--agent",
        "boss",
    )
    shown = json.loads(out)
    assert shown["acknowledge"] is True and shown["require_tls"] is False
    assert shown["ack_language"] == "zh"
