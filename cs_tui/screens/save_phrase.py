"""Save the composer's selection as a phrase of the agent's own (the palette's "save selection
as phrase").

The dialog shows the text it will keep (drawn safe: it may quote a customer) and asks a title and,
optionally, a shortcut. The store has the last word on what it keeps: a title or shortcut it
refuses brings the dialog back with the reason and what was typed, so nothing is lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from cs_tui.data.errors import InvalidInput
from cs_tui.data.phrases_store import MAX_SHORTCUT_CHARS, MAX_TITLE_CHARS, PersonalPhraseView
from cs_tui.i18n import _
from cs_tui.safe_text import safe
from cs_tui.screens.modal import CsModal
from cs_tui.widgets.store_messages import store_message

if TYPE_CHECKING:
    from cs_tui.data.store import Store
    from cs_tui.data.views import AgentInfo

PREVIEW_LIMIT = 300

Answer = tuple[str, str]
"""(title, shortcut); the shortcut may be empty."""


class SavePhraseScreen(CsModal[Answer]):
    """Returns (title, shortcut), or None when cancelled."""

    CSS_PATH = ["modal.tcss", "save_phrase.tcss"]

    def __init__(self, body: str, problem: str = "", title: str = "", shortcut: str = "") -> None:
        super().__init__()
        self.body = body
        self.problem = problem
        self.title_text = title
        self.shortcut = shortcut

    def compose(self) -> ComposeResult:
        with Vertical(classes="box") as box:
            box.border_title = _("Save as my phrase")
            yield Static(safe(self.body, limit=PREVIEW_LIMIT), id="phrase-body")
            yield Static(_("Title (Enter saves; Tab: an optional shortcut)"), classes="hint")
            yield Input(
                self.title_text,
                placeholder=_("Title"),
                id="phrase-title",
                max_length=MAX_TITLE_CHARS,
            )
            yield Input(
                self.shortcut,
                placeholder=_("Shortcut (optional)"),
                id="phrase-shortcut",
                max_length=MAX_SHORTCUT_CHARS,
            )
            yield Static(
                safe(self.problem, single_line=True), id="phrase-problem", classes="problem"
            )

    def on_mount(self) -> None:
        self.query_one("#phrase-title", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        title = self.query_one("#phrase-title", Input).value
        if not title.strip():
            self.query_one("#phrase-problem", Static).update(_("A phrase needs a title."))
            self.query_one("#phrase-title", Input).focus()
            return
        self.dismiss((title, self.query_one("#phrase-shortcut", Input).value))


Ask = Callable[[SavePhraseScreen], Awaitable[Answer | None]]


async def ask_and_save(
    ask: Ask, store: Store, agent: AgentInfo, body: str
) -> PersonalPhraseView | None:
    """Ask for a title until the store keeps the phrase or the agent cancels; the write runs
    in a thread, so the screen never waits on the store."""
    problem, title, shortcut = "", "", ""
    while True:
        answer = await ask(SavePhraseScreen(body, problem, title, shortcut))
        if answer is None:
            return None
        title, shortcut = answer
        try:
            return await asyncio.to_thread(
                store.add_personal_phrase, agent, title, body, shortcut=shortcut.strip() or None
            )
        except InvalidInput as exc:
            problem = store_message(exc)
