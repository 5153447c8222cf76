"""A live role-play pair in two real terminals (tmux): what the trainer and the trainee read on
the command line before and after their apps hold the screen.

The trainer's `roleplay trainer` says how the trainee joins and waits for Enter, so the line is
read before the console takes the screen; `roleplay join` (and the trainer's command) say where
the scorecard is once the app closes. Needs tmux; skipped without it unless CS_TUI_REQUIRE_SSH=1
(CI, where .ci/install-system-deps installs it).
"""

from __future__ import annotations

import os
import shutil

import pytest

from cs_tui.data.store import Store
from tests.test_ssh import Tmux, _cs_tui_exe, _kill_leftovers

pytestmark = pytest.mark.slow


def _tmux() -> str:
    found = shutil.which("tmux")
    if found is None:
        if os.environ.get("CS_TUI_REQUIRE_SSH") == "1":
            pytest.fail("CS_TUI_REQUIRE_SSH=1 but this machine has no tmux")
        pytest.skip("needs tmux (run .ci/install-system-deps)")
    return found


def test_trainer_reads_the_join_hint_and_both_read_where_the_report_is(tmp_path):
    tmux, exe = _tmux(), _cs_tui_exe()
    db = tmp_path / "store.db"
    with Store.open(str(db)) as store:
        store.ensure_agent("bob", "Bob")
        store.ensure_agent("tina", "Tina", role="trainer")

    def shell(agent: str, *command: str) -> list[str]:
        line = " ".join([exe, "--db", str(db), "--agent", agent, "--lang", "en", *command])
        return ["sh", "-c", f"{line}; echo exit=$?; sleep 600"]

    trainer, trainee = Tmux(tmux, tmp_path), Tmux(tmux, tmp_path)
    try:
        trainer.start(shell("tina", "roleplay", "trainer", "en-late-parcel", "--trainee", "bob"))
        screen = trainer.wait_for("press Enter")
        # The hint is on the screen, and the console has not taken it yet.
        assert "session #1: ask bob to run `cs-tui roleplay join 1`" in screen
        assert "Live role-play" not in screen
        trainer.keys("Enter")
        trainer.wait_for("Waiting for bob")  # the console says it again while it waits

        trainee.start(shell("bob", "roleplay", "join"))
        trainee.wait_for("My parcel was due")  # the customer's opening, said on joining
        trainer.wait_for("My parcel was due")
        trainee.keys("F8")
        trainee.wait_for("Role-play scorecard")
        trainee.keys("Escape")
        screen = trainee.wait_for("exit=0")
        assert "`cs-tui roleplay report 1` exports the scorecard" in screen

        trainer.wait_for("Role-play scorecard")  # ended by the trainee: the trainer sees it
        trainer.keys("Escape")
        screen = trainer.wait_for("exit=0")
        assert "`cs-tui roleplay report 1` exports the scorecard" in screen
    finally:
        trainer.kill()
        trainee.kill()
        _kill_leftovers(str(db))
    with Store.open(str(db)) as store:
        assert store.session(1).finished
