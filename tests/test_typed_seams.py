"""What the type checker found at the seams, held by tests a user would notice."""

from __future__ import annotations

import json
import sqlite3

from cs_tui.cli import main


def test_queue_shows_a_deadline_without_a_target_as_no_sla_state(tmp_path, capsys):
    """A stored row with a deadline but no SLA target (written by hand, or by an older tool)
    is listed with state "none", as the workstation shows it, not a TypeError traceback."""
    db = str(tmp_path / "s.db")
    args = ["queue", "--db", db, "--agent", "sam", "--scope", "all", "--json"]
    assert main(["seed", "--db", db, "--conversations", "20"]) == 0
    capsys.readouterr()
    assert main(args) == 0
    listed = json.loads(capsys.readouterr().out)
    external_id = next(i["conversation_id"] for i in listed if i["sla_state"] in ("ok", "warning"))
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE conversation SET sla_target_s = NULL WHERE external_id = ?", (external_id,)
        )

    code = main(args)

    assert code == 0
    items = {item["conversation_id"]: item for item in json.loads(capsys.readouterr().out)}
    assert items[external_id]["sla_state"] == "none"
    assert items[external_id]["due_at"] is not None
