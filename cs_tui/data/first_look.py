"""The workstation's first look at an SQLite store, before SQLAlchemy is loaded.

Loading SQLAlchemy and the data layer costs about as much as Textual's whole start to its first
frame. So when the workstation starts on an SQLite file that needs nothing done to it (its schema
is this version's, its deadlines follow the policy it runs with, the agent is in the team and
active), its first queue window is read here with the standard library's sqlite3, and the store
proper opens behind the first frame (`opening.py`). Anything else (another schema, another
policy, an unknown or disabled agent, a server, a file that will not open) takes the usual way,
so every message and every write stays the store's own.

The statements are the store's own, compiled for SQLite (`first_look_sql.py`, written by
`python -m cs_tui.data.gen_tables`), and the rows are built by the same function the store uses.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cs_tui.clock import from_utc_text, utc_text
from cs_tui.data import first_look_sql as sql
from cs_tui.data.policy_fingerprint import FINGERPRINT_KEY, policy_fingerprint
from cs_tui.data.views import HANDLE_RE, AgentInfo, QueueRow, queue_rows_in_order

if TYPE_CHECKING:
    from cs_tui.sla import SlaPolicy

BUSY_TIMEOUT_S = 5.0
"""How long a read waits on a lock before the usual way is taken (WAL readers rarely wait)."""


@dataclass(frozen=True)
class FirstLook:
    """An SQLite store the workstation can draw from before the store proper is open."""

    path: Path
    agent: AgentInfo
    policy_fingerprint: str


@dataclass(frozen=True)
class FirstWindow:
    """The rows, and the newest event when they were read: a change feed that starts there
    misses nothing that happened after them."""

    rows: list[QueueRow]
    last_event_id: int


def look(target: str, handle: str, policy: SlaPolicy) -> FirstLook | None:
    """The store at `target` and the agent signing in, if the first window can be read here;
    None when the store must be opened the usual way first."""
    if "://" in target:
        return None
    path = Path(target).expanduser().resolve()
    handle = handle.strip()
    if not path.is_file() or not HANDLE_RE.match(handle):
        return None
    fingerprint = policy_fingerprint(policy)
    try:
        with closing(_connect(path)) as conn:
            agent = _agent(conn, handle) if _as_compiled(conn, fingerprint) else None
    except (sqlite3.Error, TypeError, ValueError):  # a damaged store: the store proper says so
        return None
    if agent is None or not agent.active:
        return None  # signing in registers or refuses them, with the store's own words
    return FirstLook(path, agent, fingerprint)


def first_window(
    first: FirstLook, now: datetime, limit: int, *, timeout: float = BUSY_TIMEOUT_S
) -> FirstWindow | None:
    """The top `limit` rows of the agent's queue with the default filter, as `Store.queue`
    reads them; None when they cannot be read here (the caller asks the store proper)."""
    try:
        with closing(_connect(first.path, timeout)) as conn:
            conn.execute("BEGIN")  # one snapshot for the checks, the ids, the rows, the event
            if not _as_compiled(conn, first.policy_fingerprint):
                return None  # upgraded or recomputed since the look: the store proper reads
            agent = _agent(conn, first.agent.handle)
            if agent is None or not agent.active or agent.role != first.agent.role:
                return None
            values = {"now": utc_text(now), "viewer": agent.id, "limit": limit, "offset": 0}
            params = [values[name] for name in sql.WINDOW_PARAMS[agent.role]]
            ids = [row[0] for row in conn.execute(sql.WINDOW_SQL[agent.role], params)]
            found = []
            if ids:
                marks = ", ".join("?" * len(ids))
                found = conn.execute(sql.ROWS_SQL.format(ids=marks), ids).fetchall()
            last_event_id = conn.execute(sql.LAST_EVENT_SQL).fetchone()[0]
            conn.execute("COMMIT")
    except (sqlite3.Error, KeyError, TypeError, ValueError):  # KeyError: an unknown role
        return None
    try:
        rows = queue_rows_in_order([_with_times(row) for row in found], ids)
    except (TypeError, ValueError):  # a time that is not one: the store proper says what
        return None
    return FirstWindow(rows, last_event_id)


def _as_compiled(conn: sqlite3.Connection, fingerprint: str) -> bool:
    """Whether the store is what the statements were compiled for, its deadlines computed
    with this policy (else the store proper upgrades or recomputes it first)."""
    meta = dict(
        conn.execute(
            "SELECT key, value FROM schema_meta WHERE key IN (?, ?)",
            ("schema_version", FINGERPRINT_KEY),
        )
    )
    return meta.get("schema_version") == str(sql.SCHEMA_VERSION) and (
        meta.get(FINGERPRINT_KEY) == fingerprint
    )


def _with_times(raw: tuple[Any, ...]) -> list[Any]:
    """A row of ROWS_SQL with its times read as the store's column type reads them."""
    values = list(raw)
    for i in sql.ROWS_TIMES:
        if values[i] is not None:
            values[i] = from_utc_text(values[i])
    return values


def _connect(path: Path, timeout: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """Read-write as the store opens it (a read-only connection cannot use a WAL file another
    process has not set up), but never creating a file: `mode=rw` fails if it is gone."""
    conn = sqlite3.connect(
        f"file:{quote(str(path))}?mode=rw",
        uri=True,
        timeout=timeout,
        isolation_level=None,
        check_same_thread=False,
    )
    conn.execute("PRAGMA query_only = 1")
    return conn


def _agent(conn: sqlite3.Connection, handle: str) -> AgentInfo | None:
    row = conn.execute(
        "SELECT id, handle, display_name, role, active, last_seen_at FROM agent WHERE handle = ?",
        (handle,),
    ).fetchone()
    if row is None:
        return None
    agent_id, handle, name, role, active, seen = row
    seen_at = from_utc_text(seen) if seen is not None else None
    return AgentInfo(agent_id, handle, name, role, bool(active), seen_at)
