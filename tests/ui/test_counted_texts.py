"""Counts on screen read as a person would write them, in either interface language."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from textual.app import App
from textual.widgets import Static

from cs_tui import i18n
from cs_tui.clock import FakeClock
from cs_tui.widgets.message_view import Transcript
from tests.conftest import START


class _TranscriptApp(App):
    def compose(self):
        yield Transcript(FakeClock(START))


def _detail(hidden: int) -> SimpleNamespace:
    """A conversation whose older messages did not fit the transcript's window."""
    return SimpleNamespace(
        messages=[], customer=SimpleNamespace(name="Ann"), message_count=hidden, mail_notes={}
    )


@pytest.mark.parametrize(
    ("lang", "hidden", "shown"),
    [
        ("en", 1, "1 earlier message not shown"),
        ("en", 3, "3 earlier messages not shown"),
        ("zh", 1, "还有 1 条更早的消息未显示"),
        ("zh", 3, "还有 3 条更早的消息未显示"),
    ],
)
async def test_the_transcript_counts_the_messages_it_leaves_out(lang, hidden, shown):
    i18n.set_language(lang)
    try:
        app = _TranscriptApp()
        async with app.run_test() as pilot:
            transcript = app.query_one(Transcript)
            transcript.show(_detail(hidden))  # type: ignore[arg-type]
            await pilot.pause()
            body = transcript.query_one("#transcript-body", Static)
            assert body.render_line(0).text.strip() == shown
    finally:
        i18n.set_language("en")
