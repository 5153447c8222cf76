"""Role-play sessions in the store: start, play (scripted turns), finish with a scorecard.

A session is a training conversation (``Conversation.training``: out of the normal queues and
the team's KPIs) assigned to the trainee, plus a ``training_session`` row. The customer's
scripted messages carry their turn in the message's external id (``rp<conversation>.<turn>``),
so every process reading the transcript knows which turns were said, and the unique external id
makes "each turn at most once" hold even when the trainee's app and the trainer's both try.

Who may do what: anyone may train themselves (solo); a live session is started by a trainer or
a supervisor for a trainee; the trainee, the session's trainer and supervisors may finish it and
read its scorecard.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cs_tui.data.actions import ActionsMixin
from cs_tui.data.errors import InvalidInput, NotAllowed, NotFound
from cs_tui.data.ingest import IngestMixin
from cs_tui.data.tables import AGENT, CONV, CUST, MSG, SESSION
from cs_tui.data.views import AgentInfo, MessageView

TRAINEE = AGENT.alias("trainee")
TRAINER = AGENT.alias("trainer")

MODES = ("solo", "live")
TRAINERS = ("trainer", "supervisor")
TURN_PREFIX = "rp"


def turn_external_id(conversation_id: int, turn_id: str) -> str:
    return f"{TURN_PREFIX}{conversation_id}.{turn_id}"


def turn_of(message: Any) -> str | None:
    """The scripted turn a stored message was (its external id), or None."""
    ext = getattr(message, "external_id", None)
    if ext is None or message.author_kind != "customer":
        return None
    head, dot, turn = ext.partition(".")
    if not dot or not head.startswith(TURN_PREFIX):
        return None
    if head[len(TURN_PREFIX) :] != str(message.conversation_id):
        return None
    return turn or None


@dataclass(frozen=True)
class TrainingSessionView:
    """A role-play session: who, which scenario, when, and its scorecard once finished."""

    id: int
    scenario_id: str
    scenario_title: str
    mode: str
    trainee: str
    trainer: str | None
    conversation_id: int | None
    started_at: datetime
    ended_at: datetime | None
    total: float | None
    max_points: float | None
    scorecard: dict

    @property
    def finished(self) -> bool:
        return self.ended_at is not None

    @property
    def percent(self) -> float | None:
        if self.total is None or not self.max_points:
            return None
        return round(100.0 * self.total / self.max_points, 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "session": self.id,
            "scenario": self.scenario_id,
            "title": self.scenario_title,
            "mode": self.mode,
            "trainee": self.trainee,
            "trainer": self.trainer,
            "conversation_id": self.conversation_id,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "total": self.total,
            "max": self.max_points,
            "percent": self.percent,
        }


def _session_select() -> sa.Select[Any]:
    trainee, trainer = TRAINEE, TRAINER
    return sa.select(
        SESSION.c.id,
        SESSION.c.scenario_id,
        SESSION.c.scenario_title,
        SESSION.c.mode,
        trainee.c.handle.label("trainee"),
        trainer.c.handle.label("trainer"),
        SESSION.c.conversation_id,
        SESSION.c.started_at,
        SESSION.c.ended_at,
        SESSION.c.total,
        SESSION.c.max_points,
        SESSION.c.scorecard,
    ).select_from(
        SESSION.join(trainee, trainee.c.id == SESSION.c.trainee_id).outerjoin(
            trainer, trainer.c.id == SESSION.c.trainer_id
        )
    )


def _view(row: Any) -> TrainingSessionView:
    return TrainingSessionView(
        row.id,
        row.scenario_id,
        row.scenario_title,
        row.mode,
        row.trainee,
        row.trainer,
        row.conversation_id,
        row.started_at,
        row.ended_at,
        row.total,
        row.max_points,
        dict(row.scorecard or {}),
    )


def _require_training(conn: Connection, conversation_id: int, refusal: str) -> None:
    """Refuse (with the code `refusal`) unless the conversation is a role-play one."""
    training = conn.execute(sa.select(CONV.c.training).where(CONV.c.id == conversation_id)).scalar()
    if training is None:
        raise NotFound(code="no_conversation", conversation_id=conversation_id)
    if not training:
        raise NotAllowed(code=refusal)


class TrainingStoreMixin(ActionsMixin, IngestMixin):
    # -- starting -------------------------------------------------------------------------

    def start_session(
        self,
        trainee: AgentInfo,
        scenario: Any,
        mode: str = "solo",
        trainer: AgentInfo | None = None,
    ) -> TrainingSessionView:
        """A new session on a new training conversation assigned to the trainee.
        ``scenario`` is a ``cs_tui.roleplay.Scenario``.

        Solo: the customer has said the scenario's opening, and the clock runs. Live: nothing
        is said and no clock runs until the trainee joins (``join_session``), so the minutes a
        trainee takes to open the session count neither against the time limit nor against the
        first reply."""
        if mode not in MODES:
            raise InvalidInput(code="unknown_mode", mode=mode)
        if not trainee.active:
            raise NotAllowed(code="agent_disabled", handle=trainee.handle)
        if mode == "live":
            if trainer is None:
                raise InvalidInput(code="live_needs_trainer")
            if trainer.role not in TRAINERS or not trainer.active:
                raise NotAllowed(code="trainer_runs_live")
            if trainer.id == trainee.id:
                raise InvalidInput(code="trainer_not_trainee")
        token = secrets.token_hex(4)
        persona = scenario.persona
        conversation_id = self.create_conversation(
            external_id=f"roleplay-{scenario.id}-{token}"[:200],
            customer_handle=f"roleplay-{token}",
            customer_name=persona.name,
            channel=scenario.channel,
            category=scenario.category,
            priority=getattr(scenario, "priority", "normal"),
            training=True,
            assignee=trainee,
            actor=trainer or trainee,
        )
        now = self.clock.now()
        with self._write() as conn:
            conn.execute(
                sa.update(CUST)
                .where(CUST.c.handle == f"roleplay-{token}")
                .values(tier=persona.tier)
            )
            session_id = conn.execute(
                sa.insert(SESSION)
                .values(
                    scenario_id=scenario.id[:100],
                    scenario_title=scenario.title[:300],
                    mode=mode,
                    trainee_id=trainee.id,
                    trainer_id=trainer.id if trainer else None,
                    conversation_id=conversation_id,
                    started_at=now,
                    scorecard={},
                )
                .returning(SESSION.c.id)
            ).scalar_one()
            self._event(
                conn,
                (trainer or trainee).id,
                "training_started",
                conversation_id,
                {
                    "session": session_id,
                    "scenario": scenario.id,
                    "mode": mode,
                    "trainee": trainee.handle,
                },
            )
        if mode == "solo":
            self.post_turn(conversation_id, "opening", scenario.opening, actor=trainee)
        return self.session(session_id)

    def join_session(
        self, session_id: int, scenario: Any, trainee: AgentInfo
    ) -> TrainingSessionView:
        """The trainee opens a live session: the first time, the customer says the opening and
        the session's clock starts now (``started_at`` moves to the opening's time). Joining
        again (a resumed app, a second terminal) changes nothing: the opening is said once,
        whoever tries (its external id is unique)."""
        view = self.session(session_id)
        if view.trainee != trainee.handle:
            raise NotAllowed(code="session_not_yours")
        if view.finished or view.mode != "live":
            return view
        conversation_id = view.conversation_id
        if conversation_id is None:
            raise NotFound(code="no_session", session_id=session_id)
        opening = self.post_turn(conversation_id, "opening", scenario.opening, actor=trainee)
        if opening is None:
            return view  # joined before
        with self._write() as conn:
            conn.execute(
                sa.update(SESSION)
                .where(SESSION.c.id == session_id)
                .values(started_at=opening.sent_at)
            )
            self._event(
                conn, trainee.id, "training_joined", conversation_id, {"session": session_id}
            )
        return self.session(session_id)

    # -- playing --------------------------------------------------------------------------

    def post_turn(
        self, conversation_id: int, turn_id: str, body: str, *, actor: AgentInfo | None = None
    ) -> MessageView | None:
        """The scripted customer says a turn; None when that turn was already said."""
        ext = turn_external_id(conversation_id, turn_id)
        with self._read() as conn:
            _require_training(conn, conversation_id, "scripted_training_only")
            if conn.execute(sa.select(MSG.c.id).where(MSG.c.external_id == ext)).first():
                return None
        try:
            return self.post_customer_message(conversation_id, body, external_id=ext, actor=actor)
        except sa.exc.IntegrityError:
            return None  # another process said it a moment earlier

    def post_as_customer(self, trainer: AgentInfo, conversation_id: int, body: str) -> MessageView:
        """The trainer types as the customer (live mode)."""
        if trainer.role not in TRAINERS or not trainer.active:
            raise NotAllowed(code="trainer_speaks")
        body = self._check_body(body)
        with self._read() as conn:
            _require_training(conn, conversation_id, "trainer_speaks_training_only")
        return self.post_customer_message(conversation_id, body, actor=trainer)

    def training_messages(self, conversation_id: int) -> list[tuple[MessageView, str | None]]:
        """The whole transcript (oldest first) with the scripted turn of each message."""
        detail = self.conversation(conversation_id, message_limit=5000)
        return [(m, turn_of(m)) for m in detail.messages]

    # -- finishing ------------------------------------------------------------------------

    def _may_see(self, actor: AgentInfo | None, view: TrainingSessionView) -> None:
        if actor is None:
            return  # the command line on the store's own host, e.g. exports
        if actor.role == "supervisor" or actor.handle in (view.trainee, view.trainer):
            return
        if actor.role == "trainer":
            return
        raise NotAllowed(code="session_not_yours")

    def finish_session(
        self,
        session_id: int,
        scorecard: dict,
        total: float,
        max_points: float,
        *,
        actor: AgentInfo | None = None,
    ) -> TrainingSessionView:
        """End a session with its scorecard and close its conversation. Finishing twice keeps
        the first scorecard (the trainer and the trainee may both press the key)."""
        view = self.session(session_id)
        if (
            actor is not None
            and actor.role != "supervisor"
            and actor.handle
            not in (
                view.trainee,
                view.trainer,
            )
        ):
            raise NotAllowed(code="session_end_not_allowed")
        now = self.clock.now()
        with self._write() as conn:
            done = conn.execute(
                sa.update(SESSION)
                .where(SESSION.c.id == session_id, SESSION.c.ended_at.is_(None))
                .values(
                    ended_at=now,
                    total=float(total),
                    max_points=float(max_points),
                    scorecard=scorecard,
                )
            ).rowcount
            if done and view.conversation_id is not None:
                before = self._lock(conn, view.conversation_id)
                row = dict(before)
                if row["status"] not in ("closed",):
                    row["status"] = "closed"
                    row["active"] = False
                    row["resolved_at"] = row.get("resolved_at") or now
                    self._save(conn, before, row, now)
            if done:
                self._event(
                    conn,
                    actor.id if actor else None,
                    "training_finished",
                    view.conversation_id,
                    {"session": session_id, "total": total, "max": max_points},
                )
        return self.session(session_id)

    # -- reading --------------------------------------------------------------------------

    def session(self, session_id: int, *, viewer: AgentInfo | None = None) -> TrainingSessionView:
        with self._read() as conn:
            row = conn.execute(_session_select().where(SESSION.c.id == session_id)).first()
        if row is None:
            raise NotFound(code="no_session", session_id=session_id)
        view = _view(row)
        self._may_see(viewer, view)
        return view

    def session_for_conversation(self, conversation_id: int) -> TrainingSessionView | None:
        with self._read() as conn:
            row = conn.execute(
                _session_select()
                .where(SESSION.c.conversation_id == conversation_id)
                .order_by(SESSION.c.id.desc())
                .limit(1)
            ).first()
        return _view(row) if row is not None else None

    def open_session_for(self, trainee_handle: str) -> TrainingSessionView | None:
        """The trainee's newest unfinished session (what `roleplay join` opens)."""
        with self._read() as conn:
            row = conn.execute(
                _session_select()
                .where(TRAINEE.c.handle == trainee_handle, SESSION.c.ended_at.is_(None))
                .order_by(SESSION.c.started_at.desc(), SESSION.c.id.desc())
                .limit(1)
            ).first()
        return _view(row) if row is not None else None

    def sessions_for(self, trainee_handle: str, *, limit: int = 100) -> list[TrainingSessionView]:
        """A trainee's sessions, oldest first, for the trend."""
        with self._read() as conn:
            rows = conn.execute(
                _session_select()
                .where(TRAINEE.c.handle == trainee_handle)
                .order_by(SESSION.c.started_at.desc(), SESSION.c.id.desc())
                .limit(limit)
            ).all()
        return [_view(r) for r in reversed(rows)]
