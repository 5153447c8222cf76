"""A crash leaves a report without customer data and one line on stderr; --locked drops the
Textual settings of the environment.

The workstation is made to crash while drawing a queue row whose preview holds a secret marker:
the row, and with it the customer's text, is a local variable of the failing frame, and the
exception message quotes it as well (as an SQL error quotes its parameters). The real command
line runs in a pseudo-terminal, as an agent would run it.
"""

from __future__ import annotations

import fcntl
import os
import select
import stat
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from cs_tui import cli
from cs_tui.app import make_app
from cs_tui.data.store import Store

SECRET = "SECRET-MARKER-7f3a"

BREAK_QUEUE_ROWS = """
import sys
import cs_tui.widgets.queue_list as queue_list

def broken(self, row, *args, **kwargs):
    customer_text = row.preview
    raise RuntimeError("cannot draw " + customer_text)

queue_list.QueueList._row_segments = broken
from cs_tui.cli import main
sys.exit(main(sys.argv[1:]))
"""


def make_store(path: Path) -> None:
    store = Store.open(str(path))
    try:
        store.ensure_agent("alice")
        cid = store.create_conversation(external_id="C-1", customer_handle="cust")
        store.post_customer_message(cid, f"my card number is {SECRET}, please hurry")
    finally:
        store.dispose()


def child_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL", "CS_TUI_"))}
    env.update(
        CS_TUI_DATA_DIR=str(tmp_path / "data"),
        CS_TUI_CONFIG_DIR=str(tmp_path / "config"),
        TERM="xterm-256color",
        LANG="C.UTF-8",
        **extra,
    )
    return env


def run_in_terminal(
    argv: list[str], env: dict[str, str], *, until: bytes | None = None
) -> tuple[int, bytes]:
    """Run argv on a pseudo-terminal, as an agent would; once `until` is on the screen, send
    ctrl+q. Returns the exit status and every byte the terminal received."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    received = b""
    sent = False
    deadline = time.monotonic() + 120  # a hung child fails the test instead of hanging it
    try:
        while time.monotonic() < deadline:
            ready, _w, _x = select.select([master], [], [], 0.2)
            chunk = b""
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # every copy of the terminal is closed: the child is gone
                    chunk = b""
                received += chunk
            if until is not None and not sent and until in received:
                os.write(master, b"\x11")  # ctrl+q
                sent = True
            if not chunk and proc.poll() is not None:
                break
        else:
            proc.kill()
        return proc.wait(timeout=30), received
    finally:
        os.close(master)


def after_the_app(received: bytes) -> str:
    """What stays on the terminal once the app has left its alternate screen."""
    text = received.decode("utf-8", errors="replace")
    return text.rsplit("\x1b[?1049l", 1)[-1] if "\x1b[?1049l" in text else text


def reports(data_dir: Path) -> list[Path]:
    folder = data_dir / "crash-reports"
    return sorted(folder.glob("crash-*.txt")) if folder.exists() else []


def check_report(path: Path, kind: str, frame: str) -> str:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert kind in text and "Traceback (most recent call last):" in text
    assert f"in {frame}" in text
    assert SECRET not in text
    return text


@pytest.mark.slow
def test_a_crashing_workstation_writes_a_private_report_and_one_line(tmp_path):
    make_store(tmp_path / "store.db")
    argv = [sys.executable, "-c", BREAK_QUEUE_ROWS, "--db", str(tmp_path / "store.db")]
    status, received = run_in_terminal(argv + ["--agent", "alice"], child_env(tmp_path))
    assert status == 1
    assert SECRET.encode() not in received
    left = after_the_app(received)
    lines = [line for line in left.splitlines() if line.strip()]
    assert len(lines) == 1, left
    [report] = reports(tmp_path / "data")
    assert str(report) in lines[0] and "RuntimeError" in lines[0]
    check_report(report, "RuntimeError", "broken")


async def test_the_app_reports_a_crash_without_locals_and_still_fails_the_test(tmp_path):
    store = Store.open(str(tmp_path / "store.db"))
    try:
        store.ensure_agent("alice")
        cid = store.create_conversation(external_id="C-1", customer_handle="cust")
        store.post_customer_message(cid, f"hello {SECRET}")
        app = make_app(store, "alice", live=False)

        def explode() -> None:
            customer_text = store.queue_row(cid).preview
            raise ValueError(f"bad row {customer_text}")

        with pytest.raises(ValueError):
            async with app.run_test() as pilot:
                app.call_later(explode)
                await pilot.pause()
        assert app.return_code == 1
        assert app.crash_report is not None and app.crash_line is not None
        assert str(app.crash_report) in app.crash_line and SECRET not in app.crash_line
        assert "\n" not in app.crash_line
        check_report(app.crash_report, "ValueError", "explode")
    finally:
        store.dispose()


def test_a_crashing_command_writes_a_report_instead_of_a_traceback(tmp_path, monkeypatch, capsys):
    from cs_tui.commands import data_cmd

    def broken_queue(args) -> int:
        stored = f"customer wrote {SECRET}"
        raise KeyError(stored)

    monkeypatch.setattr(data_cmd, "run_queue", broken_queue)
    status = cli.main(["queue", "--db", str(tmp_path / "store.db")])
    err = capsys.readouterr().err
    assert status == 1
    assert SECRET not in err and len(err.strip().splitlines()) == 1
    [report] = reports(Path(os.environ["CS_TUI_DATA_DIR"]))
    assert str(report) in err
    check_report(report, "KeyError", "broken_queue")


def test_a_report_that_cannot_be_written_is_said_in_the_one_line(tmp_path, monkeypatch, capsys):
    from cs_tui.commands import data_cmd

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("CS_TUI_DATA_DIR", str(blocker))

    def broken_queue(args) -> int:
        raise RuntimeError(SECRET)

    monkeypatch.setattr(data_cmd, "run_queue", broken_queue)
    assert cli.main(["queue", "--db", str(tmp_path / "store.db")]) == 1
    err = capsys.readouterr().err
    assert SECRET not in err and "RuntimeError" in err and "no report" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_locked_logins_drop_textual_settings_from_the_environment(tmp_path):
    """TEXTUAL_LOG would copy everything the app logs into a file of the caller's choosing."""
    make_store(tmp_path / "store.db")
    log = tmp_path / "textual.log"
    env = child_env(tmp_path, TEXTUAL_LOG=str(log), TEXTUAL_COLOR_SYSTEM="256")
    argv = [sys.executable, "-m", "cs_tui", "--db", str(tmp_path / "store.db")]
    argv += ["--agent", "alice", "--locked"]
    status, received = run_in_terminal(argv, env, until=b"my card")
    assert b"my card" in received, received[-2000:]
    assert status == 0, after_the_app(received)
    assert not log.exists()
