"""A store refusal with a name or a number in it reaches the agent in the interface language.

The workstation words the store's errors by their code (cs_tui.widgets.store_messages); these
refusals used to be matched by their English text, so any message carrying a parameter was shown
in English to a Chinese-speaking agent.
"""

from __future__ import annotations

from tests.ui.pilot_helpers import app_for, mine, select, settle, type_text


def supervisor(store):
    return next(a for a in store.list_agents() if a.role == "supervisor" and a.active)


async def test_a_transfer_to_an_agent_disabled_meanwhile_is_refused_in_chinese(store, clock):
    row = mine(store, "open")[0]
    app = app_for(store, clock, lang="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await select(pilot, row)
        await pilot.press("t")  # the picker lists carol, still active
        await settle(pilot)
        store.set_active(supervisor(store), "carol", False)  # a supervisor, elsewhere
        await pilot.press("c", "a", "r")
        await pilot.press("enter")
        await type_text(pilot, "refund pending")
        await pilot.press("enter")
        await settle(pilot)
        shown = " ".join(str(n.message) for n in pilot.app._notifications)
        assert "客服 carol 已停用" in shown
        assert "is disabled" not in shown
    assert store.queue_row(row.id).assignee == "alice"
