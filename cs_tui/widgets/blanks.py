"""Blanks in a reply: the ``{amount}``-style placeholders a quick reply leaves for the agent.

The composer draws each blank highlighted and lets `tab` / `shift+tab` jump to the next or the
previous one, selecting it whole so that typing replaces it. A blank is whatever
`cs_tui.placeholders.placeholder_spans` calls one (the same test the send check uses to refuse a reply
with an unfilled blank), so the highlight, the jump and the refusal never disagree.

Offsets here are string indexes into the composer's text; the composer turns them into
(row, column) locations through its document.
"""

from __future__ import annotations

from cs_tui.placeholders import placeholder_spans

Span = tuple[int, int]


def blank_spans(text: str) -> list[Span]:
    """(start, end) of every blank in text, in order."""
    return [(start, end) for start, end, _name in placeholder_spans(text)]


def next_blank(text: str, selection: Span) -> Span | None:
    """The blank `tab` selects: the first one ending after the selection (the one the cursor is
    inside counts, the one already selected does not), wrapping round to the first."""
    spans = blank_spans(text)
    if not spans:
        return None
    after = max(selection)
    return next((span for span in spans if span[1] > after), spans[0])


def previous_blank(text: str, selection: Span) -> Span | None:
    """The blank `shift+tab` selects: the last one starting before the selection, wrapping
    round to the last."""
    spans = blank_spans(text)
    if not spans:
        return None
    before = min(selection)
    return next((span for span in reversed(spans) if span[0] < before), spans[-1])
