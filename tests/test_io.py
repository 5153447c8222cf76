"""JSONL import and export through the real command line."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cs_tui.cli import main
from cs_tui.data.store import Store

WEIRD = [
    "退款什么时候到账?😡😡",
    "zero\u200bwidth\u200djoiner \ufeffbom",
    "[b]x[/b] [@click=app.quit]q[/] [/] [link=http://x]y[/link]",
    "esc \x1b[31mred\x1b[0m osc \x1b]52;c;aGk=\x07 bell \x07 nul-free \x7f c1 \x9b",
    "line one\nline two\r\nthree\ttabs",
    "   leading and trailing spaces   ",
]


def line(i: int, **kw) -> str:
    row = {
        "message_id": f"m{i}",
        "conversation_id": kw.pop("conv", "C1"),
        "channel": "chat",
        "customer": "wx-1",
        "author": "customer",
        "text": f"text {i}",
        "sent_at": f"2026-11-11T09:00:{i:02d}+08:00",
    }
    row.update(kw)
    return json.dumps(row, ensure_ascii=False)


def run(*args: str) -> int:
    return main(list(args))


def test_good_lines_are_imported_and_bad_ones_named_and_kept(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    lines = [
        line(1),
        "{not json",
        line(2, channel="fax"),
        json.dumps({"message_id": "m9", "channel": "chat"}),
        line(3, author="agent"),  # agent line without agent handle
        line(4, sent_at="2026-11-11 09:00:00"),  # no offset
        line(5, category="gossip"),
        line(6, author="agent", agent="alice", text="您好"),
        "",
        line(7, tags=["VIP", "退款"], category="payment", priority="high", customer_name="王小明"),
    ]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = str(tmp_path / "s.db")
    assert run("ingest", "--db", db, str(src)) == 1
    err = capsys.readouterr().err
    for number, words in [
        (2, "not valid JSON"),
        (3, "unknown channel 'fax'"),
        (4, "missing field"),
        (5, "an agent line needs 'agent'"),
        (6, "no UTC offset"),
        (7, "unknown category 'gossip'"),
    ]:
        reported = [x for x in err.splitlines() if x.startswith(f"{src}:{number}: ")]
        assert len(reported) == 1 and words in reported[0], err
    assert "Traceback" not in err
    rejects = (tmp_path / "in.jsonl.rejects.jsonl").read_text(encoding="utf-8").splitlines()
    assert rejects == [lines[1], lines[2], lines[3], lines[4], lines[5], lines[6]]
    store = Store.open(db)
    cid = store.conversation_id("C1")
    detail = store.conversation(cid)
    assert [m.body for m in detail.messages] == ["text 1", "您好", "text 7"]
    assert detail.row.tags == ("VIP", "退款")
    assert detail.row.category == "payment" and detail.row.priority == "high"
    assert detail.customer.name == "王小明"
    assert detail.row.assignee == "alice"  # the agent who answered owns the conversation


def test_ingest_is_idempotent_on_message_id(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(line(i) for i in range(5)) + "\n", encoding="utf-8")
    db = str(tmp_path / "s.db")
    assert run("ingest", "--db", db, str(src)) == 0
    assert run("ingest", "--db", db, str(src)) == 0
    assert "0 messages" in capsys.readouterr().err.splitlines()[-1].replace("imported 0", "0")
    assert Store.open(db).counts()["message"] == 5


def test_export_then_ingest_reproduces_the_messages_exactly(tmp_path):
    db1, db2 = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    src = tmp_path / "in.jsonl"
    rows = [line(i, text=t, conv=f"C{i % 2}") for i, t in enumerate(WEIRD)]
    rows.append(
        line(20, author="agent", agent="bob", text="您好,请稍等 [i]x[/i]", conv="C0", csat=4)
    )
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert run("ingest", "--db", db1, str(src)) == 0
    store = Store.open(db1)
    boss = store.ensure_agent("boss", role="supervisor")
    store.post_note(boss, store.conversation_id("C1"), "内部备注 \x1b[2J")
    store.dispose()
    out1, out2 = tmp_path / "e1.jsonl", tmp_path / "e2.jsonl"
    assert run("export", "--db", db1, "--agent", "boss", "--out", str(out1)) == 0
    assert run("ingest", "--db", db2, str(out1)) == 0
    assert run("export", "--db", db2, "--out", str(out2)) == 0
    assert out1.read_bytes() == out2.read_bytes()
    exported = [json.loads(x) for x in out1.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["text"] for r in exported if r["author"] == "customer") == sorted(WEIRD)
    assert any(r["author"] == "note" and r["text"] == "内部备注 \x1b[2J" for r in exported)
    # Times keep their instant (exported in UTC).
    first = next(r for r in exported if r["message_id"] == "m0")
    assert first["sent_at"] == "2026-11-11T01:00:00+00:00"
    a, b = Store.open(db1), Store.open(db2)
    for ext in ("C0", "C1"):
        da, db_ = a.conversation(a.conversation_id(ext)), b.conversation(b.conversation_id(ext))
        assert [(m.author_kind, m.body, m.sent_at) for m in da.messages] == [
            (m.author_kind, m.body, m.sent_at) for m in db_.messages
        ]
        assert da.csat == db_.csat


def test_ingest_from_stdin(tmp_path):
    db = str(tmp_path / "s.db")
    proc = subprocess.run(
        [sys.executable, "-m", "cs_tui", "ingest", "--db", db, "-"],
        input="\n".join(line(i) for i in range(3)) + "\n",
        text=True,
        capture_output=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert Store.open(db).counts()["message"] == 3


def test_a_line_that_is_not_utf8_is_rejected_alone(tmp_path, capsys):
    src = tmp_path / "latin.jsonl"
    bad = b'{"text": "caf\xe9"}'
    src.write_bytes(line(1).encode() + b"\n" + bad + b"\n" + line(2).encode() + b"\n")
    db = str(tmp_path / "s.db")
    assert run("ingest", "--db", db, str(src)) == 1
    err = capsys.readouterr().err
    assert f"{src}:2: not UTF-8 text" in err and "Traceback" not in err
    assert Store.open(db).counts()["message"] == 2
    assert (tmp_path / "latin.jsonl.rejects.jsonl").read_bytes() == bad + b"\n"


def test_a_directory_is_named(tmp_path, capsys):
    assert run("ingest", "--db", str(tmp_path / "s.db"), str(tmp_path)) == 2
    assert "is a directory" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["missing.jsonl"])
def test_missing_file(tmp_path, capsys, bad):
    assert run("ingest", "--db", str(tmp_path / "s.db"), str(tmp_path / bad)) == 2
    assert "no such file" in capsys.readouterr().err


def test_a_large_import_in_batches_loses_nothing(tmp_path):
    from cs_tui.data import io

    lines = [
        line(i % 60, conv=f"C{i // 10}").replace(f'"m{i % 60}"', f'"m{i}"') for i in range(21_000)
    ]
    lines[12_345] = "{broken"
    rejects: list = []
    store = Store.open(str(tmp_path / "s.db"))
    result = io.ingest_lines(store, [x + "\n" for x in lines], rejects)
    assert result.imported == 20_999
    assert [r.line_no for r in rejects] == [12_346]
    assert store.counts()["message"] == 20_999
    _ = Path


def test_any_json_line_is_either_a_record_or_a_clear_rejection():
    """Property: whatever JSON a line holds, parsing never raises anything but a line error."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from cs_tui.data.io import LineError, parse_record

    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=30)
    )
    values = st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=6,
    )
    keys = st.sampled_from(
        [
            "message_id",
            "conversation_id",
            "channel",
            "customer",
            "author",
            "text",
            "sent_at",
            "customer_name",
            "agent",
            "category",
            "priority",
            "tags",
            "csat",
        ]
    )
    good = {
        "message_id": "m1",
        "conversation_id": "c1",
        "channel": "chat",
        "customer": "u",
        "author": "customer",
        "text": "hi",
        "sent_at": "2026-11-11T09:00:00+08:00",
    }

    @settings(max_examples=300, deadline=None)
    @given(st.dictionaries(keys, values, max_size=13), st.booleans())
    def check(obj, start_from_good):
        if start_from_good:
            obj = {**good, **obj}
        with contextlib.suppress(LineError):
            parse_record(obj)

    check()


def test_conversations_spanning_batches_are_counted_once(tmp_path):
    from cs_tui.data import io

    lines = [
        line(i % 60, conv="ONE").replace(f'"m{i % 60}"', f'"m{i}"') + "\n" for i in range(12_000)
    ]
    store = Store.open(str(tmp_path / "s.db"))
    result = io.ingest_lines(store, lines, [])
    assert result.imported == 12_000 and result.conversations == 1


def _numbered_lines(n: int) -> list[str]:
    return [
        line(i % 60, conv=f"C{i // 10}").replace(f'"m{i % 60}"', f'"m{i}"') + "\n" for i in range(n)
    ]


def test_an_import_completes_when_no_parser_process_can_start(tmp_path, monkeypatch):
    from cs_tui.data import io

    def refuse(*_args, **_kwargs):
        raise OSError("no processes here")

    monkeypatch.setattr(io, "ProcessPoolExecutor", refuse)
    lines = _numbered_lines(12_000)
    lines[7_000] = "not json\n"
    rejects: list = []
    store = Store.open(str(tmp_path / "s.db"))
    result = io.ingest_lines(store, lines, rejects)
    assert result.imported == 11_999
    assert [r.line_no for r in rejects] == [7_001]
    assert store.counts()["message"] == 11_999


def test_an_import_loses_nothing_when_the_parser_process_dies(tmp_path):
    """The second process that parses ahead is killed after the first batch is stored: the
    batches it held are parsed in the importing process and every line still arrives, with
    the times it would have stored."""
    import multiprocessing
    import os
    import signal

    from cs_tui.data import io

    killed: list[int] = []

    def kill_the_parser(_lines: int) -> None:
        if not killed:
            for child in multiprocessing.active_children():
                os.kill(child.pid, signal.SIGKILL)
                killed.append(child.pid)

    lines = _numbered_lines(30_000)
    lines[25_000] = "{broken\n"
    rejects: list = []
    store = Store.open(str(tmp_path / "s.db"))
    result = io.ingest_lines(store, lines, rejects, progress=kill_the_parser)
    assert killed, "the import should have parsed ahead in a second process"
    assert result.imported == 29_999
    assert [r.line_no for r in rejects] == [25_001]
    assert store.counts()["message"] == 29_999
    exported = {row["message_id"]: row["sent_at"] for row in store.export_rows()}
    # line(i) is sent at 09:00:(i % 60) +08:00, i.e. 01:00:(i % 60) UTC
    assert exported["m29999"] == "2026-11-11T01:00:59+00:00"
    assert exported["m12345"] == "2026-11-11T01:00:45+00:00"


def test_a_large_import_stores_the_same_as_a_small_one(tmp_path):
    """Lines parsed ahead in the second process and lines parsed in the importing one end up
    identical in the store."""
    from cs_tui.data import io

    lines = _numbered_lines(16_000)
    big = Store.open(str(tmp_path / "big.db"))
    io.ingest_lines(big, lines, [])
    small = Store.open(str(tmp_path / "small.db"))
    for start in range(0, len(lines), 4_000):  # one chunk each: parsed in this process
        io.ingest_lines(small, lines[start : start + 4_000], [])
    assert list(big.export_rows()) == list(small.export_rows())
