"""`cs-tui serve` refuses bad options and a taken port with one clear line, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from cs_tui.cli import main


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--bind", "localhost", "HOST:PORT"),
        ("--rate", "fast", "not a rate"),
        ("--burst", "0", "--burst"),
        ("--retry-base", "soon", "not a duration"),
        ("--give-up", "0s", "above zero"),
        ("--web-give-up", "0s", "above zero"),
        ("--web-give-up", "soon", "not a duration"),
        ("--give-up", "31d", "--give-up: at most 30d"),
        ("--give-up", "9" * 400, "--give-up: at most 30d"),
        ("--web-give-up", "99999999999999d", "--web-give-up: at most 30d"),
    ],
)
def test_bad_options_are_named(tmp_path, capsys, option, value, says):
    status = main(["serve", "--db", str(tmp_path / "s.db"), option, value])
    err = capsys.readouterr().err
    assert status == 2
    assert says in err and "Traceback" not in err


@pytest.mark.slow
def test_a_port_in_use_is_one_line(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "cs_tui",
                "serve",
                "--db",
                str(tmp_path / "s.db"),
                "--bind",
                f"127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        taken.close()
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"cs-tui: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]
