"""What the workstation has loaded when its first queue rows are drawn.

Start-up time is measured in bench/ (`python -m bench ui`), never here. This guards how it was
brought down: modules that only later actions need (search and pinyin, phrases, compliance and
emotion cues, the knowledge base, role-play, the dashboard's figures, the PostgreSQL dialect, the
SQLModel models with pydantic and the ORM) stay off the path to the first frame, and the garbage
collector, paused while that frame is built, runs again once it is out. A fresh interpreter is
needed: this one has loaded them all.
"""

from __future__ import annotations

import json
import subprocess
import sys

from cs_tui.data import seed
from cs_tui.data.store import Store

LATER = (
    "cs_tui.search",
    "cs_tui.pinyin_keys",
    "cs_tui.phrases",
    "cs_tui.compliance",
    "cs_tui.sentiment",
    "cs_tui.kb",
    "cs_tui.roleplay",
    "cs_tui.metrics",
    "cs_tui.screens.dashboard",
    "cs_tui.screens.roleplay",
    "rapidfuzz",
    "pypinyin",
    # The first window is read with sqlite3 (data/first_look.py), and the store proper opens
    # behind the first frame: neither SQLAlchemy nor the tables are loaded for it, let alone
    # the SQLModel models, pydantic and the ORM (which only create a new store).
    "sqlalchemy",
    "cs_tui.data.tables",
    "cs_tui.data.store",
    "cs_tui.data.models",
    "sqlmodel",
    "pydantic",
)

CHILD = """
import asyncio, gc, json, sys

from cs_tui.app import CsApp
from cs_tui.cli import build_parser, read_command
from cs_tui.commands.app_cmd import workstation_store
from cs_tui.commands.common import settings_for
from cs_tui.widgets.queue_list import QueueList

seen = {}
display = CsApp._display


def _display(self, screen, renderable):
    # The moment the first frame with rows goes to the terminal (here the headless driver).
    display(self, screen, renderable)
    queues = self.screen.query(QueueList)
    if renderable is not None and queues and queues.first().painted and not seen:
        seen["modules"] = sorted(sys.modules)
        seen["rows"] = len(queues.first().window[1])


CsApp._display = _display


async def main():
    argv = ["--db", sys.argv[1], "--agent", "sam"]  # as `cs-tui --db STORE --agent sam`
    args = build_parser(read_command(argv)).parse_args(argv)
    store, agent = workstation_store(args, settings_for(args))
    app = CsApp(store, agent, store.clock, lang="en", live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        while not seen:
            await pilot.pause()
        # A few rounds of messages, far less than the timer that would switch it back on
        # anyway: the workstation itself reports the frame.
        for _ in range(20):
            if gc.isenabled():
                break
            await pilot.pause()
        seen["collecting"] = gc.isenabled()
    store.dispose()


asyncio.run(main())
print(json.dumps(seen))
"""


def test_first_frame_shows_rows_without_loading_what_later_actions_need(tmp_path):
    path = tmp_path / "store.db"
    store = Store.open(str(path))
    seed.write_demo(store)
    store.dispose()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["rows"] > 0
    loaded = [m for m in seen["modules"] if m.startswith(LATER)]
    assert loaded == []
    assert seen["collecting"]
