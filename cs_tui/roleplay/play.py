"""Playing a scenario against a store: the small steps the screens and commands share.

These functions take an open store (``cs_tui.data.store.Store``) and do one thing each: read a
session's transcript, let the scripted customer say what is due, score, finish. They hold no
state, so the solo workstation, the trainer's screen and the command line behave the same.
Nothing here imports Textual or writes SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cs_tui.roleplay.engine import Line, customer_done, due_turn, time_left
from cs_tui.roleplay.scenario import Scenario, ScenarioError, find_scenario
from cs_tui.roleplay.scoring import Rubric, Scorecard, score

if TYPE_CHECKING:
    from cs_tui.config import Settings
    from cs_tui.data.store import Store
    from cs_tui.data.training_store import TrainingSessionView
    from cs_tui.data.views import AgentInfo

__all__ = [
    "TickResult",
    "TranscriptError",
    "audit_conversation",
    "finish",
    "read_transcript",
    "session_card",
    "session_scenario",
    "tick",
    "transcript",
]


class TranscriptError(ValueError):
    """A transcript file that cannot be scored; the message reads ``file:line: reason``."""


def transcript(store: Store, conversation_id: int) -> list[Line]:
    """A stored conversation as transcript lines, scripted turns marked."""
    return [
        Line(m.author_kind, m.body, m.sent_at, turn, m.id)
        for m, turn in store.training_messages(conversation_id)
    ]


def session_conversation(session: TrainingSessionView) -> int:
    """The session's conversation. Store.start_session makes the two together; a session
    without one cannot be played or scored, which is said as a store refusal."""
    if session.conversation_id is None:
        from cs_tui.data.errors import NotFound

        raise NotFound(code="no_session", session_id=session.id)
    return session.conversation_id


def session_scenario(session: TrainingSessionView, settings: Settings | None = None) -> Scenario:
    """The scenario a session was played from (by id, as the store recorded it)."""
    return find_scenario(session.scenario_id, settings)


def _info(session: TrainingSessionView) -> dict[str, Any]:
    return {
        "session": session.id,
        "trainee": session.trainee,
        "trainer": session.trainer,
        "mode": session.mode,
        "conversation": session.conversation_id,
        "started_at": session.started_at.isoformat(),
        "ended_at": session.ended_at.isoformat() if session.ended_at else None,
    }


def session_card(
    store: Store, session: TrainingSessionView, scenario: Scenario, *, now: datetime | None = None
) -> Scorecard:
    """The scorecard of a session as it stands (``now``: the moment it ends or is looked at)."""
    conversation_id = session_conversation(session)
    lines = transcript(store, conversation_id)
    escalated_at = store.conversation(conversation_id, message_limit=1).escalated_at
    card = score(
        lines,
        Rubric.for_scenario(scenario),
        ended_at=now or store.clock.now(),
        escalated_at=escalated_at,
    )
    return replace(card, info=_info(session))


@dataclass(frozen=True)
class TickResult:
    said: str | None = None
    """The turn the customer just said, if any."""
    expired: bool = False
    """The session's time limit has passed."""
    done: bool = False
    """The customer has finished (a turn that ends the conversation was said)."""


def tick(
    store: Store,
    session: TrainingSessionView,
    scenario: Scenario,
    *,
    actor: AgentInfo | None = None,
    now: datetime | None = None,
) -> TickResult:
    """One step of the scripted customer: say the turn that is due, if any."""
    now = now or store.clock.now()
    conversation_id = session_conversation(session)
    lines = transcript(store, conversation_id)
    if time_left(scenario, session.started_at, now) <= 0:
        return TickResult(expired=True, done=customer_done(scenario, lines))
    turn = due_turn(scenario, lines, now)
    if turn is None:
        return TickResult(done=customer_done(scenario, lines))
    posted = store.post_turn(conversation_id, turn.id, turn.say, actor=actor)
    return TickResult(said=turn.id if posted is not None else None, done=turn.ends)


def finish(
    store: Store,
    session: TrainingSessionView,
    scenario: Scenario,
    *,
    actor: AgentInfo | None = None,
) -> tuple[TrainingSessionView, dict[str, Any]]:
    """Score the session now and store the scorecard; returns (session view, scorecard dict).

    If the session had already been finished (by the other side of a live pair), the stored
    scorecard is returned unchanged."""
    current = store.session(session.id)
    if current.finished:
        return current, current.scorecard
    now = store.clock.now()
    card = session_card(store, current, scenario, now=now).to_json()
    card["info"]["ended_at"] = now.isoformat()
    view = store.finish_session(session.id, card, card["total"], card["max"], actor=actor)
    return view, view.scorecard


def audit_conversation(
    store: Store, conversation_id: int, scenario: Scenario | None = None
) -> Scorecard:
    """Score a stored conversation: with a scenario's rubric when given (or when it was a
    role-play session of a scenario that still exists), else with the default audit rubric."""
    detail = store.conversation(conversation_id, message_limit=5000)
    if scenario is None and detail.training:
        session = store.session_for_conversation(conversation_id)
        if session is not None:
            try:
                scenario = find_scenario(session.scenario_id)
            except ScenarioError:
                scenario = None
    if scenario is not None:
        rubric = Rubric.for_scenario(scenario)
    else:
        rubric = Rubric.default(category=detail.row.category, title=detail.row.external_id)
    lines = transcript(store, conversation_id)
    card = score(lines, rubric, escalated_at=detail.escalated_at)
    info = {
        "conversation": detail.row.external_id,
        "agent": detail.row.assignee,
        "category": detail.row.category,
    }
    return replace(card, info=info)


def read_transcript(path: str | Path, conversation: str | None = None) -> list[Line]:
    """Transcript lines from a JSONL file in the project's message format (one conversation;
    ``conversation`` picks one when the file holds several). TranscriptError names file:line."""
    from cs_tui.jsonl_lines import LineError, check_raw

    path = Path(path)
    try:
        raw_lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise TranscriptError(f"{path}:1: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TranscriptError(f"{path}:1: cannot read: {exc}") from None
    records = []
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            continue
        try:
            record = check_raw(raw)
        except LineError as exc:
            raise TranscriptError(f"{path}:{number}: {exc}") from None
        records.append((number, record))
    conversations = list(dict.fromkeys(r.conversation_id for _n, r in records))
    if conversation is not None:
        records = [(n, r) for n, r in records if r.conversation_id == conversation]
        if not records:
            raise TranscriptError(f"{path}:1: no messages of conversation {conversation!r}")
    elif len(conversations) > 1:
        shown = ", ".join(conversations[:5])
        raise TranscriptError(
            f"{path}:1: holds {len(conversations)} conversations ({shown}); "
            "pick one with --conversation"
        )
    if not records:
        raise TranscriptError(f"{path}:1: no messages")
    return [Line(r.author, r.text, r.sent_at, None, n) for n, r in records]
