"""The team: agents, roles and presence; who may act at all.

An AgentInfo a caller holds is a snapshot: a workstation keeps the one it signed in with for
hours. Every permission check therefore reads the agent's row again inside the transaction that
acts (`_fresh`), so disabling or demoting someone takes effect on their next key press, not on
their next login.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cs_tui.data.core import StoreCore
from cs_tui.data.errors import InvalidInput, NotAllowed, NotFound
from cs_tui.data.tables import AGENT
from cs_tui.data.views import HANDLE_RE, ROLES, AgentInfo

ONLINE_WINDOW_S = 30


def agent_from_row(row: Any) -> AgentInfo:
    return AgentInfo(
        id=row.id,
        handle=row.handle,
        display_name=row.display_name,
        role=row.role,
        active=row.active,
        last_seen_at=row.last_seen_at,
    )


def check_handle(handle: str) -> str:
    handle = (handle or "").strip()
    if not HANDLE_RE.match(handle):
        raise InvalidInput(code="bad_handle", handle=handle)
    return handle


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(code="unknown_role", role=role, known=", ".join(ROLES))


def not_in_team(handle: str) -> NotAllowed:
    return NotAllowed(code="not_in_team", handle=handle)


def _supervisors(team: dict[int, tuple[str, bool]]) -> list[int]:
    return sorted(i for i, (role, active) in team.items() if role == "supervisor" and active)


class AgentsMixin(StoreCore):
    # -- reading the team ------------------------------------------------------------------

    def get_agent(self, handle: str) -> AgentInfo | None:
        with self._read() as conn:
            row = conn.execute(sa.select(AGENT).where(AGENT.c.handle == handle)).first()
        return agent_from_row(row) if row else None

    def _stored(self, handle: str) -> AgentInfo:
        """The agent as a write just left them (read after its transaction committed)."""
        agent = self.get_agent(handle)
        if agent is None:  # removed in between: agents are never deleted, so not expected
            raise NotFound(code="no_agent", handle=handle)
        return agent

    def agent_by_id(self, agent_id: int) -> AgentInfo:
        with self._read() as conn:
            row = conn.execute(sa.select(AGENT).where(AGENT.c.id == agent_id)).first()
        if row is None:
            raise NotFound(code="no_agent_id", agent_id=agent_id)
        return agent_from_row(row)

    def list_agents(
        self, *, include_disabled: bool = True, viewer: AgentInfo | None = None
    ) -> list[AgentInfo]:
        query = sa.select(AGENT).order_by(AGENT.c.handle)
        if not include_disabled:
            query = query.where(AGENT.c.active.is_(True))
        with self._read() as conn:
            if viewer is not None:
                self._active(conn, viewer)
            return [agent_from_row(r) for r in conn.execute(query)]

    def has_supervisor(self) -> bool:
        with self._read() as conn:
            return bool(self._supervisor_ids(conn, lock=False))

    # -- who is acting ---------------------------------------------------------------------

    def _fresh(self, conn: Connection, actor: AgentInfo) -> AgentInfo:
        """The actor as stored now, read in the caller's transaction."""
        row = conn.execute(sa.select(AGENT).where(AGENT.c.id == actor.id)).first()
        if row is None:
            raise not_in_team(actor.handle)
        return agent_from_row(row)

    def _active(self, conn: Connection, actor: AgentInfo | None) -> AgentInfo:
        """The actor as stored now, refused unless enabled: a disabled agent reads only their
        own audit log, so every other read and write goes through here."""
        if actor is None:
            raise NotAllowed(code="needs_agent")
        fresh = self._fresh(conn, actor)
        if not fresh.active:
            raise NotAllowed(code="disabled")
        return fresh

    def _supervisor_ids(self, conn: Connection, *, lock: bool) -> list[int]:
        """Ids of the active supervisors (locked until commit with `lock`: see _lock_team)."""
        if lock:
            return _supervisors(self._lock_team(conn))
        query = (
            sa.select(AGENT.c.id)
            .where(AGENT.c.role == "supervisor", AGENT.c.active.is_(True))
            .order_by(AGENT.c.id)
        )
        return list(conn.execute(query).scalars())

    def _lock_team(self, conn: Connection, *ids: int | None) -> dict[int, tuple[str, bool]]:
        """Role and active flag of the active supervisors and of `ids`, as committed now, their
        rows locked until this transaction ends.

        On PostgreSQL two supervisors disabling each other at once are then decided one after
        the other, on the rows as the first left them (SQLite's BEGIN IMMEDIATE already
        serialises writers). Every row a team change touches is locked here, in one statement
        and in id order: a row PostgreSQL locks and then drops from the result (it stopped
        matching) stays locked, and a later lock taken in another order would deadlock.
        """
        wanted = [i for i in ids if i is not None]
        cond = sa.and_(AGENT.c.role == "supervisor", AGENT.c.active.is_(True))
        if wanted:
            cond = sa.or_(cond, AGENT.c.id.in_(wanted))
        rows = conn.execute(
            sa.select(AGENT.c.id, AGENT.c.role, AGENT.c.active)
            .where(cond)
            .order_by(AGENT.c.id)
            .with_for_update()
        )
        return {r.id: (r.role, bool(r.active)) for r in rows}

    def sign_in(self, handle: str, *, audit_only: bool = False) -> AgentInfo:
        """The person running a command or a workstation.

        A handle the store has not seen is registered as a plain agent only while the team has no
        supervisor (the first run of a new store); after that joining the team is a supervisor's
        decision. A disabled agent is refused, except for reading their own audit log
        (`audit_only`).
        """
        handle = check_handle(handle)
        found = self.get_agent(handle) or self._register_first_use(handle)
        if not found.active and not audit_only:
            raise NotAllowed(code="disabled")
        return found

    def _register_first_use(self, handle: str) -> AgentInfo:
        with self._write() as conn:
            if self._supervisor_ids(conn, lock=True):
                raise not_in_team(handle)
            self._registered(conn, handle, None, "agent")
        return self._stored(handle)

    @overload
    def require_supervisor(self, actor: AgentInfo, what: str) -> AgentInfo: ...
    @overload
    def require_supervisor(self, actor: None, what: str) -> None: ...
    @overload
    def require_supervisor(self, actor: AgentInfo | None, what: str) -> AgentInfo | None: ...
    def require_supervisor(self, actor: AgentInfo | None, what: str) -> AgentInfo | None:
        """Refuse `what` unless the actor is an active supervisor, once the team has one.

        Commands whose data is the whole team's (export, importing the knowledge base, another
        agent's figures) call this before they start; `what` completes "only a supervisor may ...".
        """
        with self._read() as conn:
            fresh = self._active(conn, actor) if actor is not None else None
            supervisors = self._supervisor_ids(conn, lock=False)
        if supervisors and (fresh is None or fresh.id not in supervisors):
            raise NotAllowed(code="supervisor_only", what=what)
        return fresh

    # -- changing the team -----------------------------------------------------------------

    def ensure_agent(
        self, handle: str, display_name: str | None = None, role: str = "agent"
    ) -> AgentInfo:
        """The agent with this handle, registered on first use, whatever the team.

        For set-up code that is trusted with the store itself (seeds, tests, benchmarks); a person
        at a keyboard is identified through `sign_in`, which never lets a stranger in.
        """
        handle = check_handle(handle)
        existing = self.get_agent(handle)
        if existing is not None:
            return existing
        _check_role(role)
        with self._write() as conn:
            self._registered(conn, handle, display_name, role)
        return self._stored(handle)

    def _insert_agent(
        self, conn: Connection, handle: str, display_name: str | None, role: str
    ) -> int | None:
        """The new agent's id, or None when the handle is taken (a concurrent registration)."""
        insert = self._insert_fn()
        return conn.execute(
            insert(AGENT)
            .values(
                handle=handle,
                display_name=(display_name or handle)[:200],
                role=role,
                active=True,
                created_at=self.clock.now(),
            )
            .on_conflict_do_nothing(index_elements=["handle"])
            .returning(AGENT.c.id)
        ).scalar()

    def _registered(
        self, conn: Connection, handle: str, display_name: str | None, role: str
    ) -> None:
        new_id = self._insert_agent(conn, handle, display_name, role)
        if new_id is not None:
            self._event(conn, new_id, "agent_registered", None, {"handle": handle, "role": role})

    def _manager(
        self, conn: Connection, actor: AgentInfo | None, target_id: int | None = None
    ) -> dict[int, tuple[str, bool]]:
        """Lock the team (_lock_team) and check the actor is an active supervisor (anyone may
        set the team up while it has none). Returns the locked rows."""
        team = self._lock_team(conn, actor.id if actor else None, target_id)
        if actor is not None:
            if actor.id not in team:
                raise not_in_team(actor.handle)
            if not team[actor.id][1]:
                raise NotAllowed(code="disabled")
        supervisors = _supervisors(team)
        if supervisors and (actor is None or actor.id not in supervisors):
            raise NotAllowed(code="supervisor_manages")
        return team

    @staticmethod
    def _keep_a_supervisor(team: dict[int, tuple[str, bool]], target: AgentInfo) -> None:
        """Demoting or disabling the last active supervisor would open the team to anyone."""
        if _supervisors(team) == [target.id]:
            raise NotAllowed(code="last_supervisor", handle=target.handle)

    def _target(self, conn: Connection, handle: str) -> AgentInfo:
        row = conn.execute(sa.select(AGENT).where(AGENT.c.handle == handle)).first()
        if row is None:
            raise NotFound(code="no_agent", handle=handle)
        return agent_from_row(row)

    def add_agent(
        self, actor: AgentInfo | None, handle: str, display_name: str | None, role: str
    ) -> AgentInfo:
        handle = check_handle(handle)
        _check_role(role)
        with self._write() as conn:
            self._manager(conn, actor)
            added = self._insert_agent(conn, handle, display_name, role)
            if added is None:
                raise InvalidInput(code="agent_exists", handle=handle)
            self._event(
                conn,
                actor.id if actor else None,
                "agent_added",
                None,
                {"handle": handle, "role": role, "agent_id": added},
            )
        return self._stored(handle)

    def set_role(self, actor: AgentInfo | None, handle: str, role: str) -> AgentInfo:
        _check_role(role)
        with self._write() as conn:
            target = self._target(conn, handle)
            team = self._manager(conn, actor, target.id)
            if role != "supervisor":
                self._keep_a_supervisor(team, target)
            conn.execute(sa.update(AGENT).where(AGENT.c.id == target.id).values(role=role))
            self._event(
                conn,
                actor.id if actor else None,
                "role_changed",
                None,
                {"handle": handle, "from": team[target.id][0], "to": role},
            )
        return self._stored(handle)

    def set_active(self, actor: AgentInfo | None, handle: str, active: bool) -> AgentInfo:
        with self._write() as conn:
            target = self._target(conn, handle)
            team = self._manager(conn, actor, target.id)
            if not active:
                self._keep_a_supervisor(team, target)
            conn.execute(sa.update(AGENT).where(AGENT.c.id == target.id).values(active=active))
            self._event(
                conn,
                actor.id if actor else None,
                "agent_enabled" if active else "agent_disabled",
                None,
                {"handle": handle},
            )
        return self._stored(handle)

    # -- presence ----------------------------------------------------------------------------

    def heartbeat(self, agent_id: int) -> None:
        """Presence: a running workstation touches last_seen_at (no event: not a change of work)."""
        with self._write() as conn:
            conn.execute(
                sa.update(AGENT).where(AGENT.c.id == agent_id).values(last_seen_at=self.clock.now())
            )

    def online_agents(
        self, window_s: float = ONLINE_WINDOW_S, *, viewer: AgentInfo | None = None
    ) -> list[AgentInfo]:
        since = self.clock.now() - timedelta(seconds=window_s)
        with self._read() as conn:
            if viewer is not None:
                self._active(conn, viewer)
            rows = conn.execute(
                sa.select(AGENT).where(AGENT.c.last_seen_at >= since).order_by(AGENT.c.handle)
            )
            return [agent_from_row(r) for r in rows]
