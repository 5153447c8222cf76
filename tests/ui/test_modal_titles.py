"""A dialog about one conversation names it in its title, and says what it is about without a
name when it was opened with none; a hostile name is drawn literally, on one line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rich.markup import escape
from textual.app import App

from cs_tui.clock import FakeClock
from cs_tui.data.views import AgentInfo, MessageView
from cs_tui.i18n import set_language
from cs_tui.screens.escalate import EscalateScreen
from cs_tui.screens.fullmessage import FullMessageScreen
from cs_tui.screens.modal import CsModal
from cs_tui.screens.snooze import SnoozeScreen
from cs_tui.screens.tag import TagScreen
from cs_tui.screens.transfer import TransferScreen

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BOB = AgentInfo(1, "bob", "Bob", "agent", True)
MESSAGE = MessageView(1, 1, "customer", None, "x" * 1234, NOW, "m-1")

DIALOGS = {
    "escalate": (
        lambda t: EscalateScreen(t),
        "Escalate C-7 (Ann) to a supervisor",
        "Escalate to a supervisor",
    ),
    "snooze": (lambda t: SnoozeScreen(FakeClock(NOW), t), "Snooze C-7 (Ann) until", "Snooze until"),
    "tag": (lambda t: TagScreen((), target=t), "Tags of C-7 (Ann)", "Tags of this conversation"),
    "transfer": (
        lambda t: TransferScreen([BOB], set(), "alice", t),
        "Transfer C-7 (Ann) to an agent",
        "Transfer to an agent",
    ),
    "full message": (
        lambda t: FullMessageScreen(MESSAGE, t),
        "Whole message in C-7 (Ann) (1,234 characters)",
        "Whole message (1,234 characters)",
    ),
}


async def _title(screen: CsModal) -> str:
    app: App = App()
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(screen)
        await pilot.pause()
        return str(screen.query_one(".box").border_title)


@pytest.mark.parametrize("name", list(DIALOGS))
async def test_dialog_title_names_the_conversation_or_says_what_it_is_about(name):
    set_language("en")
    make, named, unnamed = DIALOGS[name]
    assert await _title(make("C-7 (Ann)")) == named
    assert await _title(make("")) == unnamed
    # brackets kept as text (escaped in the title's markup), the line break gone
    hostile = await _title(make("[b]C-7[/b]\nx"))
    assert hostile == named.replace("C-7 (Ann)", escape("[b]C-7[/b] x"))
