"""Transfers with a handover note, and the "handed over" scope, on both backends."""

from __future__ import annotations

import pytest

from cs_tui.data.errors import InvalidInput
from cs_tui.data.views import QueueFilter
from tests.test_store import ext_ids, new_chat


@pytest.fixture
def team(store):
    store.ensure_agent("boss", "Boss", role="supervisor")
    return {
        "alice": store.ensure_agent("alice", "Alice"),
        "bob": store.ensure_agent("bob", "Bob"),
        "carol": store.ensure_agent("carol", "Carol"),
        "boss": store.get_agent("boss"),
    }


def test_the_new_owner_reads_the_handover_note(store, team, clock):
    cid = new_chat(store, "A")
    store.claim(team["alice"], cid)
    note = "已核实订单 5024549505020500,退款待财务审批 [/] \x1b[2J"
    store.assign(team["alice"], cid, "bob", note=note)
    shown = store.conversation(cid, viewer=team["bob"]).handover
    assert shown is not None
    assert (shown.by, shown.from_agent, shown.to_agent) == ("alice", "alice", "bob")
    assert shown.note == note  # stored exactly as typed; rendering makes it safe
    assert shown.at == clock.now()
    # The one who handed it over still reads it; another agent does not.
    assert store.conversation(cid, viewer=team["alice"]).handover is not None
    assert store.conversation(cid, viewer=team["carol"]).handover is None
    assert store.conversation(cid, viewer=team["boss"]).handover is not None


def test_a_handover_note_is_news_only_while_its_new_owner_holds_it(store, team, clock):
    cid = new_chat(store, "A")
    store.claim(team["alice"], cid)
    store.assign(team["alice"], cid, "bob", note="first note")
    clock.advance(60)
    store.assign(team["bob"], cid, "carol", note="second note")
    assert store.conversation(cid, viewer=team["carol"]).handover.note == "second note"
    store.assign(team["boss"], cid, "alice")  # a supervisor moves it without a note
    back = store.conversation(cid, viewer=team["alice"]).handover
    assert back is not None and back.note == "" and back.by == "boss"
    assert back.from_agent == "carol"


def test_a_handover_note_has_a_limit(store, team):
    cid = new_chat(store, "A")
    store.claim(team["alice"], cid)
    with pytest.raises(InvalidInput) as refused:
        store.assign(team["alice"], cid, "bob", note="x" * 2001)
    assert refused.value.code == "handover_too_long"
    assert store.queue_row(cid).assignee == "alice"


def test_what_an_agent_handed_over_stays_findable(store, team, clock):
    kept, given, done = new_chat(store, "KEPT"), new_chat(store, "GIVEN"), new_chat(store, "DONE")
    for cid in (kept, given, done):
        store.claim(team["alice"], cid)
    store.assign(team["alice"], given, "bob", note="customer wants a call back")
    store.assign(team["alice"], done, "carol", note="refund approved")
    store.resolve(team["carol"], done)
    alice = team["alice"]
    # Her whole view no longer lists them: they are bob's and carol's now ...
    assert ext_ids(store.queue(alice, QueueFilter(scope="all"))) == ["KEPT"]
    # ... but "handed over" does, open or resolved since, and counts them.
    handed = QueueFilter(scope="handed")
    assert sorted(ext_ids(store.queue(alice, handed))) == ["DONE", "GIVEN"]
    assert store.queue_count(alice, handed) == 2
    assert store.queue(team["bob"], handed) == []
    # Once it comes back to her it is hers again, not "handed over".
    store.assign(team["bob"], given, "alice", note="could not reach them")
    assert ext_ids(store.queue(alice, handed)) == ["DONE"]
    assert ext_ids(store.queue(team["bob"], handed)) == ["GIVEN"]


def test_a_deleted_conversation_takes_its_handovers(store, team):
    cid = new_chat(store, "A")
    store.claim(team["alice"], cid)
    store.assign(team["alice"], cid, "bob", note="note")
    store.delete_conversation(team["boss"], cid)
    assert store.counts()["handover"] == 0
