"""The package works from a wheel, not only from a checkout: shipped data is package data."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{proc.stderr[-2000:]}")
    return next(out.glob("cs_tui-*.whl"))


def test_wheel_carries_the_shipped_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "cs_tui/policy/sla.toml" in names
    for folder, suffix, at_least in (
        ("cs_tui/phrases/", ".toml", 2),
        ("cs_tui/kb_sample/", ".md", 40),
        ("cs_tui/scenarios/", ".toml", 15),
    ):
        found = [n for n in names if n.startswith(folder) and n.endswith(suffix)]
        assert len(found) >= at_least, (folder, found)
    assert any(n.endswith(".tcss") for n in names)
    for lang in ("zh", "en"):
        assert f"cs_tui/locale/{lang}/LC_MESSAGES/cs_tui.mo" in names, lang


def test_installed_wheel_loads_its_data_away_from_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import cs_tui, pathlib\n"
        "assert 'site' in pathlib.Path(cs_tui.__file__).parts, cs_tui.__file__\n"
        "from cs_tui.sla import default_policy\n"
        "assert default_policy().target('first_response', 'chat', 'order', 'normal') == 30\n"
        "from cs_tui.kb import sample_articles\n"
        "assert len(sample_articles()) >= 40\n"
        "from cs_tui import i18n\n"
        "assert i18n.translate('zh', 'Claim') == '领取'\n"
        "from cs_tui.cli import main\n"
        "raise SystemExit(main(['phrases', 'check']))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(site))
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
