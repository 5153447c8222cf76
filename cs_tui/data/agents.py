"""The team: agents, roles and presence."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from cs_tui.data import models
from cs_tui.data.errors import InvalidInput, NotAllowed, NotFound
from cs_tui.data.views import HANDLE_RE, ROLES, AgentInfo

AGENT = models.Agent.__table__
ONLINE_WINDOW_S = 30


def agent_from_row(row) -> AgentInfo:
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
        raise InvalidInput(
            f"{handle!r} is not a usable agent handle: letters, digits, '.', '_', '-', '@', "
            "at most 64 characters"
        )
    return handle


class AgentsMixin:
    def get_agent(self, handle: str) -> AgentInfo | None:
        with self._read() as conn:
            row = conn.execute(sa.select(AGENT).where(AGENT.c.handle == handle)).first()
        return agent_from_row(row) if row else None

    def agent_by_id(self, agent_id: int) -> AgentInfo:
        with self._read() as conn:
            row = conn.execute(sa.select(AGENT).where(AGENT.c.id == agent_id)).first()
        if row is None:
            raise NotFound(f"no agent #{agent_id}")
        return agent_from_row(row)

    def list_agents(self, *, include_disabled: bool = True) -> list[AgentInfo]:
        query = sa.select(AGENT).order_by(AGENT.c.handle)
        if not include_disabled:
            query = query.where(AGENT.c.active.is_(True))
        with self._read() as conn:
            return [agent_from_row(r) for r in conn.execute(query)]

    def has_supervisor(self) -> bool:
        with self._read() as conn:
            return (
                conn.execute(
                    sa.select(AGENT.c.id)
                    .where(AGENT.c.role == "supervisor", AGENT.c.active.is_(True))
                    .limit(1)
                ).first()
                is not None
            )

    def ensure_agent(
        self, handle: str, display_name: str | None = None, role: str = "agent"
    ) -> AgentInfo:
        """The agent with this handle, registered as a plain agent on first use."""
        handle = check_handle(handle)
        existing = self.get_agent(handle)
        if existing is not None:
            return existing
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r} (known: {', '.join(ROLES)})")
        now = self.clock.now()
        with self._write() as conn:
            values = dict(
                handle=handle,
                display_name=(display_name or handle)[:200],
                role=role,
                active=True,
                created_at=now,
            )
            insert = self._insert_fn()
            new_id = conn.execute(
                insert(AGENT)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["handle"])
                .returning(AGENT.c.id)
            ).scalar()
            if new_id is not None:
                self._event(
                    conn, new_id, "agent_registered", None, {"handle": handle, "role": role}
                )
        return self.get_agent(handle)  # type: ignore[return-value]

    def _require_manager(self, actor: AgentInfo | None) -> None:
        """Team changes are the supervisors' once a supervisor exists (bootstrap before that)."""
        if not self.has_supervisor():
            return
        if actor is None or actor.role != "supervisor":
            raise NotAllowed("only a supervisor may change the team")

    def add_agent(
        self, actor: AgentInfo | None, handle: str, display_name: str | None, role: str
    ) -> AgentInfo:
        self._require_manager(actor)
        handle = check_handle(handle)
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r} (known: {', '.join(ROLES)})")
        if self.get_agent(handle) is not None:
            raise InvalidInput(f"agent {handle!r} already exists")
        with self._write() as conn:
            new_id = conn.execute(
                sa.insert(AGENT)
                .values(
                    handle=handle,
                    display_name=(display_name or handle)[:200],
                    role=role,
                    active=True,
                    created_at=self.clock.now(),
                )
                .returning(AGENT.c.id)
            ).scalar_one()
            self._event(
                conn,
                actor.id if actor else None,
                "agent_added",
                None,
                {"handle": handle, "role": role, "agent_id": new_id},
            )
        return self.get_agent(handle)  # type: ignore[return-value]

    def set_role(self, actor: AgentInfo | None, handle: str, role: str) -> AgentInfo:
        self._require_manager(actor)
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r} (known: {', '.join(ROLES)})")
        target = self.get_agent(handle)
        if target is None:
            raise NotFound(f"no agent {handle!r}")
        with self._write() as conn:
            conn.execute(sa.update(AGENT).where(AGENT.c.id == target.id).values(role=role))
            self._event(
                conn,
                actor.id if actor else None,
                "role_changed",
                None,
                {"handle": handle, "from": target.role, "to": role},
            )
        return self.get_agent(handle)  # type: ignore[return-value]

    def set_active(self, actor: AgentInfo | None, handle: str, active: bool) -> AgentInfo:
        self._require_manager(actor)
        target = self.get_agent(handle)
        if target is None:
            raise NotFound(f"no agent {handle!r}")
        with self._write() as conn:
            conn.execute(sa.update(AGENT).where(AGENT.c.id == target.id).values(active=active))
            self._event(
                conn,
                actor.id if actor else None,
                "agent_enabled" if active else "agent_disabled",
                None,
                {"handle": handle},
            )
        return self.get_agent(handle)  # type: ignore[return-value]

    def heartbeat(self, agent_id: int) -> None:
        """Presence: a running workstation touches last_seen_at (no event: not a change of work)."""
        with self._write() as conn:
            conn.execute(
                sa.update(AGENT).where(AGENT.c.id == agent_id).values(last_seen_at=self.clock.now())
            )

    def online_agents(self, window_s: float = ONLINE_WINDOW_S) -> list[AgentInfo]:
        since = self.clock.now() - timedelta(seconds=window_s)
        with self._read() as conn:
            rows = conn.execute(
                sa.select(AGENT).where(AGENT.c.last_seen_at >= since).order_by(AGENT.c.handle)
            )
            return [agent_from_row(r) for r in rows]
