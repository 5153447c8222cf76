"""Personal phrases: kept per agent in the store (both backends), offered in the library next to
the packs and searchable like them, and added from the command line with `phrases add --mine`."""

from __future__ import annotations

import json

import pytest

from cs_tui.cli import main
from cs_tui.data.errors import InvalidInput, NotFound
from cs_tui.phrases import PhraseLibrary, personal_phrase
from cs_tui.widgets.side_sources import load_phrases


@pytest.fixture
def team(store):
    store.ensure_agent("boss", "Boss", role="supervisor")
    return {"alice": store.ensure_agent("alice", "Alice"), "bob": store.ensure_agent("bob", "Bob")}


def test_each_agent_keeps_and_reads_only_their_own_phrases(store, team):
    alice, bob = team["alice"], team["bob"]
    saved = store.add_personal_phrase(
        alice, "  大促发货说明 ", "亲,双11订单{days}天内发货,请您放心。\r\n", shortcut="dcfh"
    )
    assert (saved.title, saved.body, saved.shortcut, saved.lang) == (
        "大促发货说明",
        "亲,双11订单{days}天内发货,请您放心。",
        "dcfh",
        "zh",
    )
    store.add_personal_phrase(bob, "Holiday shipping", "We ship within {days} days.")
    assert [p.title for p in store.personal_phrases(alice.id)] == ["大促发货说明"]
    assert [(p.title, p.lang) for p in store.personal_phrases(bob.id)] == [
        ("Holiday shipping", "en")
    ]
    with pytest.raises(NotFound):
        store.remove_personal_phrase(bob, saved.id)  # not bob's to delete
    store.remove_personal_phrase(alice, saved.id)
    assert store.personal_phrases(alice.id) == []


def test_untrusted_titles_texts_and_shortcuts_are_refused_with_the_field_named(store, team):
    alice = team["alice"]
    bad = [
        ({"title": " ", "body": "x"}, "phrase_title_empty"),
        ({"title": "two\nlines", "body": "x"}, "phrase_title_line"),
        ({"title": "bell\x07", "body": "x"}, "phrase_title_line"),
        ({"title": "t" * 81, "body": "x"}, "phrase_title_too_long"),
        ({"title": "t", "body": "   "}, "phrase_body_empty"),
        ({"title": "t", "body": "clear \x1b[2J screen"}, "phrase_control"),
        ({"title": "t", "body": "csi \x9b2J"}, "phrase_control"),
        ({"title": "t", "body": "x" * 2001}, "phrase_body_too_long"),
        ({"title": "t", "body": "x", "shortcut": "two words"}, "phrase_shortcut"),
        ({"title": "t", "body": "x", "lang": "fr"}, "unknown_choice"),
    ]
    for fields, code in bad:
        with pytest.raises(InvalidInput) as caught:
            store.add_personal_phrase(alice, **fields)
        assert caught.value.code == code, fields
    store.add_personal_phrase(alice, "t", "line one\n\tline two", shortcut="Mine1")
    with pytest.raises(InvalidInput) as caught:
        store.add_personal_phrase(alice, "t2", "y", shortcut="mine1")
    assert caught.value.code == "phrase_shortcut_taken"
    store.add_personal_phrase(team["bob"], "t", "y", shortcut="mine1")  # bob's own: fine
    assert len(store.personal_phrases(alice.id)) == 1


def test_disabled_agent_cannot_add(store, team):
    store.set_active(store.get_agent("boss"), "alice", False)
    with pytest.raises(Exception) as caught:
        store.add_personal_phrase(store.get_agent("alice"), "t", "x")
    assert getattr(caught.value, "code", None) == "disabled"


def test_own_phrases_join_the_library_searchable_and_marked_personal(store, team, tmp_path):
    alice = team["alice"]
    store.add_personal_phrase(alice, "周末仓库说明", "亲,周末仓库休息,周一发货。", shortcut="zmck")
    store.add_personal_phrase(alice, "我的退款话术", "退款{amount}元已原路退回。", shortcut="tkcg")
    store.add_personal_phrase(team["bob"], "鲍勃的话术", "bob only")
    source = load_phrases(None, store, alice.id)
    library = source.library
    assert library is not None
    # Searchable like the packs: by title, by pinyin initials, by shortcut.
    for query in ("周末仓库", "zmck", "zmcksm"):
        hits = source.search(query, "zh")
        assert hits and hits[0].title == "周末仓库说明", query
        assert hits[0].personal
    # A shortcut a pack already uses stays the pack's; the own phrase is still listed.
    assert library.by_shortcut("tkcg").title == "退款成功"
    own = [p for p in library.phrases if p.layer == "personal"]
    assert sorted(p.title for p in own) == ["周末仓库说明", "我的退款话术"]
    # Listed first when the picker shows everything.
    grouped = source.categories("zh")
    first = next(iter(grouped))
    assert first == "personal"
    assert all(item.personal for item in grouped[first])
    assert not any(i.personal for items in list(grouped.values())[1:] for i in items)


def test_with_personal_keeps_pack_shortcuts():
    library, _ = PhraseLibrary.load(None)
    mine = personal_phrase(1, "t", "b", "tkcg", "zh")
    merged = library.with_personal([mine])
    assert merged.get("mine.1").shortcut == ""
    assert merged.by_shortcut("tkcg").id == "zh.refund.success"


# --------------------------------------------------------------------------- the command line


def run(capsys, *argv, stdin=None, monkeypatch=None):
    if stdin is not None:
        import io

        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_adds_lists_and_removes_a_personal_phrase(capsys, tmp_path, monkeypatch):
    db = str(tmp_path / "store.db")
    base = ("--db", db, "--agent", "alice")
    status, out, err = run(
        capsys,
        *base,
        "phrases",
        "add",
        "--mine",
        "--title",
        "大促发货说明",
        "--shortcut",
        "dcfh",
        "亲,双11订单{days}天内发货。",
    )
    assert status == 0, err
    assert "saved personal phrase #1" in out and "/dcfh" in out
    status, out, err = run(
        capsys,
        *base,
        "phrases",
        "add",
        "--mine",
        "--title",
        "Late parcel",
        "-",
        stdin="Sorry, your parcel {tracking_no} is late.\n",
        monkeypatch=monkeypatch,
    )
    assert status == 0, err
    status, out, _ = run(capsys, *base, "phrases", "mine", "--json")
    listed = json.loads(out)
    assert [(p["title"], p["shortcut"], p["lang"]) for p in listed] == [
        ("大促发货说明", "dcfh", "zh"),
        ("Late parcel", None, "en"),
    ]
    assert listed[1]["body"] == "Sorry, your parcel {tracking_no} is late."
    status, out, _ = run(capsys, *base, "phrases", "search", "大促发货说明", "--json")
    assert json.loads(out)[0]["title"] == "大促发货说明"
    status, out, _ = run(capsys, *base, "phrases", "search", "dcfh")
    assert "大促发货说明  (mine)" in out.splitlines()[0]
    status, out, _ = run(capsys, *base, "phrases", "remove", "--mine", "1")
    assert status == 0 and "removed" in out
    status, out, _ = run(capsys, *base, "phrases", "mine")
    assert "大促发货说明" not in out and "Late parcel" in out


def test_cli_refuses_without_mine_and_names_bad_input_without_escapes(capsys, tmp_path):
    db = str(tmp_path / "store.db")
    base = ("--db", db, "--agent", "alice")
    status, _out, err = run(capsys, *base, "phrases", "add", "--title", "t", "text")
    assert status == 2 and "--mine" in err
    status, _out, err = run(
        capsys, *base, "phrases", "add", "--mine", "--title", "t\x1b]52;c;aGk=\x07", "text"
    )
    assert status == 2
    assert "title is one line" in err
    assert "\x1b" not in err and "Traceback" not in err
    status, out, _ = run(capsys, *base, "phrases", "mine")
    assert "no personal phrases yet" in out
