"""The server process never loads Textual: it serves HTTP beside the workstations, it is not one."""

from __future__ import annotations

import subprocess
import sys


def test_serve_and_its_worker_never_import_textual():
    code = (
        "import sys\n"
        "from cs_tui.cli import build_parser\n"
        "build_parser()\n"
        "import cs_tui.commands.serve_cmd, cs_tui.server.serve, cs_tui.server.app\n"
        "import cs_tui.channels.outbox_worker\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
