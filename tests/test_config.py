"""The config file's problems point at the line the author has to fix."""

from __future__ import annotations

import pytest

from cs_tui.config import ConfigError, load_settings


def _load(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path, lambda: load_settings(path)


def test_broken_toml_is_named_at_the_parsers_line(tmp_path):
    path, load = _load(tmp_path, 'agent = "alice"\n\nlang = \n')
    with pytest.raises(ConfigError) as err:
        load()
    assert str(err.value) == f"{path}:3: not valid TOML: Invalid value"


def test_a_quoted_unknown_key_is_found_on_its_line(tmp_path):
    path, load = _load(tmp_path, 'agent = "alice"\n"colour" = "red"\n')
    with pytest.raises(ConfigError) as err:
        load()
    assert str(err.value) == f"{path}:2: unknown setting 'colour'"


def test_wrong_types_and_values_are_named_at_their_key(tmp_path):
    path, load = _load(tmp_path, 'agent = """\nmouse is mine\n"""\nmouse = "no"\n')
    with pytest.raises(ConfigError, match=rf"^{path}:4: mouse must be a bool$"):
        load()
    path, load = _load(tmp_path, 'agent = "a"\n\n[keymap]\nlang = "f2"\n')
    assert load().keymap == {"lang": "f2"}
    path, load = _load(tmp_path, 'agent = "a"\nlang = "fr"\n[keymap]\nx = "f2"\n')
    with pytest.raises(ConfigError, match=rf'^{path}:2: lang must be "zh" or "en"$'):
        load()
