"""`cs-tui phrases`, `cs-tui kb` and `cs-tui check` as a user runs them."""

from __future__ import annotations

import json

import pytest

from cs_tui.cli import main


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "store.db")


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_check_flags_buck_passing_and_informal_you(capsys):
    status, out, _ = run(capsys, "check", "这是物流的问题,你找物流吧")
    assert status == 1
    assert "zh.buck_passing" in out and "zh.informal_you" in out
    assert "我来帮您联系物流核实" in out


def test_check_json(capsys):
    status, out, _ = run(capsys, "check", "--json", "Calm down, it might arrive tomorrow.")
    data = json.loads(out)
    assert status == 1
    assert [f["rule"] for f in data] == ["en.dismissive", "en.vague_commitment"]
    assert set(data[0]) == {"rule", "start", "end", "text", "reason", "suggestion"}


def test_check_polite_reply_is_clean(capsys):
    status, out, _ = run(capsys, "check", "--json", "您好,请问有什么可以帮您?")
    assert status == 0 and json.loads(out) == []


def test_check_output_has_no_control_characters(capsys):
    status, out, _ = run(capsys, "check", "你\x1b]52;c;aGk=\x07好\x9b2J")
    assert status == 1
    assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out


def test_phrases_check_shipped_packs_are_valid(capsys):
    status, out, _ = run(capsys, "phrases", "check")
    assert status == 0 and "valid" in out


def test_phrases_check_reports_file_line_problems(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[phrase]]\nid = "x"\nshortcut = "x1"\n', "utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text("[[phrase]\n", "utf-8")
    status, out, _ = run(capsys, "phrases", "check", str(bad), str(broken))
    assert status == 1
    assert f"{bad}:1: phrase is missing category, title, body" in out
    assert f"{broken}:1: not valid TOML" in out


def test_personal_pack_broken_app_still_loads_others(capsys, tmp_path, monkeypatch):
    personal = tmp_path / "config" / "phrases"
    personal.mkdir(parents=True)
    (personal / "mine.toml").write_text("not = [toml", "utf-8")
    monkeypatch.setenv("CS_TUI_CONFIG_DIR", str(tmp_path / "config"))
    status, out, err = run(capsys, "phrases", "search", "tkdz", "--limit", "1")
    assert status == 0
    assert "tkdz" in out
    assert "skipped pack" in err and "mine.toml" in err


def test_phrases_search_json(capsys):
    status, out, _ = run(capsys, "phrases", "search", "tuikuan", "--json", "--limit", "3")
    data = json.loads(out)
    assert status == 0 and len(data) == 3
    assert set(data[0]) == {"id", "title", "category", "score", "shortcut", "body"}
    assert all("退款" in item["title"] for item in data)


def test_phrases_list_by_category(capsys):
    status, out, _ = run(capsys, "phrases", "list", "--lang", "en", "--json")
    data = json.loads(out)
    assert status == 0 and "greeting" in data and data["greeting"][0]["id"].startswith("en.")


def test_kb_search_on_an_empty_store_says_so(capsys, db):
    status, _, err = run(capsys, "kb", "search", "--db", db, "退款")
    assert status == 1
    assert "knowledge base is empty" in err


def test_kb_import_sample_then_search(capsys, db):
    status, out, _ = run(capsys, "kb", "import", "--db", db, "--sample")
    assert status == 0 and "imported" in out
    status, out, _ = run(capsys, "kb", "search", "--db", db, "qtwly", "--json", "--limit", "2")
    data = json.loads(out)
    assert data[0]["title"] == "七天无理由退货规则"
    assert set(data[0]) == {"id", "title", "category", "score", "snippet"}
    status, out, _ = run(capsys, "kb", "list", "--db", db, "--json")
    assert len(json.loads(out)) >= 40
    status, out, _ = run(capsys, "kb", "show", "--db", db, str(data[0]["id"]))
    assert status == 0 and "七天无理由退货规则" in out


def test_kb_human_output_names_categories(capsys, db):
    """People read "Platform rules", not the code `platform_rules` the article file names;
    --json keeps the code for scripts."""
    run(capsys, "kb", "import", "--db", db, "--sample")
    _status, out, _ = run(capsys, "kb", "list", "--db", db)
    assert "Platform rules" in out and "After-sales policy" in out and "Case library" in out
    assert "platform_rules" not in out and "after_sales" not in out
    _status, out, _ = run(capsys, "kb", "search", "--db", db, "qtwly", "--limit", "1")
    assert "[Platform rules]" in out
    _status, out, _ = run(capsys, "kb", "show", "--db", db, "sample/zh-return-7day-rule")
    assert out.splitlines()[1].startswith("Platform rules · ")
    _status, out, _ = run(capsys, "kb", "list", "--db", db, "--json")
    assert "platform_rules" in {a["category"] for a in json.loads(out)}


def test_kb_import_folder_reports_bad_files_and_keeps_good(capsys, db, tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "a.md").write_text("---\ntitle: 发票\n---\n电子发票24小时内发送", "utf-8")
    (folder / "b.md").write_text("no title at all", "utf-8")
    (folder / "c.bin").write_bytes(b"\x00\xff")
    status, out, err = run(capsys, "kb", "import", "--db", db, str(folder))
    assert status == 1
    assert "imported 1 new" in out
    assert "b.md: no title" in err and "c.bin: skipped: a binary file" in err


def test_kb_import_needs_a_source(capsys, db):
    status, _, err = run(capsys, "kb", "import", "--db", db)
    assert status == 2 and "PATH" in err
