"""Placeholders (`{amount}`) in a quick reply's text: the one test of what is a blank.

Its own small module, apart from `cs_tui.phrases`, because the composer highlights blanks from
its first frame, while the phrase packs (and pinyin) load only after the queue is on screen.
The packs, the send check and the composer all ask here, so they never disagree.
"""

from __future__ import annotations

import re

VARIABLE_RE = re.compile(r"\{([^{}\n]*)\}")
"""Anything in braces on one line; a variable when its inside is a NAME_RE name."""
NAME_RE = re.compile(r"[a-z_][a-z0-9_]*\Z")


def placeholder_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of every ``{name}`` still in text, so the composer can jump to blanks."""
    return [
        (m.start(), m.end(), m.group(1))
        for m in VARIABLE_RE.finditer(text)
        if NAME_RE.match(m.group(1))
    ]
