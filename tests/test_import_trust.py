"""Imports take untrusted files: a poison line is one rejected line, never a stopped import, and
the rejects file, the roles and the helper process behave as the README says."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cs_tui.cli import main
from cs_tui.data.store import Store

MARKER = "s3cr3t"  # customer data that must never be printed in a reason


def row(i: int, **kw) -> dict:
    base = {
        "message_id": f"m{i}",
        "conversation_id": "C1",
        "channel": "chat",
        "customer": "wx-1",
        "author": "customer",
        "text": f"text {i}",
        "sent_at": f"2026-11-11T09:00:{i % 60:02d}+08:00",
    }
    base.update(kw)
    return base


def line(i: int, **kw) -> str:
    return json.dumps(row(i, **kw), ensure_ascii=False)


def escaped(i: int, **kw) -> str:
    """The line with every non-ASCII character written as a JSON escape (\\ud800, \\u0000)."""
    return json.dumps(row(i, **kw))


def with_extra(i: int, raw_value: str) -> str:
    """A good line with one more field whose JSON text is written verbatim."""
    return line(i)[:-1] + f', "extra": {raw_value}}}'


POISON = {
    "lone surrogate in text": (escaped(2, text=f"{MARKER} \ud800"), "'text'"),
    "lone surrogate in customer_name": (
        escaped(2, customer_name=f"{MARKER}\udfff"),
        "'customer_name'",
    ),
    "nesting of 65 levels": (with_extra(2, "[" * 65 + "]" * 65), "deeper than 64"),
    "nesting of 100,000 levels": (with_extra(2, "[" * 100_000 + "]" * 100_000), "deeper than 64"),
    "integer of 4,301 digits": (with_extra(2, "9" * 4_301), "digits"),
    "csat of 5,000 digits": (line(2)[:-1] + ', "csat": 1' + "0" * 5_000 + "}", "digits"),
    "sent_at in year 1": (line(2, sent_at="0001-01-01T00:00:00+14:00"), "'sent_at'"),
    "sent_at in year 9999": (line(2, sent_at="9999-12-31T23:59:59-14:00"), "'sent_at'"),
    "deadline past year 9999": (line(2, sent_at="9999-12-31T00:00:00+00:00"), "'sent_at'"),
    "NUL in text": (escaped(2, text=f"{MARKER}\x00"), "'text'"),
    "NUL in customer_name": (escaped(2, customer_name=f"{MARKER}\x00"), "'customer_name'"),
    "escape in message_id": (line(2, message_id=f"m2\x1b]52;c;{MARKER}\x07"), "'message_id'"),
    "newline in conversation_id": (line(2, conversation_id=f"C\n{MARKER}"), "'conversation_id'"),
    "C1 control in customer": (line(2, customer=f"wx\x9b2J{MARKER}"), "'customer'"),
    "zero-width space in customer": (line(2, customer=f"wx\u200b{MARKER}"), "'customer'"),
    "tab in a tag": (line(2, tags=["VIP", f"a\t{MARKER}"]), "tag"),
    "NUL in a tag": (escaped(2, tags=[f"{MARKER}\x00"]), "tag"),
    "newline after an agent handle": (line(2, author="agent", agent="alice\n"), "'agent'"),
}


def stored_ids(url: str) -> list[str]:
    with Store.open(url) as store:
        return sorted(r["message_id"] for r in store.export_rows())


@pytest.mark.parametrize("case", list(POISON))
def test_a_poison_line_is_one_rejected_line(case, store_url, tmp_path, capsys):
    poison, field = POISON[case]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([line(1), poison, line(3)]) + "\n", encoding="utf-8")
    assert main(["ingest", "--db", store_url, str(src)]) == 1
    err = capsys.readouterr().err
    reported = [x for x in err.splitlines() if x.startswith(f"{src}:")]
    assert len(reported) == 1 and reported[0].startswith(f"{src}:2: "), err
    assert field in reported[0], err
    assert "Traceback" not in err and MARKER not in err and "\x1b" not in err
    rejects = tmp_path / "in.jsonl.rejects.jsonl"
    assert rejects.read_text(encoding="utf-8") == poison + "\n"
    assert stored_ids(store_url) == ["m1", "m3"]


def test_poison_lines_in_the_batches_parsed_by_the_helper_process(tmp_path, capsys):
    """Batches after the first are parsed in a second process: a poison line there is rejected
    just the same, and nothing around it is lost."""
    lines = [line(i, conversation_id=f"C{i // 10}") for i in range(14_000)]
    poisoned = {}
    for k, (poison, _field) in enumerate(POISON.values()):
        number = 6_000 + k * 397  # spread over the second and third batches
        lines[number - 1] = poison
        poisoned[number] = poison
    src = tmp_path / "big.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = str(tmp_path / "s.db")
    assert main(["ingest", "--db", db, str(src)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and MARKER not in err
    reported = sorted(int(x.split(":")[1]) for x in err.splitlines() if x.startswith(f"{src}:"))
    assert reported == sorted(poisoned)
    with Store.open(db) as store:
        assert store.counts()["message"] == 14_000 - len(poisoned)
    kept = (tmp_path / "big.jsonl.rejects.jsonl").read_text(encoding="utf-8").splitlines()
    assert kept == [poisoned[n] for n in sorted(poisoned)]


def test_a_byte_order_mark_at_the_start_is_skipped(tmp_path, capsys):
    src = tmp_path / "bom.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + (line(1) + "\n" + line(2) + "\n").encode())
    db = str(tmp_path / "s.db")
    assert main(["ingest", "--db", db, str(src)]) == 0, capsys.readouterr().err
    assert stored_ids(db) == ["m1", "m2"]
    assert not (tmp_path / "bom.jsonl.rejects.jsonl").exists()


# -- the rejects file ---------------------------------------------------------------------


def test_a_symlink_at_the_rejects_path_is_replaced_not_followed(tmp_path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "precious.txt"
    victim.write_text("keep me\n", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    src = work / "in.jsonl"
    src.write_text(line(1) + "\n{broken\n", encoding="utf-8")
    planted = work / "in.jsonl.rejects.jsonl"
    planted.symlink_to(victim)
    assert main(["ingest", "--db", str(tmp_path / "s.db"), str(src)]) == 1
    assert victim.read_text(encoding="utf-8") == "keep me\n"
    assert not planted.is_symlink()
    assert planted.read_text(encoding="utf-8") == "{broken\n"
    assert planted.stat().st_mode & 0o077 == 0  # customer text: readable by its owner only
    assert sorted(p.name for p in work.iterdir()) == ["in.jsonl", "in.jsonl.rejects.jsonl"]


def test_a_symlink_to_the_input_at_the_rejects_path_leaves_the_input_whole(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    content = line(1) + "\n{broken\n" + line(3) + "\n"
    src.write_text(content, encoding="utf-8")
    planted = tmp_path / "in.jsonl.rejects.jsonl"
    planted.symlink_to(src)
    assert main(["ingest", "--db", str(tmp_path / "s.db"), str(src)]) == 1
    assert src.read_text(encoding="utf-8") == content
    assert not planted.is_symlink() and planted.read_text(encoding="utf-8") == "{broken\n"
    assert stored_ids(str(tmp_path / "s.db")) == ["m1", "m3"]


def test_a_clean_rerun_removes_the_stale_rejects_file(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(line(1) + "\n{broken\n", encoding="utf-8")
    db = str(tmp_path / "s.db")
    assert main(["ingest", "--db", db, str(src)]) == 1
    rejects = tmp_path / "in.jsonl.rejects.jsonl"
    assert rejects.exists()
    src.write_text(line(1) + "\n" + line(2) + "\n", encoding="utf-8")  # the line fixed
    assert main(["ingest", "--db", db, str(src)]) == 0
    assert not rejects.exists()
    assert "rejects" not in capsys.readouterr().err.splitlines()[-1]


def test_the_rejects_option_names_the_file(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(line(1) + "\n{broken\n", encoding="utf-8")
    chosen = tmp_path / "elsewhere" / "bad.jsonl"
    chosen.parent.mkdir()
    db = str(tmp_path / "s.db")
    assert main(["ingest", "--db", db, "--rejects", str(chosen), str(src)]) == 1
    assert chosen.read_text(encoding="utf-8") == "{broken\n"
    assert not (tmp_path / "in.jsonl.rejects.jsonl").exists()
    assert f"copied to {chosen}" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["input", "directory", "missing directory"])
def test_an_unusable_rejects_option_is_refused_before_importing(where, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(line(1) + "\n{broken\n", encoding="utf-8")
    target = {
        "input": src,
        "directory": tmp_path,
        "missing directory": tmp_path / "nowhere" / "r.jsonl",
    }[where]
    db = str(tmp_path / "s.db")
    assert main(["ingest", "--db", db, "--rejects", str(target), str(src)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cs-tui: ") and len(err.splitlines()) == 1, err
    assert src.read_text(encoding="utf-8") == line(1) + "\n{broken\n"
    assert stored_ids(db) == []


def _ingest_stdin(tmp_path: Path, data: str, *extra: str) -> subprocess.CompletedProcess:
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "cs_tui", "ingest", "--db", str(tmp_path / "s.db"), *extra, "-"],
        input=data,
        text=True,
        capture_output=True,
        cwd=cwd,
    )


def test_standard_input_rejects_go_to_stderr_and_no_file_is_written(tmp_path):
    proc = _ingest_stdin(tmp_path, line(1) + "\n{broken\n" + line(3) + "\n")
    assert proc.returncode == 1, proc.stderr
    assert "-:2: not valid JSON" in proc.stderr and "Traceback" not in proc.stderr
    assert list((tmp_path / "cwd").iterdir()) == []
    assert stored_ids(str(tmp_path / "s.db")) == ["m1", "m3"]


def test_standard_input_rejects_go_to_the_named_file(tmp_path):
    chosen = tmp_path / "stdin-bad.jsonl"
    proc = _ingest_stdin(tmp_path, line(1) + "\n{broken\n", "--rejects", str(chosen))
    assert proc.returncode == 1, proc.stderr
    assert chosen.read_text(encoding="utf-8") == "{broken\n"
    assert list((tmp_path / "cwd").iterdir()) == []


# -- roles ----------------------------------------------------------------------------------


def _team(url: str) -> None:
    with Store.open(url) as store:
        store.ensure_agent("boss", role="supervisor")
        store.ensure_agent("alice")


def test_once_a_supervisor_exists_an_agent_cannot_ingest(store_url, tmp_path, capsys):
    _team(store_url)
    src = tmp_path / "in.jsonl"
    src.write_text(line(1) + "\n", encoding="utf-8")
    assert main(["ingest", "--db", store_url, "--agent", "alice", str(src)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "supervisor" in err, err
    assert stored_ids(store_url) == []


def test_once_a_supervisor_exists_an_unknown_handle_cannot_ingest(store_url, tmp_path, capsys):
    _team(store_url)
    src = tmp_path / "in.jsonl"
    src.write_text(line(1) + "\n", encoding="utf-8")
    assert main(["ingest", "--db", store_url, "--agent", "mallory", str(src)]) == 2
    assert "supervisor" in capsys.readouterr().err
    with Store.open(store_url) as store:
        assert store.get_agent("mallory") is None
    assert stored_ids(store_url) == []


def _privileged_lines() -> list[str]:
    return [
        line(1),
        line(2, author="agent", agent="alice"),
        line(3, author="agent", agent="bob"),
        line(4, author="note", agent="bob"),
        line(5, author="system"),
        line(6, csat=5),
    ]


def test_a_supervisor_imports_notes_system_lines_other_agents_and_csat(store_url, tmp_path, capsys):
    _team(store_url)
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(_privileged_lines()) + "\n", encoding="utf-8")
    assert main(["ingest", "--db", store_url, "--agent", "boss", str(src)]) == 0
    assert stored_ids(store_url) == ["m1", "m2", "m3", "m4", "m5", "m6"]


def test_an_agent_importing_through_the_data_layer_cannot_speak_for_others(store):
    """Once a supervisor exists, an agent's import keeps their own and customers' lines and
    rejects lines of other agents, notes, system lines and CSAT, each with its reason."""
    from cs_tui.data import io

    store.ensure_agent("boss", role="supervisor")
    alice = store.ensure_agent("alice")
    rejects: list = []
    result = io.ingest_lines(store, [x + "\n" for x in _privileged_lines()], rejects, actor=alice)
    assert result.imported == 2
    assert [(r.line_no, r.raw) for r in rejects] == [
        (n, _privileged_lines()[n - 1] + "\n") for n in (3, 4, 5, 6)
    ]
    assert all("supervisor" in r.reason for r in rejects)
    assert sorted(r["message_id"] for r in store.export_rows()) == ["m1", "m2"]


def test_before_any_supervisor_the_importer_is_registered_and_imports_everything(tmp_path, capsys):
    db = str(tmp_path / "s.db")
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(_privileged_lines()) + "\n", encoding="utf-8")
    assert main(["ingest", "--db", db, "--agent", "carol", str(src)]) == 0
    assert stored_ids(db) == ["m1", "m2", "m3", "m4", "m5", "m6"]
    with Store.open(db) as store:
        assert store.get_agent("carol") is not None


# -- a killed import -----------------------------------------------------------------------


def _process_table() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, start time) from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        table[int(entry)] = (int(fields[1]), fields[0], fields[19])
    return table


def _descendants(root: int) -> dict[int, str]:
    table = _process_table()
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _state, started) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = started
                frontier.append(pid)
    return found


def _alive(pid: int, started: str) -> bool:
    entry = _process_table().get(pid)
    return entry is not None and entry[1] != "Z" and entry[2] == started


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_import_leaves_no_process_behind(sig, tmp_path):
    src = tmp_path / "big.jsonl"
    with src.open("w", encoding="utf-8") as fh:
        for i in range(200_000):
            fh.write(line(i, message_id=f"m{i}", conversation_id=f"C{i // 10}") + "\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cs_tui", "ingest", "--db", str(tmp_path / "s.db"), str(src)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 60
        while not children and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            children = _descendants(proc.pid)
        assert children, "the import should have started its parser process"
        time.sleep(0.5)  # the parser process is busy with batches now
        children.update(_descendants(proc.pid))
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(p, s) for p, s in children.items()):
            time.sleep(0.1)
        left = [p for p, s in children.items() if _alive(p, s)]
        assert left == [], f"left behind: {left}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid, started in children.items():  # never leave this test's processes running
            if _alive(pid, started):
                os.kill(pid, signal.SIGKILL)
