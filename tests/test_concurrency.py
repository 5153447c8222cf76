"""Real processes racing on one store, on SQLite and PostgreSQL: claims are exact.

Each worker is this file run as a script in its own Python process. Workers open the store, say
"ready", wait for a common "go" on stdin (so they really start together), then claim as fast as
they can and print what they got as JSON. The test checks the reports against the store: every
conversation taken exactly once, none lost, one claim event each.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cs_tui.data.store import Store
from cs_tui.data.views import IngestRecord
from cs_tui.data.watch import ChangeWatcher

pytestmark = pytest.mark.slow

WORKERS = 8
CONVERSATIONS = 2000


def seed_waiting(store: Store, count: int, prefix: str = "R") -> None:
    now = datetime.now(UTC)
    store.ingest(
        IngestRecord(
            message_id=f"{prefix}-m{i}",
            conversation_id=f"{prefix}{i:05d}",
            channel=("chat", "email", "phone", "ticket")[i % 4],
            customer=f"{prefix}-cust{i % 300}",
            author="customer",
            text=f"订单 {i} 什么时候发货?",
            sent_at=now - timedelta(seconds=count - i),
        )
        for i in range(count)
    )


def start_workers(url: str, mode: str, handles: list[str], ids: list[int] | None = None):
    procs = []
    for handle in handles:
        procs.append(
            subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), mode, url, handle],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for proc in procs:  # every worker has its store open before anyone starts
        line = proc.stdout.readline()
        assert line.strip() == "ready", proc.stderr.read()
    payload = json.dumps(ids or []) + "\n"
    for proc in procs:
        proc.stdin.write(payload)
        proc.stdin.flush()
    results = {}
    for handle, proc in zip(handles, procs, strict=True):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"worker {handle} failed:\n{err}"
        results[handle] = json.loads(out.strip().splitlines()[-1])
    return results


def test_eight_processes_take_two_thousand_conversations_each_exactly_once(store_url):
    handles = [f"racer{i}" for i in range(WORKERS)]
    with Store.open(store_url) as store:
        for h in handles:
            store.ensure_agent(h)
        seed_waiting(store, CONVERSATIONS)
        all_ids = {r.id for r in store.queue_rows(list(range(1, CONVERSATIONS + 1)))}
    assert len(all_ids) == CONVERSATIONS

    taken = start_workers(store_url, "take", handles)

    every = [cid for ids in taken.values() for cid in ids]
    twice = [cid for cid, n in Counter(every).items() if n > 1]
    assert twice == [], f"taken more than once: {twice[:10]}"
    assert set(every) == all_ids, f"lost: {sorted(all_ids - set(every))[:10]}"
    assert sum(1 for ids in taken.values() if ids) >= 2, "the workers did not race"

    with Store.open(store_url) as store:
        rows = store.queue_rows(sorted(all_ids))
        owner = {r.id: r.assignee for r in rows}
        for handle, ids in taken.items():
            assert all(owner[cid] == handle for cid in ids)
        claims = [e for e in store.events_since(0, limit=100_000) if e.kind == "claim"]
        assert Counter(e.conversation_id for e in claims) == Counter(every)
        assert {e.actor for e in claims} == {h for h, ids in taken.items() if ids}
        assert {r.status for r in rows} == {"open"}
        assert store.take_next(store.get_agent("racer0")) is None


def test_eight_processes_claiming_the_same_conversations_win_each_once(store_url):
    handles = [f"claimer{i}" for i in range(WORKERS)]
    with Store.open(store_url) as store:
        for h in handles:
            store.ensure_agent(h)
        seed_waiting(store, 300, prefix="S")
        ids = [store.conversation_id(f"S{i:05d}") for i in range(300)]

    won = start_workers(store_url, "claim", handles, ids)

    every = [cid for got in won.values() for cid in got]
    assert sorted(every) == sorted(ids)  # each one won by exactly one process
    with Store.open(store_url) as store:
        owner = {r.id: r.assignee for r in store.queue_rows(ids)}
        for handle, got in won.items():
            assert all(owner[cid] == handle for cid in got)


# -- live updates ---------------------------------------------------------------------------


def test_another_process_changes_reach_a_waiting_watcher(store_url):
    with Store.open(store_url) as store:
        store.ensure_agent("boss", role="supervisor")
        store.ensure_agent("writer")
        store.ensure_agent("bob")
        seed_waiting(store, 1, prefix="W")
        watcher = ChangeWatcher(store)
        assert watcher.poll() == []
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "write", store_url, "writer"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout.readline().strip() == "ready"
        proc.stdin.write("[]\n")
        proc.stdin.flush()
        wanted = ["claim", "reply", "tag_added", "customer_message", "transfer"]
        seen = []
        while [e.kind for e in seen] != wanted:
            # Woken by the change itself (data_version / NOTIFY), not by the timeout.
            assert watcher.wait(30) is True, f"no wake-up after {[e.kind for e in seen]}"
            seen += watcher.poll()
        assert [e.actor for e in seen] == ["writer", "writer", "writer", None, "writer"]
        assert proc.wait(timeout=30) == 0
        assert watcher.poll() == []
        watcher.close()


def test_an_idle_watcher_does_not_read_the_event_table(store_url, monkeypatch):
    with Store.open(store_url) as store:
        alice = store.ensure_agent("alice")
        watcher = ChangeWatcher(store)
        for _ in range(50):  # PostgreSQL: the listener connects in the background
            if store.dialect == "sqlite" or watcher.status.listening:
                break
            time.sleep(0.1)
        watcher.poll()
        reads = []
        original = store.events_since
        monkeypatch.setattr(
            store, "events_since", lambda *a, **k: reads.append(a) or original(*a, **k)
        )
        for _ in range(20):
            assert watcher.poll() == []
        assert reads == []
        store.ensure_agent("bob")  # a change made through this very store still shows
        if store.dialect == "postgresql":
            assert watcher.wait(10) is True
        assert [e.kind for e in watcher.poll()] == ["agent_registered"]
        assert len(reads) == 1
        watcher.close()
        _ = alice


def test_commits_out_of_id_order_are_still_delivered(store_url):
    """PostgreSQL hands out event ids before commit: id 2 may be visible before id 1."""
    if not store_url.startswith("postgresql"):
        pytest.skip("SQLite writers are serialised: ids are committed in order")
    with Store.open(store_url) as slow, Store.open(store_url) as fast:
        fast.ensure_agent("alice")
        seed_waiting(fast, 1, prefix="G")
        cid = fast.conversation_id("G00000")
        watcher = ChangeWatcher(fast, listen=False)
        with slow._write() as conn:
            slow._event(conn, None, "slow_write", None, {})  # takes an id, commits later
            fast.post_customer_message(cid, "先到的消息")
            assert [e.kind for e in watcher.poll()] == ["customer_message"]
        assert [e.kind for e in watcher.poll()] == ["slow_write"]
        assert watcher.poll() == []
        watcher.close()


# -- the worker side --------------------------------------------------------------------


def _worker(mode: str, url: str, handle: str) -> None:
    store = Store.open(url)
    me = store.get_agent(handle)
    print("ready", flush=True)
    ids = json.loads(sys.stdin.readline())
    got: list[int] = []
    if mode == "take":
        while (row := store.take_next(me)) is not None:
            got.append(row.id)
    elif mode == "write":
        boss = store.get_agent("boss")
        row = store.take_next(me)
        store.post_reply(me, row.id, "您好,我来帮您处理")
        store.tag_conversation(me, row.id, "物流延迟")
        store.post_customer_message(row.id, "好的谢谢")
        store.assign(boss and me, row.id, "bob")
        got = [row.id]
    else:
        random.Random(handle).shuffle(ids)
        got = [cid for cid in ids if store.claim(me, cid)]
    store.dispose()
    print(json.dumps(got), flush=True)


if __name__ == "__main__":
    _worker(*sys.argv[1:4])
