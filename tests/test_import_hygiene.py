"""The domain and data layers never import Textual: they must run in scripts and workers."""

from __future__ import annotations

import subprocess
import sys

DOMAIN = [
    "cs_tui.data.store",
    "cs_tui.data.io",
    "cs_tui.data.seed",
    "cs_tui.data.copy",
    "cs_tui.data.watch",
    "cs_tui.sla",
    "cs_tui.clock",
    "cs_tui.config",
    "cs_tui.safe_text",
    "cs_tui.durations",
    "cs_tui.search",
    "cs_tui.compliance",
    "cs_tui.sentiment",
    "cs_tui.phrases",
    "cs_tui.metrics",
    "cs_tui.roleplay",
    "cs_tui.kb",
]


def test_domain_modules_do_not_import_textual():
    code = (
        "import importlib, sys\n"
        f"for name in {DOMAIN!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""
