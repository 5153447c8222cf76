"""Settings: where the store is, who the agent is, which packs and policy apply, the UI language.

Everything is resolved at call time (never at import) so tests can redirect it with environment
variables: CS_TUI_DB, CS_TUI_AGENT, CS_TUI_CONFIG, CS_TUI_DATA_DIR, CS_TUI_CONFIG_DIR, CS_TUI_LANG.
Precedence: command line > environment > config file > defaults.
"""

from __future__ import annotations

import locale
import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from cs_tui.content import ContentError, KeyLines, Problem, parse_toml

APP_NAME = "cs-tui"


class ConfigError(ValueError):
    """A config file that cannot be used; the message names file:line."""


def data_dir() -> Path:
    override = os.environ.get("CS_TUI_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))


def config_dir() -> Path:
    override = os.environ.get("CS_TUI_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME))


def default_store_path() -> Path:
    return data_dir() / "store.db"


def demo_store_path() -> Path:
    return data_dir() / "demo.db"


def config_file() -> Path:
    override = os.environ.get("CS_TUI_CONFIG")
    return Path(override) if override else config_dir() / "config.toml"


def personal_phrase_dir() -> Path:
    return config_dir() / "phrases"


def login_name() -> str:
    import getpass  # only when no agent is given: it loads termios for its password prompt

    try:
        return getpass.getuser()
    except Exception:
        return "agent"


def locale_language() -> str:
    for var in ("CS_TUI_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    try:
        loc = locale.getlocale()[0] or ""
    except ValueError:
        loc = ""
    return "zh" if loc.lower().startswith("zh") else "en"


@dataclass
class Settings:
    """The config file's settings, typed: the apps, loaders and commands take this (or None for
    the defaults), so a misspelt field is a type error rather than a silently missing setting."""

    db: str | None = None
    agent: str | None = None
    lang: str | None = None
    sla_policy: str | None = None
    team_phrases: list[str] = field(default_factory=list)
    scenario_dirs: list[str] = field(default_factory=list)
    color_system: str | None = None
    mouse: bool = True
    keymap: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, float] = field(default_factory=dict)
    source: str | None = None


_KNOWN: dict[str, type] = {
    "db": str,
    "agent": str,
    "lang": str,
    "sla_policy": str,
    "team_phrases": list,
    "scenario_dirs": list,
    "color_system": str,
    "mouse": bool,
    "keymap": dict,
    "warnings": dict,
}


def load_settings(path: Path | None = None) -> Settings:
    """Read the config file if there is one; a missing file is simply no settings."""
    path = path or config_file()
    settings = Settings()
    if not path.exists():
        return settings
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}:1: cannot read config: {exc}") from None
    try:
        data = parse_toml(text, str(path))
    except ContentError as exc:
        raise ConfigError(str(exc)) from None
    lines = KeyLines(text)
    for key, value in data.items():
        expected = _KNOWN.get(key)
        if expected is None:
            raise ConfigError(str(Problem(str(path), lines.line(key), f"unknown setting {key!r}")))
        if not isinstance(value, expected):
            message = f"{key} must be a {expected.__name__}"
            raise ConfigError(str(Problem(str(path), lines.line(key), message)))
        setattr(settings, key, value)
    if settings.lang not in (None, "zh", "en"):
        raise ConfigError(str(Problem(str(path), lines.line("lang"), 'lang must be "zh" or "en"')))
    settings.source = str(path)
    return settings


def resolve_store(cli_value: str | None, settings: Settings | None = None) -> str:
    if cli_value:
        return cli_value
    env = os.environ.get("CS_TUI_DB")
    if env:
        return env
    if settings and settings.db:
        return settings.db
    return str(default_store_path())


def resolve_agent(cli_value: str | None, settings: Settings | None = None) -> str:
    handle = cli_value or os.environ.get("CS_TUI_AGENT") or (settings.agent if settings else None)
    return (handle or login_name()).strip()


def resolve_lang(cli_value: str | None, settings: Settings | None = None) -> str:
    if cli_value:
        return cli_value
    if os.environ.get("CS_TUI_LANG"):
        return "zh" if os.environ["CS_TUI_LANG"].lower().startswith("zh") else "en"
    if settings and settings.lang:
        return settings.lang
    return locale_language()
