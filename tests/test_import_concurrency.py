"""Imports beside the team: a line never joins another customer's conversation, and an import
running while agents claim and reply (or while the same file is imported again) overwrites
nothing and counts every message once, on SQLite and PostgreSQL.

The process tests run this file as a script, one process per worker (see test_concurrency.py):
each opens the store, says "ready", and starts when the test says "go", so they really overlap.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from cs_tui.cli import main
from cs_tui.data.errors import NotAllowed, StoreUnavailable
from cs_tui.data.store import Store
from cs_tui.data.views import IngestRecord

AGENTS = 8
# The figures are a 200,000-line import and 30 s of claiming and replying; the defaults
# keep the suite affordable, the environment restores the full run.
RACE_LINES = int(os.environ.get("CS_TUI_RACE_LINES", "30000"))
RACE_SECONDS = float(os.environ.get("CS_TUI_RACE_SECONDS", "8"))
RACE_CONVERSATIONS = 2000
DOUBLE_LINES = int(os.environ.get("CS_TUI_DOUBLE_LINES", "20000"))
BASE = datetime(2026, 11, 11, 1, 0, tzinfo=UTC)


def line(mid: str, conv: str, customer: str, channel: str = "chat", **extra) -> str:
    row = {
        "message_id": mid,
        "conversation_id": conv,
        "channel": channel,
        "customer": customer,
        "author": "customer",
        "text": f"订单什么时候到? ({mid})",
        "sent_at": "2026-11-11T09:00:00+08:00",
        **extra,
    }
    return json.dumps(row, ensure_ascii=False)


def ingest_file(path: Path, db: str, *more: str) -> int:
    return main(["ingest", "--db", db, str(path), *more])


def bodies(store: Store, ext: str) -> list[str]:
    return [m.body for m in store.conversation(store.conversation_id(ext)).messages]


def miscounted(store: Store) -> list:
    """Conversations whose message_count is not the number of messages stored in them."""
    with store._read() as conn:
        return conn.execute(
            sa.text(
                "SELECT c.external_id, c.message_count, COUNT(m.id) FROM conversation c "
                "LEFT JOIN message m ON m.conversation_id = c.id "
                "GROUP BY c.id, c.external_id, c.message_count "
                "HAVING c.message_count <> COUNT(m.id)"
            )
        ).all()


def message_ids(store: Store, prefix: str) -> Counter:
    """How often each stored message id starting with `prefix` occurs, and where."""
    with store._read() as conn:
        rows = conn.execute(
            sa.text("SELECT external_id, conversation_id FROM message WHERE external_id LIKE :p"),
            {"p": prefix + "%"},
        ).all()
    return Counter((mid, cid) for mid, cid in rows)


# -- a conversation belongs to one customer on one channel -----------------------------------


def test_a_line_for_a_conversation_stored_for_another_customer_or_channel_is_rejected(
    store_url, tmp_path, capsys
):
    first = tmp_path / "first.jsonl"
    first.write_text(line("m1", "C1", "wx-alice") + "\n", encoding="utf-8")
    assert ingest_file(first, store_url) == 0
    later = tmp_path / "later.jsonl"
    lines = [
        line("m2", "C1", "wx-alice"),
        line("m3", "C1", "wx-mallory"),  # someone else's conversation id
        line("m4", "C1", "wx-alice", channel="email"),  # the same id on another channel
        line("m5", "C2", "wx-mallory"),
    ]
    later.write_text("\n".join(lines) + "\n", encoding="utf-8")
    capsys.readouterr()

    assert ingest_file(later, store_url) == 1

    err = capsys.readouterr().err
    assert f"{later}:2: 'conversation_id' is already stored for another customer" in err
    assert f"{later}:3: 'conversation_id' is already stored on another channel" in err
    assert "wx-alice" not in err  # the stored customer is not named to whoever imports
    assert "Traceback" not in err
    rejects = (tmp_path / "later.jsonl.rejects.jsonl").read_text(encoding="utf-8").splitlines()
    assert rejects == [lines[1], lines[2]]
    with Store.open(store_url) as store:
        assert bodies(store, "C1") == ["订单什么时候到? (m1)", "订单什么时候到? (m2)"]
        assert bodies(store, "C2") == ["订单什么时候到? (m5)"]
        detail = store.conversation(store.conversation_id("C1"))
        assert detail.customer.handle == "wx-alice" and detail.row.channel == "chat"
        assert detail.message_count == 2
        assert miscounted(store) == []


def test_within_one_file_the_line_that_starts_a_conversation_decides_whose_it_is(
    store_url, tmp_path, capsys
):
    src = tmp_path / "in.jsonl"
    lines = [
        line("m1", "C7", "wx-carol", sent_at="2026-11-11T09:05:00+08:00"),
        line("m2", "C7", "wx-dave", sent_at="2026-11-11T09:00:00+08:00"),  # earlier, but second
        line("m3", "C7", "wx-carol", channel="social"),
        line("m4", "C7", "wx-carol"),
    ]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")

    assert ingest_file(src, store_url) == 1

    err = capsys.readouterr().err
    assert f"{src}:2: 'conversation_id' was started by an earlier line for another customer" in err
    assert f"{src}:3: 'conversation_id' was started by an earlier line on another channel" in err
    rejects = (tmp_path / "in.jsonl.rejects.jsonl").read_text(encoding="utf-8").splitlines()
    assert rejects == [lines[1], lines[2]]
    with Store.open(store_url) as store:
        detail = store.conversation(store.conversation_id("C7"))
        assert detail.customer.handle == "wx-carol" and detail.row.channel == "chat"
        assert sorted(m.external_id for m in detail.messages) == ["m1", "m4"]
        with store._read() as conn:
            handles = conn.execute(sa.text("SELECT handle FROM customer")).scalars().all()
        assert handles == ["wx-carol"]  # a refused line leaves no customer behind


def test_the_store_refuses_such_records_from_any_caller(store, clock):
    def rec(mid, customer, channel="chat"):
        return IngestRecord(mid, "C9", channel, customer, "customer", "您好", clock.now())

    store.ingest([rec("a1", "wx-erin")])
    result = store.ingest(
        [rec("a2", "wx-frank"), rec("a3", "wx-erin"), rec("a4", "wx-erin", "phone")]
    )

    assert (result.imported, result.rejected) == (1, 2)
    assert [(r.message_id, why) for r, why in result.refused] == [
        ("a2", "'conversation_id' is already stored for another customer: not merged"),
        ("a4", "'conversation_id' is already stored on another channel: not merged"),
    ]
    assert store.conversation(store.conversation_id("C9")).message_count == 2


# -- PostgreSQL: another writer's uncommitted rows in the import's way -------------------------


def only_pg(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("SQLite writers take turns: nobody else writes during an import batch")


def import_while_held(store: Store, conn, records: list[IngestRecord]):
    """Run the import in a thread while `conn`'s transaction is still open; return once the
    import waits for it (its rows are in the way), with the thread to join after commit."""
    holder = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    box: dict = {}
    thread = threading.Thread(target=lambda: box.update(result=store.ingest(records)))
    thread.start()
    end = time.monotonic() + 60  # only stops a hang

    def waiting_for_holder(other: Store) -> int:
        # A transaction of its own each time: pg_stat_activity is read once per transaction.
        with other._read() as look:
            return look.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE :p = ANY(pg_blocking_pids(pid))"
                ),
                {"p": holder},
            ).scalar_one()

    with Store.open(store.url) as other:
        while not waiting_for_holder(other):
            assert time.monotonic() < end and thread.is_alive(), "the import did not wait"
            time.sleep(0.02)
    return thread, box


def new_conversation(conn, ext: str, handle: str, now: datetime) -> None:
    """What a channel writes for a new conversation, by hand so the transaction stays open."""
    cust = conn.execute(
        sa.text(
            "INSERT INTO customer (handle, name, tier, created_at) "
            "VALUES (:h, :h, 'standard', :t) RETURNING id"
        ),
        {"h": handle, "t": now},
    ).scalar_one()
    conn.execute(
        sa.text(
            "INSERT INTO conversation (external_id, customer_id, channel, category, priority, "
            "status, active, created_at, updated_at, urgency_at, pauses, transfers, "
            "message_count, preview, training) VALUES (:e, :c, 'chat', 'order', 'normal', "
            "'new', true, :t, :t, :t, '[]', 0, 0, '', false)"
        ),
        {"e": ext, "c": cust, "t": now},
    )


def test_a_conversation_a_channel_creates_during_the_import_is_joined_not_overwritten(store, clock):
    only_pg(store)

    def rec(mid, conv, customer):
        return IngestRecord(mid, conv, "chat", customer, "customer", f"在吗 {mid}", clock.now())

    with Store.open(store.url) as channel, channel._write() as conn:
        new_conversation(conn, "B1", "wx-xia", clock.now())
        new_conversation(conn, "B2", "wx-zhou", clock.now())
        thread, box = import_while_held(
            store,
            conn,
            [rec("b1", "B1", "wx-xia"), rec("b2", "B1", "wx-xia"), rec("b3", "B2", "wx-wu")],
        )
    thread.join(60)

    result = box["result"]
    assert (result.imported, result.rejected) == (2, 1)
    assert [r.message_id for r, _ in result.refused] == ["b3"]
    assert "already stored for another customer" in result.refused[0][1]
    b1 = store.conversation(store.conversation_id("B1"))
    assert [m.external_id for m in b1.messages] == ["b1", "b2"] and b1.message_count == 2
    assert b1.customer.handle == "wx-xia"
    b2 = store.conversation(store.conversation_id("B2"))
    assert b2.customer.handle == "wx-zhou" and b2.message_count == 0


def test_a_message_id_stored_elsewhere_during_the_import_is_counted_where_it_is(store, clock):
    only_pg(store)

    def rec(mid, conv, text):
        return IngestRecord(mid, conv, "chat", "wx-qian", "customer", text, clock.now())

    store.ingest([rec("a1", "A1", "第一条")])
    a1 = store.conversation_id("A1")
    with Store.open(store.url) as channel, channel._write() as conn:
        conn.execute(  # the channel delivers message "x1" into A1; not committed yet
            sa.text(
                "INSERT INTO message (conversation_id, author_kind, body, sent_at, stored_at, "
                "external_id) VALUES (:c, 'customer', '渠道先到', :t, :t, 'x1')"
            ),
            {"c": a1, "t": clock.now()},
        )
        conn.execute(
            sa.text("UPDATE conversation SET message_count = message_count + 1 WHERE id = :c"),
            {"c": a1},
        )
        thread, box = import_while_held(
            store, conn, [rec("x1", "N1", "导入的同一条"), rec("y1", "N1", "只在导入里")]
        )
    thread.join(60)

    result = box["result"]
    assert (result.imported, result.duplicates) == (1, 1)
    n1 = store.conversation(store.conversation_id("N1"))
    assert [m.external_id for m in n1.messages] == ["y1"]
    assert n1.message_count == 1 and n1.row.preview == "只在导入里"
    assert store.conversation(a1).message_count == 2
    assert miscounted(store) == []


def test_a_batch_chosen_as_a_deadlock_victim_runs_again(store, clock):
    only_pg(store)
    store.ingest([IngestRecord("d1", "D1", "chat", "wx-sun", "customer", "在吗", clock.now())])
    again = IngestRecord("d2", "D1", "chat", "wx-sun", "customer", "还在吗", clock.now())
    with Store.open(store.url) as other, other._write() as conn:
        # This side waits long before looking for deadlocks: PostgreSQL ends the import's
        # transaction, not this one.
        conn.exec_driver_sql("SET LOCAL deadlock_timeout = '30s'")
        conn.exec_driver_sql("SELECT id FROM conversation WHERE external_id = 'D1' FOR UPDATE")
        thread, box = import_while_held(store, conn, [again])
        # The import holds its turn and waits for D1; this side now waits for the import's
        # turn: a deadlock, which costs the import its first attempt.
        conn.exec_driver_sql(
            "SELECT pg_advisory_xact_lock(hashtext('cs_tui_ingest:' || current_schema()))"
        )
    thread.join(60)

    assert box["result"].imported == 1
    detail = store.conversation(store.conversation_id("D1"))
    assert [m.external_id for m in detail.messages] == ["d1", "d2"]
    assert detail.message_count == 2


# -- processes ----------------------------------------------------------------------------


def start(mode: str, url: str, arg: str, payload: object = None) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), mode, url, arg, json.dumps(payload)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready = proc.stdout.readline()
    assert ready.strip() == "ready", proc.stderr.read()
    return proc


def say(procs: list[subprocess.Popen], word: str) -> None:
    for proc in procs:
        proc.stdin.write(word + "\n")
        proc.stdin.flush()


def finish(proc: subprocess.Popen, timeout: float = 300) -> tuple[str, str]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out, err


def imported(stderr: str) -> tuple[int, int]:
    found = re.search(r"imported ([\d,]+) messages .*; ([\d,]+) already stored", stderr)
    assert found, stderr
    return int(found[1].replace(",", "")), int(found[2].replace(",", ""))


def write_lines(path: Path, count: int, conversations: int, *, new_every: int = 0) -> None:
    """`count` lines spread round-robin over R00000.. (so every batch touches every one of
    them); with `new_every`, every such line starts or continues a new conversation instead."""
    with path.open("w", encoding="utf-8") as fh:
        for k in range(count):
            if new_every and k % new_every == new_every - 1:
                conv, customer, i = f"N{k // (2 * new_every):06d}", f"new{k // (2 * new_every)}", 1
            else:
                i = k % conversations
                conv, customer = f"R{i:05d}", f"cust{i}"
            extra = {}
            if i % 10 == 0 and k % 5 == 0:
                extra = {"author": "agent", "agent": "legacy"}
            sent = BASE + timedelta(milliseconds=10 * k)
            fh.write(line(f"imp-{k}", conv, customer, sent_at=sent.isoformat(), **extra) + "\n")


def seed_conversations(url: str, count: int, handles: list[str]) -> list[int]:
    with Store.open(url) as store:
        for handle in handles:
            store.ensure_agent(handle)
        store.ingest(
            IngestRecord(
                f"seed-{i}",
                f"R{i:05d}",
                "chat",
                f"cust{i}",
                "customer",
                f"第 {i} 单还没到",
                BASE - timedelta(seconds=count - i),
            )  # fmt: skip
            for i in range(count)
        )
        return [store.conversation_id(f"R{i:05d}") for i in range(count)]


@pytest.mark.slow
def test_the_same_file_imported_by_two_processes_at_once_is_stored_and_counted_once(
    store_url, tmp_path
):
    seed_conversations(store_url, 100, ["legacy"])
    src = tmp_path / "twice.jsonl"
    write_lines(src, DOUBLE_LINES, 100, new_every=2)  # half to stored, half to new conversations

    importers = [start("import", store_url, str(src)) for _ in range(2)]
    say(importers, "go")
    results = [imported(finish(proc)[1]) for proc in importers]

    assert sum(n for n, _ in results) == DOUBLE_LINES
    assert sum(dup for _, dup in results) == DOUBLE_LINES
    with Store.open(store_url) as store:
        stored = message_ids(store, "imp-")
        assert len(stored) == DOUBLE_LINES and set(stored.values()) == {1}
        assert miscounted(store) == []
        assert len(message_ids(store, "seed-")) == 100


@pytest.mark.slow
def test_eight_agents_claim_and_reply_while_a_large_import_runs(store_url, tmp_path):
    """The issue asks for 8 agents claiming and replying for 30 s during a 200,000-line import
    (CS_TUI_RACE_SECONDS=30 CS_TUI_RACE_LINES=200000); by default a shorter run of the same.

    The import's agent lines assign unassigned conversations to "legacy", so it races the
    agents' claims for the same rows; its customer lines land in conversations the agents
    are replying in. Nothing anyone was told succeeded may be undone by the import."""
    handles = [f"agent{i}" for i in range(AGENTS)]
    ids = seed_conversations(store_url, RACE_CONVERSATIONS, [*handles, "legacy"])
    src = tmp_path / "race.jsonl"
    write_lines(src, RACE_LINES, RACE_CONVERSATIONS, new_every=4)

    agents = [start("agent", store_url, h, ids) for h in handles]
    importer = start("import", store_url, str(src))
    began = time.monotonic()
    say([*agents, importer], "go")
    importer_result = imported(finish(importer)[1])
    time.sleep(max(0.0, RACE_SECONDS - (time.monotonic() - began)))
    say(agents, "stop")
    reports = {
        h: json.loads(finish(p)[0].splitlines()[-1]) for h, p in zip(handles, agents, strict=True)
    }

    assert importer_result[0] == RACE_LINES
    assert all(r["unavailable"] == 0 for r in reports.values()), reports
    assert all(r["refused"] == [] for r in reports.values())  # no claim was taken away
    claims = Counter(cid for r in reports.values() for cid in r["claimed"])
    assert [cid for cid, n in claims.items() if n > 1] == []
    acked = [(client, cid) for r in reports.values() for client, cid in r["acked"]]
    assert len(claims) > 0 and len(acked) > 0, "the agents did not work during the import"
    with Store.open(store_url) as store:
        owner = {row.id: row.assignee for row in store.queue_rows(sorted(claims))}
        for handle, report in reports.items():
            assert {owner[cid] for cid in report["claimed"]} <= {handle}
        replies = message_ids(store, "agent")
        assert sorted(replies) == sorted(acked)  # each acknowledged reply stored, once
        assert set(replies.values()) == {1}
        assert len(message_ids(store, "imp-")) == RACE_LINES
        assert miscounted(store) == []


# -- the worker side --------------------------------------------------------------------


def _import(url: str, path: str) -> None:
    print("ready", flush=True)
    sys.stdin.readline()
    raise SystemExit(main(["ingest", "--db", url, path, "--agent", "legacy"]))


def _agent(url: str, handle: str, ids: list[int]) -> None:
    """Claim (given conversations, or the most urgent) and reply in what was claimed, until
    told to stop; report what the store acknowledged and every error an agent would see."""
    store = Store.open(url)
    me = store.get_agent(handle)
    rng = random.Random(handle)
    print("ready", flush=True)
    sys.stdin.readline()
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
    claimed: list[int] = []
    acked: list[tuple[str, int]] = []
    unavailable = 0
    refused: list[str] = []
    hang_guard = time.monotonic() + 600
    while not stop.is_set() and time.monotonic() < hang_guard:
        roll = rng.random()
        try:
            if roll < 0.2:
                cid = rng.choice(ids)
                if store.claim(me, cid):
                    claimed.append(cid)
            elif roll < 0.4 or not claimed:
                row = store.take_next(me)
                if row is not None:
                    claimed.append(row.id)
            else:
                cid = rng.choice(claimed)
                client = f"{handle}-{len(acked)}"
                store.post_reply(me, cid, f"您好,我来处理 {client}", client_id=client)
                acked.append((client, cid))
        except StoreUnavailable:
            unavailable += 1
        except NotAllowed as exc:
            refused.append(str(exc))
    store.dispose()
    report = {"claimed": claimed, "acked": acked, "unavailable": unavailable, "refused": refused}
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    mode, url, arg, payload = sys.argv[1:5]
    if mode == "import":
        _import(url, arg)
    else:
        _agent(url, arg, json.loads(payload))
