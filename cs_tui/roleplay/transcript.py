"""A transcript line: one message, whatever it came from.

Its own module because both the scripted customer (`engine`) and the scorecard (`scoring`) read
transcripts, and the engine asks the scorecard's element detection whether a reply set off a
turn: with `Line` here, the dependency points one way (engine -> scoring -> transcript).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["Line", "lines_from_messages"]


@dataclass(frozen=True)
class Line:
    """One message of a transcript, whatever it came from (the store, a JSONL file)."""

    author: str  # customer | agent | note | system
    text: str
    at: datetime
    turn: str | None = None
    """The scripted turn this customer message was (``opening`` for the first one)."""
    ref: Any = None
    """Where it came from: the store's message id, or the line number in a JSONL file."""


def lines_from_messages(
    messages: Iterable[Any], turn_of: Callable[[Any], str | None] | None = None
) -> list[Line]:
    """Lines from the store's message views (``author_kind``, ``body``, ``sent_at``, ``id``).

    ``turn_of(message)`` names the scripted turn a message was, if any.
    """
    return [
        Line(
            m.author_kind,
            m.body,
            m.sent_at,
            turn_of(m) if turn_of else None,
            m.id,
        )
        for m in messages
    ]
