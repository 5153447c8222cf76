"""Phrase packs: the shipped ones are complete and clean; broken packs are named, not fatal."""

from __future__ import annotations

from pathlib import Path

import pytest

from cs_tui import compliance
from cs_tui.phrases import CATEGORIES, Phrase, PhraseLibrary, check_paths, placeholder_spans, render


@pytest.fixture
def shipped():
    library, problems = PhraseLibrary.load(personal=Path("/nonexistent-personal-dir"), team=[])
    return library, problems


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
[pack]
lang = "zh"

[[phrase]]
id = "team.refund"
shortcut = "tt1"
category = "refund"
title = "团队退款话术"
body = "{customer_name}您好，退款会在{eta}内到账。"
"""


def test_shipped_packs_load_without_problems(shipped):
    library, problems = shipped
    assert problems == []
    assert library.skipped == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_language_has_60_phrases_covering_every_category(shipped, lang):
    library, _ = shipped
    phrases = library.for_lang(lang)
    assert len(phrases) >= 60
    assert {p.category for p in phrases} == set(CATEGORIES)


def test_shipped_phrases_pass_the_language_checks(shipped):
    library, _ = shipped
    dirty = {
        p.id: [(f.rule, f.text) for f in compliance.check(p.body, p.lang)]
        for p in library.phrases
        if compliance.check(p.body, p.lang)
    }
    assert dirty == {}


def test_empathy_phrases_exist_for_angry_and_anxious(shipped):
    library, _ = shipped
    for lang in ("zh", "en"):
        emotions = {p.emotion for p in library.by_category(lang)["empathy"]}
        assert {"angry", "anxious"} <= emotions


def test_shortcuts_are_unique_across_packs(shipped):
    library, _ = shipped
    shortcuts = [p.shortcut.casefold() for p in library.phrases]
    assert len(shortcuts) == len(set(shortcuts))


def test_render_fills_known_values_and_keeps_missing_ones_visible():
    phrase = Phrase("x", "x", "refund", "t", "{customer_name}您好，订单{order_id}会在{eta}内到账")
    text = render(phrase, {"customer_name": "王女士", "eta": "24小时"})
    assert text == "王女士您好，订单{order_id}会在24小时内到账"
    assert placeholder_spans(text) == [(8, 18, "order_id")]
    assert render(phrase, {}, blank=True) == "您好，订单会在内到账"


def test_render_never_raises_and_never_re_expands_values():
    assert render("{0} {a.b} {} {{x}} {unknown}", {"unknown": "{customer_name}"}) == (
        "{0} {a.b} {} {{x}} {customer_name}"
    )
    assert render("plain", None) == "plain"


def test_personal_pack_overrides_by_id_and_adds(tmp_path):
    personal = tmp_path / "personal"
    personal.mkdir()
    write(
        personal / "mine.toml",
        """
[[phrase]]
id = "zh.greeting.welcome"
shortcut = "nh"
category = "greeting"
title = "我的欢迎语"
body = "您好，我是{agent_name}，请问有什么可以帮您？"

[[phrase]]
id = "me.extra"
shortcut = "me1"
category = "closing"
title = "我的结束语"
body = "感谢您的耐心，祝您生活愉快！"
""",
    )
    library, problems = PhraseLibrary.load(personal=personal, team=[])
    assert problems == []
    assert library.get("zh.greeting.welcome").title == "我的欢迎语"
    assert library.get("zh.greeting.welcome").layer == "personal"
    assert library.by_shortcut("me1").id == "me.extra"


def test_team_pack_from_settings(tmp_path):
    team = write(tmp_path / "team.toml", GOOD)

    class Settings:
        team_phrases = [str(team)]

    library, problems = PhraseLibrary.load(Settings(), personal=tmp_path / "none")
    assert problems == []
    assert library.get("team.refund").layer == "team"


def test_broken_pack_is_skipped_and_named_the_rest_loads(tmp_path):
    personal = tmp_path / "p"
    personal.mkdir()
    write(personal / "a_good.toml", GOOD)
    write(personal / "b_broken.toml", '[[phrase]]\nid = "x"\nshortcut = \n')
    library, problems = PhraseLibrary.load(personal=personal, team=[])
    assert library.get("team.refund") is not None
    assert len(library.skipped) == 1
    assert "b_broken.toml:3" in str(library.skipped[0])
    assert "not valid TOML" in str(library.skipped[0])
    assert any("b_broken.toml" in str(p) for p in problems)


def test_check_reports_missing_fields_unknown_variables_with_lines(tmp_path):
    pack = write(
        tmp_path / "bad.toml",
        """[pack]
lang = "en"

[[phrase]]
id = "a"
shortcut = "a1"
category = "refund"
title = "A"

[[phrase]]
id = "b"
shortcut = "b1"
category = "refund"
title = "B"
body = "Hello {customer_nam}, your order {order_id}"

[[phrase]]
id = "c"
shortcut = "c1"
category = "nonsense"
title = "C"
body = "x"
""",
    )
    problems = [str(p) for p in check_paths([pack])]
    assert any(p.startswith(f"{pack}:4: ") and "missing body" in p for p in problems)
    assert any(p.startswith(f"{pack}:15: ") and "{customer_nam}" in p for p in problems)
    assert any(p.startswith(f"{pack}:20: ") and "unknown category" in p for p in problems)
    assert not any("order_id" in p for p in problems)


def test_duplicate_shortcut_across_packs_names_both_files_and_lines(tmp_path):
    first = write(tmp_path / "one.toml", GOOD)
    second = write(
        tmp_path / "two.toml",
        """
[[phrase]]
id = "other"
shortcut = "tt1"
category = "closing"
title = "其他"
body = "祝您生活愉快！"
""",
    )
    problems = [str(p) for p in check_paths([first, second])]
    assert len(problems) == 1
    assert problems[0].startswith(f"{second}:4: ")
    assert f"{first}:7" in problems[0]


def test_duplicate_id_across_packs_in_one_layer(tmp_path):
    first = write(tmp_path / "one.toml", GOOD)
    second = write(tmp_path / "two.toml", GOOD.replace('"tt1"', '"tt2"'))
    problems = [str(p) for p in check_paths([first, second])]
    assert any("duplicate id 'team.refund'" in p and str(first) in p for p in problems)


def test_binary_and_non_utf8_packs_are_named(tmp_path):
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\x00\x01\x02")
    latin = tmp_path / "latin.toml"
    latin.write_bytes('title = "caf\xe9"'.encode("latin-1"))
    problems = [str(p) for p in check_paths([binary, latin])]
    assert any("bin.toml" in p and "binary" in p for p in problems)
    assert any("latin.toml" in p and "UTF-8" in p for p in problems)


def test_by_category_follows_the_standard_order(shipped):
    library, _ = shipped
    assert list(library.by_category("zh")) == list(CATEGORIES)


def test_a_pack_that_still_sets_channel_loads_with_a_clear_warning(tmp_path):
    pack = write(tmp_path / "team.toml", GOOD.rstrip() + '\nchannel = "phone"\n')
    library, problems = PhraseLibrary.load(personal=tmp_path / "none", team=[pack])
    assert library.get("team.refund") is not None
    assert [str(p) for p in problems] == [
        f"{pack}:11: channel is no longer used (a phrase is offered on every channel); remove it"
    ]


def test_problems_point_at_keys_not_at_text_in_a_multiline_body(tmp_path):
    pack = write(
        tmp_path / "team.toml",
        '''[[phrase]]
id = "a"
body = """
shortcut = this line is part of the body
category = so is this one
[[phrase]]
"""
shortcut = "a1"
category = "nonsense"
title = "A"

[[phrase]]
id = "b"
shortcut = "a1"
category = "refund"
title = "B"
body = "x"
''',
    )
    problems = [str(p) for p in check_paths([pack])]
    assert problems == [
        f"{pack}:9: unknown category 'nonsense' (one of: {', '.join(CATEGORIES)})",
    ]
    pack.write_text(pack.read_text().replace('"nonsense"', '"refund"'), encoding="utf-8")
    problems = [str(p) for p in check_paths([pack])]
    assert len(problems) == 1
    assert problems[0].startswith(f"{pack}:14: duplicate shortcut 'a1'")
    assert f"also at {pack}:8" in problems[0]


def test_phrases_written_as_an_inline_array_are_placed_on_its_line(tmp_path):
    pack = write(
        tmp_path / "inline.toml",
        'phrase = [\n  { id = "a", shortcut = "a1" },\n]\n\n[pack]\nlang = "en"\n',
    )
    problems = [str(p) for p in check_paths([pack])]
    assert problems == [f"{pack}:1: phrase is missing category, title, body"]
