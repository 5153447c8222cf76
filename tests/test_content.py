"""The shared content-file toolkit: TOML errors at the parser's line, a key locator, problems."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_tui.content import (
    ContentError,
    KeyLines,
    Problem,
    Problems,
    decode_text,
    parse_toml,
    toml_files,
)

PACK = '''\
# a comment with [[phrase]] and id = "x" in it
[pack]
lang = "zh"

[[phrase]]
id = "a"
body = """
shortcut = "not a key, inside a string"
[[phrase]]
"""

[[phrase]]
  "id" = "b"
tags = [
  "shortcut = nope",
]
shortcut = "b"

[channels.phone]
first_response = "10s"

[[turn]]
id = "x"
[[turn.say]]
text = "y"
'''


def test_locator_finds_tables_keys_and_array_elements():
    lines = KeyLines(PACK)
    assert lines.line("pack") == 2
    assert lines.line("pack", "lang") == 3
    assert lines.line("phrase", 0) == 5
    assert lines.line("phrase", 0, "id") == 6
    assert lines.line("phrase", 1) == 12
    assert lines.line("phrase", 1, "id") == 13
    assert lines.line("phrase", 1, "shortcut") == 17
    assert lines.line("channels", "phone") == 19
    assert lines.line("channels", "phone", "first_response") == 20
    assert lines.line("turn", 0, "say", 0, "text") == 25


def test_locator_says_none_rather_than_guessing():
    lines = KeyLines(PACK)
    assert lines.line("phrase", 0, "shortcut") is None  # only inside a string
    assert lines.line("phrase", 2) is None
    assert lines.line("nowhere") is None
    assert lines.near("phrase", 0, "shortcut") == 5  # the table it belongs in
    assert lines.near("nowhere") is None


def test_toml_error_names_the_parsers_line():
    with pytest.raises(ContentError) as err:
        parse_toml('a = 1\nb = "x"\nc = \n', "f.toml")
    assert str(err.value) == "f.toml:3: not valid TOML: Invalid value"
    assert err.value.problem.line == 3


def test_problem_without_a_line_prints_no_number():
    assert str(Problem("f.toml", 4, "bad")) == "f.toml:4: bad"
    assert str(Problem("f.toml", None, "bad")) == "f.toml: bad"


def test_bytes_that_are_not_text_are_named():
    kwargs = {"max_bytes": 100, "size_text": "100 bytes", "what": "a pack"}
    with pytest.raises(ContentError, match=r"^f:2: not UTF-8 text$"):
        decode_text(b"ok\n\xff", "f", **kwargs)
    with pytest.raises(ContentError, match=r"^f:1: a binary file, not a pack$"):
        decode_text(b"a\x00", "f", **kwargs)
    with pytest.raises(ContentError, match=r"^f:1: larger than 100 bytes$"):
        decode_text(b"x" * 101, "f", **kwargs)
    assert decode_text("\ufeffé".encode(), "f", **kwargs) == "é"


def test_problems_are_placed_by_the_data_path_they_are_about():
    text = '[persona]\nname = "x"\ntier = "gold"\n'
    problems = Problems("s.toml", KeyLines(text))
    assert problems.one_of("gold", ("standard", "vip"), "tier", "persona", "tier") is False
    assert problems.one_of("vip", ("standard", "vip"), "tier", "persona", "tier") is True
    problems.add("emotion is missing", "persona", "emotion")
    problems.add("no [rubric]")
    assert [str(p) for p in problems] == [
        "s.toml:3: unknown tier 'gold' (one of: standard, vip)",
        "s.toml:1: emotion is missing",
        "s.toml: no [rubric]",
    ]


def test_toml_files_expands_folders_to_their_toml_files(tmp_path):
    (tmp_path / "b.toml").write_text("", encoding="utf-8")
    (tmp_path / "a.toml").write_text("", encoding="utf-8")
    (tmp_path / "notes.md").write_text("", encoding="utf-8")
    single = tmp_path / "elsewhere.toml"
    assert toml_files([tmp_path, single]) == [tmp_path / "a.toml", tmp_path / "b.toml", single]


def test_quoted_keys_with_dots_escapes_and_brackets_are_located():
    text = '"a.b" = 1\n"q\\"t" = 2\n[["x]]y"]]\n\'lit"k\' = 3\n[t."u.v"]\nw = 4\n'
    lines = KeyLines(text)
    assert parse_toml(text, "f")  # the text is valid TOML
    assert lines.line("a.b") == 1
    assert lines.line('q"t') == 2
    assert lines.line("x]]y", 0) == 3
    assert lines.line("x]]y", 0, 'lit"k') == 4
    assert lines.line("t", "u.v", "w") == 6


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("[]{}\"'=.#\\ \nab1-_")), max_size=80))
def test_the_locator_never_raises_on_any_text(text):
    lines = KeyLines(text)
    assert lines.line("a") is None or lines.line("a") >= 1
