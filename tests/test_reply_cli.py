"""`cs-tui reply` stops what the workstation's composer stops: unfilled blanks, phrases to avoid,
a reply in another language than the customer's. On SQLite and PostgreSQL, through cli.main as
the `cs-tui` script runs it; what was printed and what the store holds are both checked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from cs_tui.cli import main
from cs_tui.data.store import Store
from cs_tui.data.views import IngestRecord


@pytest.fixture
def db(store_url):
    """alice owns ZH (the customer writes Chinese) and EN (the customer writes English)."""
    with Store.open(store_url) as s:
        s.ensure_agent("boss", "Boss", role="supervisor")
        alice = s.ensure_agent("alice", "Alice")
        now = datetime.now(UTC)
        s.ingest(
            IngestRecord(
                message_id=f"m-{ext}",
                conversation_id=ext,
                channel="chat",
                customer=f"cust-{ext}",
                author="customer",
                text=text,
                sent_at=now - timedelta(minutes=1),
            )
            for ext, text in (("ZH", "我的订单还没到"), ("EN", "Where is my parcel?"))
        )
        for ext in ("ZH", "EN"):
            assert s.claim(alice, s.conversation_id(ext))
    return store_url


@pytest.fixture(autouse=True)
def _english():
    """Findings are worded in the interface language; these tests read the English."""
    from cs_tui import i18n

    i18n.set_language("en")
    yield
    i18n.set_language("en")


def reply(capsys, db, *args):
    rc = main(["reply", *args, "--db", db, "--agent", "alice"])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def replies(db, ext):
    with Store.open(db) as s:
        detail = s.conversation(s.conversation_id(ext))
        return [m.body for m in detail.messages if m.author_kind == "agent"]


def test_an_unfilled_blank_is_never_sent_even_with_force(db, capsys):
    rc, out, err = reply(capsys, db, "ZH", "您好,订单{order_id}已发货")
    assert rc == 2 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith("ZH:5: placeholder: 「{order_id}」")
    assert lines[-1].startswith("cs-tui: not sent:") and "--force never sends" in lines[-1]
    assert len(lines) == 2  # one line per finding, then why nothing was sent

    rc, out, err = reply(capsys, db, "ZH", "不行,订单{order_id}", "--force")
    assert rc == 2 and "placeholder" in err and "不行" in err
    assert replies(db, "ZH") == []


def test_findings_as_json_and_nothing_sent(db, capsys):
    rc, out, err = reply(capsys, db, "ZH", "不行,订单{order_id}", "--json")
    assert rc == 2
    data = json.loads(out)
    assert data["sent"] is False and data["conversation_id"] == "ZH"
    assert [(f["kind"], f["phrase"], f["blocks"]) for f in data["findings"]] == [
        ("language", "不行", False),
        ("placeholder", "{order_id}", True),
    ]
    assert replies(db, "ZH") == []


def test_a_phrase_to_avoid_is_held_until_forced(db, capsys):
    rc, out, err = reply(capsys, db, "ZH", "不行")
    assert rc == 2 and out == ""
    assert err.splitlines()[0].startswith("ZH:0: language: 「不行」")
    assert "--force" in err.splitlines()[-1]
    assert replies(db, "ZH") == []

    rc, out, err = reply(capsys, db, "ZH", "不行", "--force", "--json")
    assert rc == 0
    sent = json.loads(out)
    assert sent["body"] == "不行" and [f["kind"] for f in sent["findings"]] == ["language"]
    assert replies(db, "ZH") == ["不行"]


def test_a_reply_in_another_language_than_the_customers_is_held(db, capsys):
    rc, _, err = reply(capsys, db, "ZH", "Your refund is on its way")
    assert rc == 2 and "mismatch" in err and "Chinese" in err
    rc, _, err = reply(capsys, db, "EN", "您好,退款会在24小时内到账")
    assert rc == 2 and "mismatch" in err and "English" in err
    assert replies(db, "ZH") == [] and replies(db, "EN") == []

    rc, out, _ = reply(capsys, db, "ZH", "Your refund is on its way", "--force")
    assert rc == 0 and out.startswith("sent to ZH") and "despite 1 finding" in out
    assert replies(db, "ZH") == ["Your refund is on its way"]
    # In the customer's language and clean: sent at once, without a word on stderr.
    rc, out, err = reply(capsys, db, "EN", "Your refund will arrive within 24 hours.")
    assert rc == 0 and out.startswith("sent to EN") and err == ""
    assert replies(db, "EN") == ["Your refund will arrive within 24 hours."]


def test_findings_print_no_escape_codes(db, capsys):
    rc, _, err = reply(capsys, db, "ZH", "不行\x1b]52;c;aGVsbG8=\x07{x}")
    assert rc == 2 and "\x1b" not in err and "\x07" not in err
    assert replies(db, "ZH") == []
