"""`cs-tui db copy`: a whole store moves between backends without loss, and proves it."""

from __future__ import annotations

import pytest

from cs_tui.cli import main
from cs_tui.data import seed
from cs_tui.data.copy import copy_store, message_checksum
from cs_tui.data.store import Store


@pytest.fixture
def source(tmp_path, clock):
    path = str(tmp_path / "team.db")
    store = Store.open(path, clock=clock)
    seed.write_demo(store, count=60)
    alice = store.ensure_agent("alice")
    cid = store.conversation_id("DEMO-0003")
    store.post_note(store.get_agent("sam"), cid, "内部备注 [b]x[/b] \x1b[2J 👍")
    store.save_draft(alice.id, cid, "草稿")
    store.dispose()
    return path


def test_copy_to_another_backend_keeps_every_row_and_message(source, store_url, clock):
    report = copy_store(source, store_url)
    assert report.ok, "\n".join(report.lines())
    src, dst = Store.open(source, clock=clock), Store.open(store_url, clock=clock)
    assert src.counts() == dst.counts()
    assert message_checksum(src) == message_checksum(dst)
    # The copy is a working store: ids continue, drafts and notes came along.
    alice = dst.get_agent("alice")
    cid = dst.conversation_id("DEMO-0003")
    assert dst.load_draft(alice.id, cid) == "草稿"
    assert dst.conversation(cid).messages[-1].body == "内部备注 [b]x[/b] \x1b[2J 👍"
    new = dst.create_conversation(external_id="AFTER-COPY", customer_handle="wx-new")
    assert new > max(
        r.id for r in src.queue(src.ensure_agent("boss", role="supervisor"), limit=500)
    )


def test_copy_refuses_a_store_that_already_holds_work(source, tmp_path, capsys):
    target = str(tmp_path / "busy.db")
    Store.open(target).ensure_agent("someone")
    assert main(["db", "copy", "--from", source, "--to", target]) == 2
    assert "not empty" in capsys.readouterr().err


def test_copy_command_prints_the_verification(source, tmp_path, capsys):
    assert main(["db", "copy", "--from", source, "--to", str(tmp_path / "new.db")]) == 0
    err = capsys.readouterr().err
    assert "message checksum" in err and "MISMATCH" not in err
