"""The one way untrusted text (customer messages, imported files, packs) reaches the screen.

Customer text is stored exactly as received. For display it is never parsed as Textual or Rich
markup, control and escape characters become visible symbols (ESC and C1 controls would otherwise
reach the real terminal: clipboard writes, screen clears, hyperlinks), and very long text is cut
with a note saying how much is hidden.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

# C0 controls except tab and newline, DEL, and the C1 range.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Bidirectional overrides can make text read differently from what was sent.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# Whole terminal sequences (7- and 8-bit CSI, terminated OSC/DCS/APC/PM strings, two-character
# escapes): text bound for the composer loses them entirely rather than keeping "[2J"-like
# remnants. A string with no terminator loses only its introducer, never the text after it.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -~]?"
)
DISPLAY_LIMIT = 4000


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␛ for ESC, ␀ for NUL ...
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"


def clean(text: str, *, single_line: bool = False) -> str:
    """Control characters made visible; with single_line, newlines and tabs become spaces."""
    if single_line:
        text = text.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
        text = _SINGLE_LINE.sub(_visible, text)
    else:
        text = text.replace("\r\n", "\n")
        text = _CONTROL.sub(_visible, text)
    return _BIDI.sub("\ufffd", text)


def truncate(text: str, limit: int = DISPLAY_LIMIT) -> tuple[str, int]:
    """The first `limit` characters and how many were left out."""
    if len(text) <= limit:
        return text, 0
    return text[:limit], len(text) - limit


def safe(
    text: str, *, style: str = "", single_line: bool = False, limit: int | None = None
) -> Text:
    """A Rich Text that renders `text` literally: markup-looking brackets stay brackets."""
    from rich.text import Text  # here: commands that print plain text or JSON never need Rich

    text = clean(text or "", single_line=single_line)
    hidden = 0
    if limit is not None:
        text, hidden = truncate(text, limit)
    result = Text(
        text, style=style, no_wrap=single_line, overflow="ellipsis" if single_line else "fold"
    )
    if hidden:
        result.append(f" … (+{hidden:,})", style="dim italic")
    return result


def one_line(text: str | None, limit: int | None = None) -> str:
    """A stored name, id, handle or code as plain text for one line of a label or a toast.

    The result still has to be drawn literally (Text, Content or markup=False): this only makes
    sure no control character survives, whatever the caller does with brackets.
    """
    text = clean(text or "", single_line=True)
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    return text


def for_composer(text: str) -> str:
    """Text from a phrase, a filled-in blank or an article, about to be put into a reply.

    What goes in is what the customer will get, so escape sequences and control characters are
    dropped, not shown as symbols (newlines and tabs stay); direction overrides go too.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SEQUENCE.sub("", text)
    text = _CONTROL.sub("", text)
    return _BIDI.sub("", text)


def terminal_safe(text: str) -> str:
    """For plain printing on the command line: escape codes shown, never executed."""
    return _CONTROL.sub(_visible, text.replace("\r\n", "\n"))
