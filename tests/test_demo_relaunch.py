"""Relaunching the demo: its times move forward only when nothing else shows it, never past now,
and never so that someone looks online who is not.

The "other window" is a real second process holding the demo the way `cs-tui demo` does.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa

from cs_tui.data import seed
from cs_tui.data.coltypes import UTCDateTime
from cs_tui.data.demo_lease import DemoLease
from cs_tui.data.store import Store
from cs_tui.data.tables import CONV, EVENT, METADATA, MSG
from cs_tui.data.views import QueueFilter

HOLDER = textwrap.dedent(
    """
    import sys
    from cs_tui.data.demo_lease import DemoLease
    from cs_tui.data.store import Store

    store = Store.open(sys.argv[1])
    with DemoLease(store) as lease:
        lease.share()
        print("holding", flush=True)
        sys.stdin.read()  # until the test closes our stdin
    store.dispose()
    """
)


def every_time(store) -> dict[tuple[str, str, tuple], object]:
    """Every stored time, by table, column and primary key."""
    found = {}
    with store._read() as conn:
        for table in METADATA.sorted_tables:
            times = [c for c in table.columns if isinstance(c.type, UTCDateTime)]
            if not times:
                continue
            pk = list(table.primary_key.columns)
            for row in conn.execute(sa.select(*pk, *times)).mappings():
                key = tuple(row[c.name] for c in pk)
                for c in times:
                    found[(table.name, c.name, key)] = row[c.name]
    return found


def reply_of_alice(store):
    alice = store.get_agent("alice")
    row = store.queue(alice, QueueFilter(scope="mine"), limit=1)[0]
    return store.post_reply(alice, row.id, "已为您核实,退款会在24小时内到账")


@pytest.mark.slow
def test_relaunching_while_another_process_shows_the_demo_changes_no_timestamp(tmp_path, clock):
    path = tmp_path / "demo.db"
    with Store.open(str(path), clock=clock) as store:
        seed.write_demo(store, count=30)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with Store.open(str(path), clock=clock) as store:
            clock.advance(hours=1)
            sent = reply_of_alice(store)  # what the running window just did
            before = every_time(store)
            clock.advance(hours=47)  # the second launch, two days after the first
            with DemoLease(store) as lease:
                assert not lease.alone
                seed.write_demo(store, lease=lease)
            assert every_time(store) == before
            assert store.conversation(sent.conversation_id).messages[-1].sent_at == sent.sent_at
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    # Once that window is closed, the next launch is alone and moves the demo forward.
    with Store.open(str(path), clock=clock) as store, DemoLease(store) as lease:
        assert lease.alone
        seed.write_demo(store, lease=lease)
        assert every_time(store) != before


def test_work_done_after_a_launch_is_never_dated_after_now(tmp_path, clock):
    path = tmp_path / "demo.db"
    with Store.open(str(path), clock=clock) as store:
        seed.write_demo(store, count=30)
        clock.advance(hours=3)
        sent = reply_of_alice(store)  # the window worked three hours after the launch
    clock.advance(days=2)
    with Store.open(str(path), clock=clock) as store, DemoLease(store) as lease:
        seed.write_demo(store, lease=lease)
        now = clock.now()
        with store._read() as conn:
            newest = [
                conn.execute(sa.select(sa.func.max(col))).scalar()
                for col in (MSG.c.sent_at, MSG.c.stored_at, EVENT.c.at, CONV.c.updated_at)
            ]
        assert all(value <= now for value in newest)
        # The demo opens as it was left: the last reply is the newest thing, just now.
        moved = store.conversation(sent.conversation_id).messages[-1]
        assert moved.body == sent.body and moved.sent_at == now


def test_a_shift_makes_nobody_look_online(tmp_path, clock):
    path = tmp_path / "demo.db"
    with Store.open(str(path), clock=clock) as store:
        seed.write_demo(store, count=30)
        bob = store.get_agent("bob")
        store.heartbeat(bob.id)  # bob's window, closed since
        seen = store.get_agent("bob").last_seen_at
    clock.advance(days=1)
    with Store.open(str(path), clock=clock) as store, DemoLease(store) as lease:
        seed.write_demo(store, lease=lease)
        assert store.get_agent("bob").last_seen_at == seen
        assert store.online_agents() == []
        load = next(a for a in store.agent_loads() if a.handle == "bob")
        assert load.last_seen_at == seen


def test_a_window_seen_moments_ago_holds_the_demo_still_without_a_lock_file(tmp_path, clock):
    """A window on the file without `demo` (or on a PostgreSQL demo) holds no lock, but its
    heartbeat says it is there."""
    path = tmp_path / "demo.db"
    with Store.open(str(path), clock=clock) as store:
        seed.write_demo(store, count=30)
        clock.advance(days=1)
        store.heartbeat(store.get_agent("carol").id)
        clock.advance(seconds=5)
        before = every_time(store)
        seed.write_demo(store)
        assert every_time(store) == before
