"""SVG snapshots of the role-play scorecard and the supervisor dashboard.

The scorecard is the one a finished session stores, drawn by its screen; the dashboard is the
demo floor at the fixed moment every UI test starts from. After a deliberate change of their
look, review the new pictures and accept them with `--snapshot-update`.
"""

from __future__ import annotations

import pytest
from textual.app import App

from cs_tui.i18n import current_language, set_language
from cs_tui.roleplay import find_scenario
from cs_tui.roleplay.play import finish
from cs_tui.screens.dashboard import DashboardScreen
from cs_tui.screens.roleplay import ScorecardScreen
from tests.ui.pilot_helpers import app_for, settle, until


class CardApp(App):
    """Shows one scorecard, as the end of a session does."""

    def __init__(self, card: dict, lang: str) -> None:
        super().__init__()
        self.card, self.lang = card, lang

    def on_mount(self) -> None:
        set_language(self.lang)  # the interface language is the process's: set, not inherited
        self.push_screen(ScorecardScreen(self.card, self.lang))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_snapshot_scorecard(snap_compare, sqlite_store, clock, lang):
    """A late first reply that shows empathy: passed and failed items both on the card."""
    store = sqlite_store
    trainee = store.ensure_agent("bob", "Bob")
    scenario = find_scenario("zh-late-parcel")
    session = store.start_session(trainee, scenario)
    clock.advance(35)
    store.post_reply(
        trainee,
        session.conversation_id,
        "您好,非常理解您的心情,让您久等了!我马上帮您联系快递核实。",
    )
    clock.advance(20)
    _view, card = finish(store, session, scenario, actor=trainee)

    before = current_language()
    try:
        assert snap_compare(CardApp(card, lang), terminal_size=(80, 24))
    finally:
        set_language(before)


def drawn(screen: object) -> bool:
    return isinstance(screen, DashboardScreen) and None not in (screen.live, screen.kpis)


@pytest.mark.parametrize(
    ("size", "lang"),
    [((80, 24), "en"), ((120, 40), "en"), ((120, 40), "zh")],
    ids=["80x24", "120x40", "120x40-zh"],
)
def test_snapshot_dashboard(snap_compare, store, clock, size, lang):
    """A supervisor opens the dashboard (F7) on the demo floor: breaches, agents, KPIs; in
    Chinese, no English word is left (footer, units, the early-warning banner)."""
    app = app_for(store, clock, agent="sam", lang=lang)

    async def open_dashboard(pilot):
        await settle(pilot)
        await pilot.press("f7")
        # Drawn from both of its reads, the live part and the KPIs ("Loading…" is no picture).
        await until(pilot, lambda: drawn(pilot.app.screen))
        # The early-warning toast leaves after 10 s of wall time: the banner says the same.
        pilot.app.clear_notifications()
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=open_dashboard)
