"""The scripted customer: given the transcript so far and the time, which turn is said next.

Pure functions over plain values; the solo workstation asks once a second, the trainer's screen
asks to show what is about to happen. Each turn is said at most once; which turns were said is
read from the transcript itself (a scripted message carries its turn id), so two processes on one
store agree without sharing memory.

- A **silence** turn fires when the customer has waited ``seconds`` without an answer, counted
  from the first customer message the agent has not answered yet (or from the moment the turn
  became possible through ``after``, if later).
- A **reply** turn reacts to what the agent wrote since the customer last spoke: it fires when
  those replies contain one of ``contains`` and none of ``lacks`` (either may be empty), ``delay``
  seconds after the agent's last reply. The customer answers a batch of replies once: after one
  reply turn fires, the others wait for the agent's next reply.
- ``after`` makes a turn wait for another; ``until`` retires it once another was said (a first
  reaction that would make no sense later in the conversation).
- When several turns could fire, the one written first in the file wins; one turn per call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cs_tui.roleplay.scenario import Pattern, Scenario, Turn
from cs_tui.roleplay.scoring import has_element
from cs_tui.roleplay.transcript import Line, lines_from_messages

__all__ = [
    "Line",
    "TurnState",
    "customer_done",
    "due_turn",
    "lines_from_messages",
    "said_turns",
    "time_left",
    "turn_states",
    "waiting_since",
]


def conversational(lines: Sequence[Line]) -> list[Line]:
    """Customer and agent messages in time order (notes and system lines are not talk)."""
    talk = [line for line in lines if line.author in ("customer", "agent")]
    return sorted(talk, key=lambda line: line.at)  # stable: equal times keep their order


def said_turns(lines: Sequence[Line]) -> set[str]:
    return {line.turn for line in lines if line.turn}


def waiting_since(lines: Sequence[Line]) -> datetime | None:
    """When the customer started waiting: the first customer message after the agent's last
    reply, or None when nothing is unanswered."""
    since = None
    for line in conversational(lines):
        if line.author == "agent":
            since = None
        elif since is None:
            since = line.at
    return since


def _unanswered_block(talk: list[Line]) -> list[Line]:
    """The agent's replies since the customer last spoke."""
    block: list[Line] = []
    for line in talk:
        if line.author == "customer":
            block = []
        else:
            block.append(line)
    return block


def _pattern_hit(pattern: Pattern, text: str, lang: str | None) -> bool:
    if pattern.element is not None:
        return has_element(pattern.element, text, lang)
    assert pattern.regex is not None
    return pattern.regex.search(text) is not None


def reply_matches(turn: Turn, replies: Sequence[str], lang: str | None = None) -> bool:
    """Whether these agent replies set off a reply turn."""
    if turn.contains and not any(
        _pattern_hit(p, text, lang) for p in turn.contains for text in replies
    ):
        return False
    return not any(_pattern_hit(p, text, lang) for p in turn.lacks for text in replies)


def _said_at(lines: Sequence[Line], turn_id: str) -> datetime | None:
    times = [line.at for line in lines if line.turn == turn_id]
    return min(times) if times else None


def due_turn(scenario: Scenario, lines: Sequence[Line], now: datetime) -> Turn | None:
    """The scripted turn the customer says now, or None."""
    for state in turn_states(scenario, lines, now):
        if state.state == "ready":
            return state.turn
    return None


@dataclass(frozen=True)
class TurnState:
    turn: Turn
    state: str
    """said | ready | soon | waiting | blocked (its ``after`` is not said yet) | skipped (its
    ``until`` was said) | done (the customer has finished)"""
    due_in_s: float | None = None
    """soon: seconds until it fires if nothing changes."""


def turn_states(scenario: Scenario, lines: Sequence[Line], now: datetime) -> list[TurnState]:
    """Every turn with where it stands; at most one is ``ready`` (the first in file order)."""
    said = said_turns(lines)
    if customer_done(scenario, lines):
        return [TurnState(t, "said" if t.id in said else "done") for t in scenario.turns]
    talk = conversational(lines)
    waiting = waiting_since(talk)
    block = _unanswered_block(talk)
    texts = [line.text for line in block]
    out: list[TurnState] = []
    ready_seen = False
    for turn in scenario.turns:
        if turn.id in said:
            out.append(TurnState(turn, "said"))
            continue
        if turn.until and turn.until in said:
            out.append(TurnState(turn, "skipped"))
            continue
        after_at = None
        if turn.after:
            after_at = _said_at(lines, turn.after)
            if after_at is None:
                out.append(TurnState(turn, "blocked"))
                continue
        if turn.when == "silence":
            if waiting is None:
                out.append(TurnState(turn, "waiting"))
                continue
            since = max(waiting, after_at) if after_at else waiting
            left = turn.seconds - (now - since).total_seconds()
        else:
            if not block or (after_at is not None and block[0].at < after_at):
                out.append(TurnState(turn, "waiting"))
                continue
            if not reply_matches(turn, texts, scenario.lang):
                out.append(TurnState(turn, "waiting"))
                continue
            left = turn.seconds - (now - block[-1].at).total_seconds()
        if left > 0:
            out.append(TurnState(turn, "soon", left))
        elif ready_seen:
            out.append(TurnState(turn, "soon", 0.0))
        else:
            ready_seen = True
            out.append(TurnState(turn, "ready", 0.0))
    return out


def customer_done(scenario: Scenario, lines: Sequence[Line]) -> bool:
    """Whether the customer said a turn that ends the conversation."""
    said = said_turns(lines)
    return any(turn.ends and turn.id in said for turn in scenario.turns)


def time_left(scenario: Scenario, started_at: datetime, now: datetime) -> float:
    """Seconds left in the session (negative once the time limit has passed)."""
    return scenario.time_limit_s - (now - started_at).total_seconds()
