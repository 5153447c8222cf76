"""The supervisor dashboard is reached from the workstation, and only by supervisors."""

from __future__ import annotations

from cs_tui.app import make_app
from cs_tui.screens.dashboard import DashboardScreen
from cs_tui.screens.workstation import WorkstationScreen
from tests.ui.pilot_helpers import settle


def floor(store):
    store.ensure_agent("boss", "Boss", role="supervisor")
    store.ensure_agent("alice", "Alice")
    cid = store.create_conversation(external_id="A", customer_handle="c-a", customer_name="王小明")
    store.post_customer_message(cid, "你好")
    return cid


async def test_f7_opens_the_dashboard_for_a_supervisor(sqlite_store, clock):
    floor(sqlite_store)
    app = make_app(sqlite_store, "boss", clock=clock, live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Dashboard" in titles


async def test_agents_have_no_dashboard_key_or_command(sqlite_store, clock):
    floor(sqlite_store)
    app = make_app(sqlite_store, "alice", clock=clock, live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        assert isinstance(app.screen, WorkstationScreen)
        assert "Dashboard" not in [c.title for c in app.get_system_commands(app.screen)]


async def test_an_early_warning_recorded_elsewhere_reaches_a_supervisors_workstation(
    sqlite_store, clock
):
    floor(sqlite_store)
    app = make_app(sqlite_store, "boss", clock=clock, live=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        boss = sqlite_store.get_agent("boss")
        assert sqlite_store.record_early_warning(boss, "complaint_pct", True, 7.5, 5.0)
        for _ in range(20):
            await pilot.pause(0.1)
            await settle(pilot, 1)
            if any("Early warning" in str(n.message) for n in app._notifications):
                break
        # Named as the dashboard names it, not by its key in the store.
        assert any("complaint rate" in str(n.message) for n in app._notifications)
