"""The package works from a wheel, not only from a checkout: shipped data is package data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
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
    for asset in ("chat.html", "widget.js", "widget.css"):  # the web chat `serve` hands out
        assert f"cs_tui/channels/web/{asset}" in names, asset
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


def _shipped_packs() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((ROOT / "phrases").glob("*.toml"))}


def test_the_wheel_carries_the_repositorys_phrase_packs(wheel):
    packs = _shipped_packs()
    assert set(packs) >= {"en.toml", "zh-CN.toml"}
    archive = zipfile.ZipFile(wheel)
    inside = {
        n.rsplit("/", 1)[1]: archive.read(n)
        for n in archive.namelist()
        if n.startswith("cs_tui/phrases/") and n.endswith(".toml")
    }
    assert inside == packs


def test_a_checkout_reads_the_packs_from_the_top_level_phrases_folder():
    """The packs sit where a team edits them; a checkout or an editable install reads them there."""
    from cs_tui.phrases import PhraseLibrary, shipped_phrase_dir

    assert not (ROOT / "cs_tui" / "phrases").exists()
    assert Path(str(shipped_phrase_dir())) == ROOT / "phrases"
    library, problems = PhraseLibrary.load(team=[], personal=ROOT / "no-personal-packs")
    assert problems == []
    sources = {p.source for p in library.phrases}
    assert sources == {f"phrases/{name}" for name in _shipped_packs()}


@pytest.mark.slow
def test_cs_tui_installed_from_the_wheel_lists_and_checks_its_packs(wheel, tmp_path):
    """A real install into a fresh virtual environment, run through its console script."""
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            str(wheel),
        ],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    # The dependencies come from this environment; its editable cs_tui does not (a .pth in a
    # folder named by another .pth is not read).
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    deps = [p for p in sys.path if p.endswith("site-packages")]
    Path(site, "test-deps.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["CS_TUI_CONFIG_DIR"] = str(tmp_path / "config")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(env_dir / "bin" / "cs-tui"), *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )

    where = subprocess.run(
        [str(python), "-c", "import cs_tui; print(cs_tui.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert where.stdout.startswith(site), where.stdout + where.stderr
    checked = run("phrases", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    listed = run("phrases", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    ids = {p["id"] for items in json.loads(listed.stdout).values() for p in items}
    in_repository = {
        phrase["id"]
        for raw in _shipped_packs().values()
        for phrase in tomllib.loads(raw.decode("utf-8"))["phrase"]
    }
    assert in_repository and ids == in_repository
