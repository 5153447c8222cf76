"""The supervisor dashboard through Pilot, inside a small test-only app."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.widgets import DataTable, Sparkline, Static

from cs_tui import i18n
from cs_tui.metrics import warning_config
from cs_tui.screens.dashboard import DashboardScreen
from cs_tui.screens.transfer import TransferScreen
from tests.ui.pilot_helpers import until

UNSET = object()


class DashApp(App):
    def __init__(self, store, agent, clock, lang="en", **options) -> None:
        super().__init__()
        # The interface language is the process's: an earlier test's Chinese app must not
        # leave the ages ("2m") in Chinese here.
        i18n.set_language(lang)
        self.store, self.agent, self.clock = store, agent, clock
        self.options = {"live_every": 0, "kpi_every": 0, **options}
        self.result = UNSET

    def on_mount(self) -> None:
        self.push_screen(
            DashboardScreen(self.store, self.agent, self.clock, **self.options),
            self._on_dashboard_result,
        )

    def _on_dashboard_result(self, result) -> None:
        self.result = result


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


@pytest.fixture
def team(sqlite_store):
    store = sqlite_store
    store.ensure_agent("boss", "Boss", role="supervisor")
    return {
        "alice": store.ensure_agent("alice", "Alice"),
        "bob": store.ensure_agent("bob", "Bob"),
        "boss": store.get_agent("boss"),
    }


def chat(store, ext, *, name=None, category="order"):
    cid = store.create_conversation(
        external_id=ext, customer_handle=f"c-{ext}", customer_name=name or ext, category=category
    )
    store.post_customer_message(cid, "你好")
    return cid


@pytest.fixture
def floor(sqlite_store, team, clock):
    """A (alice, 2 min late), B (unassigned, 1 min late), C (answered, owes nothing)."""
    store = sqlite_store
    a = chat(store, "A", name="[@click=app.quit]x[/] \x1b]52;c;aGk=\x07")
    store.claim(team["alice"], a)
    clock.advance(60)
    b = chat(store, "B")
    c = chat(store, "C")
    store.claim(team["bob"], c)
    store.post_reply(team["bob"], c, "您好")
    clock.advance(90)  # A due at +30 s, now +150 s; B due at +90 s
    store.heartbeat(team["alice"].id)
    return {"A": a, "B": b, "C": c}


def cells(table: DataTable, column: int) -> list[str]:
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


async def test_live_view_breaches_agents_and_kpis(sqlite_store, team, floor, clock):
    app = DashApp(sqlite_store, team["boss"], clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        breaches = screen.query_one("#dash-breaches", DataTable)
        assert cells(breaches, 1) == ["A", "B"]  # most overdue first
        assert cells(breaches, 0) == ["-2m", "-1m"]  # minutes: the queue has the seconds
        # Customer text is literal: markup stays brackets, escape codes become visible symbols.
        name = cells(breaches, 3)[0]
        assert name.startswith("[@click=app.quit]x[/") and "\x1b" not in name
        counts = str(screen.query_one("#dash-counts", Static).content)
        assert "breached" in counts
        assert screen.live.counts.by_state["breached"] == 2
        agents = screen.query_one("#dash-agents", DataTable)
        rows = {str(agents.get_row_at(i)[0]): agents.get_row_at(i) for i in range(agents.row_count)}
        assert str(rows["alice"][1]) == "online" and str(rows["bob"][1]) == "away"
        assert str(rows["alice"][3]) == "1"  # one late conversation
        assert str(rows["alice"][4]).endswith(" A")
        kpis = screen.query_one("#dash-kpis", DataTable)
        day = dict(zip(cells(kpis, 0), cells(kpis, 1), strict=True))
        assert day["conversations"] == "3"
        assert day["first response p50"] == "0.0 s"  # only C is answered, the moment it came
        assert sum(screen.query_one("#dash-volume", Sparkline).data) == 3


async def test_enter_opens_the_highlighted_breach(sqlite_store, team, floor, clock):
    app = DashApp(sqlite_store, team["boss"], clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.result == floor["B"]


async def test_enter_on_an_agent_opens_their_oldest_waiting(sqlite_store, team, floor, clock):
    app = DashApp(sqlite_store, team["boss"], clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#dash-agents", DataTable).focus()
        await pilot.press("enter")  # agents sort breaches first: alice, oldest A
        await pilot.pause()
        assert app.result == floor["A"]


async def test_a_reassigns_through_the_picker(sqlite_store, team, floor, clock):
    app = DashApp(sqlite_store, team["boss"], clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("a")  # the highlighted breach: A, alice's
        await until(pilot, lambda: isinstance(app.screen, TransferScreen))
        await pilot.press(*"bob", "enter")
        await settle(app, pilot)
        await settle(app, pilot)
        assert sqlite_store.queue_row(floor["A"]).assignee == "bob"
        event = sqlite_store.audit(team["boss"])[0]
        assert (event.kind, event.payload) == ("transfer", {"from": "alice", "to": "bob"})
        agents = app.screen.query_one("#dash-agents", DataTable)
        assert str(agents.get_row_at(0)[0]) == "bob"  # bob now holds the late one


async def test_a_new_breach_is_drawn_whole_in_the_frame_it_arrives(
    sqlite_store, team, floor, clock
):
    """A longer id than any before: its column is wide enough before the next frame is drawn,
    not on the table's next idle (a frame in between showed "D…" for a demo id)."""
    app = DashApp(sqlite_store, team["boss"], clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        chat(sqlite_store, "ORDER-2026-0001234", name="Customer with a long name")
        clock.advance(120)
        screen.apply_live(screen.read_live())  # drawn, with no await (no idle) in between
        breaches = screen.query_one("#dash-breaches", DataTable)
        lines = [breaches.render_line(y).text for y in range(breaches.row_count + 1)]
        assert any("ORDER-2026-0001234" in line for line in lines), lines
        assert any("Customer with a long" in line for line in lines), lines


async def test_escape_closes_with_nothing(sqlite_store, team, floor, clock):
    app = DashApp(sqlite_store, team["boss"], clock)
    async with app.run_test() as pilot:
        await settle(app, pilot)
        await pilot.press("q")
        await pilot.pause()
        assert app.result is None


async def test_early_warning_fires_and_clears(sqlite_store, team, clock):
    store = sqlite_store
    config = warning_config({"complaint_pct": 30, "breach_pct": 0, "angry_pct": 0, "min_volume": 2})
    chat(store, "K1", category="complaint")
    chat(store, "K2")
    clock.advance(1)  # the window is [now - 1 h, now): arrivals of this very instant come next
    app = DashApp(store, team["boss"], clock, warnings=config)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        banner = app.screen.query_one("#dash-banner", Static)
        assert banner.display  # 1 of 2 = 50 % >= 30 %
        assert "complaint rate 50.0 % ≥ 30 %" in str(banner.content)
        kinds = [e.payload for e in store.audit(team["boss"]) if e.kind == "early_warning"]
        assert kinds == [
            {"metric": "complaint_pct", "state": "raised", "value": 50.0, "threshold": 30.0}
        ]
        for i in range(3):
            chat(store, f"N{i}")  # 1 of 5 = 20 %: below the threshold
        clock.advance(1)
        await pilot.press("r")
        await settle(app, pilot)
        assert not banner.display
        states = [
            e.payload["state"] for e in store.audit(team["boss"]) if e.kind == "early_warning"
        ]
        assert states == ["cleared", "raised"]


async def test_a_warning_raised_elsewhere_shows_here(sqlite_store, team, clock):
    sqlite_store.record_early_warning(None, "angry_pct", True, 42.0, 20.0)
    # Thresholds off here: this screen judges nothing, but shows the team's state.
    config = warning_config({"complaint_pct": 0, "breach_pct": 0, "angry_pct": 0})
    other = sqlite_store.ensure_agent("boss2", role="supervisor")
    app = DashApp(sqlite_store, other, clock, warnings=config)
    async with app.run_test() as pilot:
        await settle(app, pilot)
        banner = app.screen.query_one("#dash-banner", Static)
        assert banner.display and "angry customers 42.0 %" in str(banner.content)


async def test_agents_do_not_get_the_dashboard(sqlite_store, team, floor, clock):
    app = DashApp(sqlite_store, team["alice"], clock)
    async with app.run_test() as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.live is None
        assert "for supervisors" in str(screen.query_one("#dash-status", Static).content)
        await pilot.press("a")
        await pilot.pause()
        assert sqlite_store.queue_row(floor["A"]).assignee == "alice"


def test_every_binding_has_an_id_and_description():
    for binding in DashboardScreen.BINDINGS:
        assert binding.id and binding.id.startswith("dash.") and binding.description


def test_reads_run_without_an_app(sqlite_store, team, floor, clock):
    # The worker's read path, as the benchmark drives it.
    screen = DashboardScreen(sqlite_store, team["boss"], clock)
    snap = screen.read_live()
    assert [r.external_id for r in snap.breaches] == ["A", "B"]
    assert snap.trend.volume[-1] == 3
    kpis = screen.read_kpis().kpis
    assert kpis[1].conversations == 3 and kpis[30].conversations == 3


async def test_a_refused_reassign_is_said_in_the_interface_language(
    sqlite_store, team, floor, clock
):
    """bob is disabled between the picker's list and the choice: the store refuses, and a zh
    supervisor reads the refusal in Chinese (it used to come out as the store's English)."""
    from cs_tui import i18n

    try:
        app = DashApp(sqlite_store, team["boss"], clock, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await pilot.press("a")
            await until(pilot, lambda: isinstance(app.screen, TransferScreen))
            sqlite_store.set_active(team["boss"], "bob", False)
            await pilot.press(*"bob", "enter")
            await until(pilot, lambda: any("bob" in str(n.message) for n in app._notifications))
            told = " ".join(str(n.message) for n in app._notifications)
            assert "已停用" in told and "disabled" not in told
            assert sqlite_store.queue_row(floor["A"]).assignee == "alice"
    finally:
        i18n.set_language("en")
