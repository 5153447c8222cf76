"""One toolkit for the content files teams edit: config, SLA policy, phrase packs, scenarios, rules.

Each of those loaders used to guess line numbers its own way; now they share these:

- ``parse_toml`` reads TOML and reports a syntax error at the line the parser itself names;
- ``KeyLines`` says on which line a table or key path is defined, so a problem points where the
  author has to look. When the path is not in the text it answers None: a made-up line number
  sends the author to the wrong place, so a problem without a known line prints none;
- ``Problem`` is one ``file:line: problem``, ``ContentError`` carries one that stops a load, and
  ``Problems`` collects a file's problems placed by data path (``"turn", 2, "say"``);
- ``decode_text`` and ``toml_files`` are the byte checks and folder expansion every loader needs.

What is left in each loader is what only it knows: its keys, its choices, its cross-field rules.

Standard library only, nothing here imports the rest of cs_tui.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ContentError",
    "KeyLines",
    "Problem",
    "Problems",
    "decode_text",
    "parse_toml",
    "toml_files",
]

KeyPath = tuple[str | int, ...]
_AT_LINE_RE = re.compile(r"\(at line (\d+), column \d+\)")
_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a content file; ``line`` is None when no line can be named honestly."""

    path: str
    line: int | None
    message: str

    @property
    def where(self) -> str:
        """``file:line``, or just ``file`` when the line is not known."""
        return self.path if self.line is None else f"{self.path}:{self.line}"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ContentError(ValueError):
    """A content file that cannot be used at all; ``str()`` reads ``file:line: problem``."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class Problems(list[Problem]):
    """The problems of one file, each placed by the file's key locator.

    ``add(message, "turn", 2, "say")`` puts a problem on the line of that key (or of the table
    around it); a validator says what is wrong and where in the data, never which line.
    """

    def __init__(self, source: str, lines: KeyLines) -> None:
        super().__init__()
        self.source = source
        self.lines = lines

    def add(self, message: str, *path: str | int) -> None:
        self.append(Problem(self.source, self.lines.near(*path) if path else None, message))

    def one_of(self, value: Any, allowed: Collection[str], what: str, *path: str | int) -> bool:
        """False (and a problem listing the choices) when ``value`` is not one of ``allowed``."""
        if value in allowed:
            return True
        self.add(f"unknown {what} {value!r} (one of: {', '.join(allowed)})", *path)
        return False


def toml_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, folders as the ``*.toml`` files directly in them (sorted)."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            out.extend(sorted(p for p in path.iterdir() if p.suffix == ".toml" and p.is_file()))
        else:
            out.append(path)
    return out


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """TOML text as a dict; a syntax error becomes a ContentError at the parser's own line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(
            Problem(source, _error_line(exc), f"not valid TOML: {_reason(exc)}")
        ) from None


def _error_line(exc: tomllib.TOMLDecodeError) -> int | None:
    """Python 3.14 gives ``lineno``; older versions only put it in the message."""
    lineno = getattr(exc, "lineno", None)
    if isinstance(lineno, int):
        return lineno
    found = _AT_LINE_RE.search(str(exc))
    return int(found.group(1)) if found else None


def _reason(exc: tomllib.TOMLDecodeError) -> str:
    msg = getattr(exc, "msg", None)
    return msg if isinstance(msg, str) else str(exc).split(" (at ")[0]


def decode_text(raw: bytes, source: str, *, max_bytes: int, size_text: str, what: str) -> str:
    """Bytes of a content file as text, or a ContentError saying why it is not a text file."""
    if len(raw) > max_bytes:
        raise ContentError(Problem(source, 1, f"larger than {size_text}"))
    if b"\x00" in raw:
        raise ContentError(Problem(source, 1, f"a binary file, not {what}"))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContentError(
            Problem(source, raw[: exc.start].count(b"\n") + 1, "not UTF-8 text")
        ) from None


# --------------------------------------------------------------------------- the key locator


class KeyLines:
    """Where each table and key of a TOML text is defined.

    Paths are the keys as the parsed dict nests them, with the index of an array-of-tables
    element: ``("phrase", 3, "shortcut")`` is the shortcut of the fourth ``[[phrase]]``. A table
    path gives its header line; a key path the line of its ``key =``. Only called on text that
    ``parse_toml`` accepted, so the scanner can be simple about syntax.
    """

    def __init__(self, text: str) -> None:
        self._lines: dict[KeyPath, int] = {}
        self._arrays: dict[KeyPath, int] = {}  # array-of-tables path -> elements seen so far
        self._scan(text)

    def line(self, *path: str | int) -> int | None:
        """The line that defines ``path``, or None when the text does not define it."""
        return self._lines.get(tuple(path))

    def near(self, *path: str | int) -> int | None:
        """The line of ``path``, else of the nearest table around it that the text defines.

        For a key that is missing from a table, the table's header is where it belongs.
        """
        for end in range(len(path), 0, -1):
            found = self._lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return None

    def _record(self, path: KeyPath, number: int) -> None:
        for end in range(1, len(path) + 1):
            self._lines.setdefault(path[:end], number)

    def _resolve(self, keys: list[str]) -> KeyPath:
        """Header keys as a path: inside an array of tables, the path goes into its last element."""
        path: KeyPath = ()
        for key in keys:
            path += (key,)
            if path in self._arrays:
                path += (self._arrays[path] - 1,)
        return path

    def _scan(self, text: str) -> None:
        table: KeyPath = ()
        scanner = _ValueScanner()
        for number, line in enumerate(text.splitlines(), start=1):
            if scanner.busy:
                scanner.feed(line)
                continue
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if stripped.startswith("[["):
                keys = _split_key(stripped[2 : _find_outside_quotes(stripped, "]", start=2)])
                if not keys:
                    continue
                parent = self._resolve(keys[:-1]) + (keys[-1],)
                index = self._arrays.get(parent, 0)
                self._arrays[parent] = index + 1
                table = parent + (index,)
                self._record(table, number)
            elif stripped.startswith("["):
                table = self._resolve(_split_key(_header_body(stripped)))
                self._record(table, number)
            else:
                key_text, value = _split_assignment(stripped)
                if key_text is None:
                    continue
                self._record(table + tuple(_split_key(key_text)), number)
                scanner.feed(value)


def _header_body(stripped: str) -> str:
    """The key inside ``[ ... ]``, with a quoted ``]`` taken as part of the key."""
    end = _find_outside_quotes(stripped, "]", start=1)
    return stripped[1:end]


def _split_assignment(stripped: str) -> tuple[str | None, str]:
    at = _find_outside_quotes(stripped, "=")
    if at == len(stripped):
        return None, ""
    return stripped[:at], stripped[at + 1 :]


def _find_outside_quotes(text: str, char: str, start: int = 0) -> int:
    """Index of ``char`` outside quoted keys (len(text) when there is none)."""
    quote = ""
    at = start
    while at < len(text):
        c = text[at]
        if quote:
            if c == "\\" and quote == '"':
                at += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == char:
            return at
        at += 1
    return len(text)


def _split_key(key_text: str) -> list[str]:
    """A dotted key as its parts: ``a."b.c".d`` -> a, b.c, d."""
    parts: list[str] = []
    rest = key_text.strip()
    while rest:
        if rest[0] in "\"'":
            end = _closing(rest) if rest[0] == '"' else _literal_end(rest)
            raw = rest[1:end]
            parts.append(_unescape(raw) if rest[0] == '"' else raw)
            rest = rest[end + 1 :].strip()
        else:
            found = _BARE_KEY_RE.match(rest)
            if not found:
                break
            parts.append(found.group(0))
            rest = rest[found.end() :].strip()
        rest = rest[1:].strip() if rest.startswith(".") else ""
    return parts


def _literal_end(rest: str) -> int:
    found = rest.find("'", 1)
    return len(rest) if found < 0 else found


def _closing(rest: str) -> int:
    """Index of the quote that closes the basic string opening ``rest``."""
    at = 1
    while at < len(rest) and rest[at] != '"':
        at += 2 if rest[at] == "\\" else 1
    return min(at, len(rest))


def _unescape(raw: str) -> str:
    try:
        return tomllib.loads(f'k = "{raw}"')["k"]
    except tomllib.TOMLDecodeError:
        return raw


class _ValueScanner:
    """Follows a value over lines: multi-line strings and arrays hide lines that look like keys."""

    def __init__(self) -> None:
        self.depth = 0
        self.string = ""  # the open multi-line delimiter, if any

    @property
    def busy(self) -> bool:
        return bool(self.depth or self.string)

    def feed(self, text: str) -> None:
        at = 0
        while at < len(text):
            if self.string:
                at = self._close_multiline(text, at)
                continue
            c = text[at]
            if text.startswith(('"""', "'''"), at):
                self.string = text[at : at + 3]
                at += 3
            elif c in "\"'":
                at = self._skip_string(text, at)
            elif c == "#":
                return
            else:
                self.depth += (c in "[{") - (c in "]}")
                at += 1

    def _close_multiline(self, text: str, at: int) -> int:
        while at < len(text):
            if self.string == '"""' and text[at] == "\\":
                at += 2
                continue
            if text.startswith(self.string, at):
                self.string = ""
                return at + 3
            at += 1
        return at

    @staticmethod
    def _skip_string(text: str, at: int) -> int:
        quote = text[at]
        at += 1
        while at < len(text) and text[at] != quote:
            at += 2 if quote == '"' and text[at] == "\\" else 1
        return at + 1
