"""Pinyin search keys: computed once when a phrase or article is written, stored, then only read.

pypinyin costs about 55 MB and a noticeable pause on import, and ~150 µs per short string, so it
is imported lazily, on the first string that actually holds Chinese characters, and its results
are meant to be stored (`kb_article.search_keys`) rather than recomputed at every start.

Key format (version 1), one line::

    py1 TuiKuanDaoZhang ShouHou

Each word after the version tag is one run of consecutive Chinese characters from the title or a
tag, spelled in toneless pinyin with the first letter of every syllable in upper case. Lower-cased,
a run is the full pinyin ("tuikuandaozhang"); its capitals are the initials ("tkdz"), and a capital
marks a syllable boundary, so a full-pinyin match can be required to start on a syllable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

VERSION_TAG = "py1"

# Han ideographs (basic, extension A, compatibility); the chars pypinyin can spell.
HAN_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def has_han(text: str) -> bool:
    return HAN_RUN_RE.search(text) is not None


@lru_cache(maxsize=4096)
def _spell_run(run: str) -> str:
    from pypinyin import Style, lazy_pinyin  # lazy: heavy import, see module docstring

    syllables = lazy_pinyin(run, style=Style.NORMAL, errors="ignore", v_to_u=False)
    return "".join(s[:1].upper() + s[1:].lower() for s in syllables if s.isascii() and s.isalpha())


def make_keys(texts: Iterable[str]) -> str:
    """The search-key line for an entry, from its title and tags (or any short texts).

    Returns "" when none of the texts holds a Chinese character, without importing pypinyin.
    """
    runs: list[str] = []
    for text in texts:
        if not text:
            continue
        for match in HAN_RUN_RE.finditer(text):
            spelled = _spell_run(match.group())
            if spelled and spelled not in runs:
                runs.append(spelled)
    if not runs:
        return ""
    return " ".join([VERSION_TAG, *runs])


def parse_keys(keys: str) -> list[str] | None:
    """The pinyin runs of a stored key line, or None when it is not in a format we know."""
    if not keys:
        return []
    parts = keys.split()
    if not parts or parts[0] != VERSION_TAG:
        return None
    return [p for p in parts[1:] if p.isascii() and p.isalpha()]


_DROP_LOWER = str.maketrans("", "", "abcdefghijklmnopqrstuvwxyz")


def initials(run: str) -> str:
    """'TuiKuan' -> 'tk'."""
    return run.translate(_DROP_LOWER).lower()
