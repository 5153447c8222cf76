"""A trainee logging in through a locked SSH login lands in a live session waiting for them."""

from __future__ import annotations

from cs_tui.commands.app_cmd import waiting_live_session
from cs_tui.roleplay import find_scenario, load_scenarios


def test_only_a_waiting_live_session_is_joined_at_login(sqlite_store):
    store = sqlite_store
    trainer = store.ensure_agent("tina", role="trainer")
    alice = store.ensure_agent("alice")
    scenario = find_scenario(load_scenarios().scenarios[0].id, None)
    assert waiting_live_session(store, alice) is None
    solo = store.start_session(alice, scenario, "solo")
    assert waiting_live_session(store, alice) is None  # an abandoned solo run is not forced on
    store.finish_session(solo.id, {"items": []}, 0, 100)
    live = store.start_session(alice, scenario, "live", trainer=trainer)
    found = waiting_live_session(store, alice)
    assert found is not None and found.id == live.id
    store.finish_session(live.id, {"items": []}, 50, 100)
    assert waiting_live_session(store, alice) is None
