"""Stored values with escape codes, C1 controls and markup never reach the terminal raw.

A store is filled with hostile values in every field a screen shows (conversation id, customer
handle and name, agent handles and names, tags, a free-text category, message bodies, knowledge
base titles and bodies, a phrase pack), written straight into the SQLite file as an older store
or another tool could have left them. The workstation is then driven with real key presses while
a driver that is asked to draw, like a real terminal's, records every byte the app writes.

Textual itself writes only colour (SGR), cursor positioning and pointer-shape sequences; once
those are taken out, not one ESC, C1 or BEL may remain. Markup-looking text must be shown as the
brackets it is, and `[/]` must not crash anything.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime

from textual.drivers.headless_driver import HeadlessDriver

from cs_tui.app import make_app
from cs_tui.clock import FakeClock
from cs_tui.config import Settings
from cs_tui.data.store import Store
from cs_tui.screens.workstation import WorkstationScreen
from cs_tui.widgets.composer import Composer
from cs_tui.widgets.queue_list import QueueList
from tests.ui.pilot_helpers import settle, until

START = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)

OSC52 = "\x1b]52;c;aGFja2Vk\x07"  # writes "hacked" to the agent's clipboard
CLEAR = "\x1b[2J"  # clears the screen
C1 = "\x9b2J\x9d0;t\x9c"  # the same, spelled with 8-bit controls
MARKUP = "[@click=app.quit]x[/] [/] [VIP] [link=http://x]y[/link]"


def hostile(name: str) -> str:
    """A short visible name first (so narrow columns still show it), then the payloads."""
    return f"{name}{OSC52}{CLEAR}{C1}{MARKUP}"


# What Textual itself writes to a terminal: colours, cursor moves, the pointer shape.
TEXTUAL_OWN = re.compile(r"\x1b\[[0-9;]*m|\x1b\[\d+;\d+H|\x1b\]22;[a-z-]+\x07")
FORBIDDEN = re.compile(r"[\x07\x1b\x80-\x9f]")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

PHRASE_PACK = """\
[pack]
lang = "en"

[[phrase]]
id = "team.hostile"
shortcut = "zzhostile"
category = "greeting"
title = "Hostile \\u001b]52;c;aGk=\\u0007 [VIP] title"
body = "Hi {customer_name} \\u001b[2J\\u009b2J [/] welcome back"
"""


def recording_driver(sink: list[str]) -> type[HeadlessDriver]:
    """The headless driver, but drawing: Textual skips all output for a headless driver."""

    class RecordingDriver(HeadlessDriver):
        @property
        def is_headless(self) -> bool:
            return False

        def write(self, data: str) -> None:
            sink.append(data)

    return RecordingDriver


def build_hostile_store(path, clock: FakeClock) -> None:
    """Plain rows through the store, then hostile values written into every shown column."""
    store = Store.open(str(path), clock=clock)
    boss = store.ensure_agent("boss", role="supervisor")
    other = store.ensure_agent("other")
    open_id = store.create_conversation(
        external_id="conv-open", customer_handle="cust", customer_name="Cust", channel="chat"
    )
    old_id = store.create_conversation(
        external_id="conv-old", customer_handle="cust", channel="email"
    )
    store.post_customer_message(open_id, "placeholder")
    store.post_customer_message(old_id, "placeholder")
    store.claim(other, open_id)
    store.post_reply(other, open_id, "agent reply " + MARKUP)
    store.post_note(other, open_id, "note " + MARKUP)
    store.post_customer_message(open_id, "last")
    store.tag_conversation(boss, open_id, "tagplain")
    store.tag_customer(boss, store.queue_row(open_id).customer_id, "custtag")
    store.upsert_articles(
        [
            {
                "slug": "hostile",
                "title": hostile("KBTitle"),
                "body": 'Say "Thank you \x1b[2J\x9b2J [/] for waiting" to them.\n' + hostile(""),
                "category": hostile("kbcat"),
                "tags": [],
                "lang": "en",
                "search_keys": "",
            }
        ],
        actor_id=boss.id,
    )
    store.dispose()
    del boss
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "UPDATE agent SET handle=?, display_name=? WHERE handle='boss'",
            (hostile("boss"), hostile("Boss Name")),
        )
        db.execute(
            "UPDATE agent SET handle=?, display_name=? WHERE handle='other'",
            (hostile("oth"), hostile("Other Name")),
        )
        db.execute(
            "UPDATE customer SET handle=?, name=?, tier='vip'", (hostile("handle"), hostile("Name"))
        )
        db.execute(
            "UPDATE conversation SET external_id=?, category=?, preview=? WHERE id=?",
            (hostile("EXT"), hostile("cat"), hostile("preview"), open_id),
        )
        db.execute(
            "UPDATE conversation SET external_id=?, preview=? WHERE id=?",
            (hostile("OLD"), hostile("oldpreview"), old_id),
        )
        db.execute("UPDATE conversation_tag SET tag=?", (hostile("tag"),))
        db.execute("UPDATE customer_tag SET tag=?", (hostile("ctag"),))
        db.execute(
            "UPDATE message SET body=? WHERE author_kind='customer'",
            (hostile("body") + "\nsecond line " + MARKUP,),
        )
    db.close()


def shown(sink: list[str]) -> str:
    """Everything written, with Textual's own colour, cursor and pointer sequences removed."""
    return TEXTUAL_OWN.sub("", "".join(sink))


async def test_hostile_values_never_reach_the_terminal_raw(tmp_path):
    clock = FakeClock(START)
    path = tmp_path / "store.db"
    build_hostile_store(path, clock)
    pack = tmp_path / "team.toml"
    pack.write_text(PHRASE_PACK, encoding="utf-8")
    clock.advance(minutes=30)  # every clock is breached: the dashboard lists it
    store = Store.open(str(path), clock=clock)
    sink: list[str] = []
    try:
        app = make_app(
            store,
            hostile("boss"),
            clock=clock,
            live=False,
            settings=Settings(team_phrases=[str(pack)]),
        )
        app.driver_class = recording_driver(sink)
        async with app.run_test(headless=False, size=(160, 50), notifications=True) as pilot:
            await settle(pilot)
            queue = pilot.app.screen.query_one(QueueList)
            _start, rows = queue.window
            target = next(i for i, r in enumerate(rows) if r.external_id == hostile("EXT"))
            for _ in range(target):
                await pilot.press("j")
            await pilot.press("enter")
            await settle(pilot)
            assert pilot.app.screen.detail is not None

            # A phrase from the picker: its body and the customer's name filled into it.
            await pilot.press("r", "slash")
            await settle(pilot)
            await pilot.press(*"zzhostile")
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            composer = pilot.app.screen.query_one(Composer)
            phrase_text = composer.text
            assert "welcome back" in phrase_text and "Name" in phrase_text

            # A knowledge-base answer.
            composer.load(composer.conversation_id, "")
            await pilot.press("escape", "ctrl+k")
            await settle(pilot)
            await pilot.press(*"waiting")
            await settle(pilot)
            await pilot.press("enter", "enter")  # into the article, then its paragraph in
            await settle(pilot)
            answer_text = pilot.app.screen.query_one(Composer).text
            assert "for waiting" in answer_text

            await pilot.press("escape", "i")  # the customer tab: handle, name, tags, history
            await settle(pilot)
            await pilot.press("escape")
            for key in ("h", "t", "l", "f7"):  # history, transfer, tags, the dashboard
                await pilot.press(key)
                await until(pilot, lambda: not isinstance(pilot.app.screen, WorkstationScreen))
                if key == "f7":
                    await until(pilot, lambda: pilot.app.screen.live is not None)
                await pilot.pause()
                await pilot.press("escape")
                await until(pilot, lambda: isinstance(pilot.app.screen, WorkstationScreen))
    finally:
        store.dispose()

    screen_text = shown(sink)
    raw = FORBIDDEN.findall(screen_text)
    assert not raw, [
        screen_text[max(0, m.start() - 30) : m.end() + 30] for m in FORBIDDEN.finditer(screen_text)
    ][:5]
    for literal in ("[@click=app.quit]x[/]", "[VIP]", "[link=http://x]y[/link]"):
        assert literal in screen_text
    for name in (
        "EXT",
        "OLD",
        "handle",
        "Name",
        "boss",
        "oth",
        "tag",
        "ctag",
        "cat",
        "KBTitle",
        "preview",
    ):
        assert name + "\u241b]52" in screen_text, name  # shown, as a visible ␛
    for text in (phrase_text, answer_text):
        assert not CONTROL.search(text), repr(text)
    assert "[/]" in phrase_text  # markup stays text in the composer too
