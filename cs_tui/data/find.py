"""Find anything: a conversation by its id, an order number, the customer's name or handle, or any
part of its messages, as the agent may see it.

What is looked at, best first:

1. exact: the conversation's external or internal id, an `order:NUMBER` tag, a customer handle;
2. part of a customer's name or handle, part of a conversation id (from 3 characters on);
3. part of any message (3 characters or more: the index is made of trigrams, and a shorter
   piece of Chinese would match a good part of every store), newest message first; a shorter
   text is looked for in each conversation's newest message (its preview).

Every step is a bounded, indexed read (see find_index), so a search costs milliseconds at
100,000 conversations whatever the text; a word that is in half the messages stops at the
newest matches instead of collecting them all.

Who finds what follows the queue: a supervisor (or a trainer) finds every conversation; an
agent finds their own, the unassigned pool and what they handed over. A private note is found
only by those who see the conversation in full (views.sees_in_full).
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cs_tui.data import find_index
from cs_tui.data.agents import AgentsMixin
from cs_tui.data.coltypes import MAX_ROW_ID
from cs_tui.data.tables import CONV, CONV_TAG, CUST, HANDOVER, MSG
from cs_tui.data.views import AgentInfo, QueueRow

FIND_LIMIT = 30
"""Conversations a search returns (the palette's list)."""

QUEUE_CAP = 300
"""Most conversations the queue filter keeps for a text, the best matches (ids, customers)
first, then the newest messages: three screens of queue rows. A text in more conversations than
that wants a longer text; collecting every match of a common word would cost ten times more."""

MIN_TEXT = 3
"""Shortest text looked for inside messages (the trigram index's unit)."""

ORDER_TAG = "order:"
_MESSAGES_PER_CONVERSATION = 4  # messages read per conversation wanted, before de-duplicating
_FIRST_PAGE = 2  # of those, read first (see _in_messages)
_FTS = sa.table(find_index.FTS, sa.column("rowid", sa.Integer), sa.column("body", sa.Text))
_KEYS = sa.table(find_index.KEYS, sa.column("rowid", sa.Integer), sa.column("body", sa.Text))


@dataclass(frozen=True)
class Found:
    """One conversation a search found: its queue row, what matched (id, order, customer or
    message) and, for a message, its text (untrusted: shown through safe_text)."""

    row: QueueRow
    matched: str
    text: str = ""


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fts_like(column: Any, text: str) -> list[Any]:
    """`column` of a trigram table holds `text`, any case. The index answers LIKE only without
    an ESCAPE clause, so a % or _ the agent typed is a wildcard there, and instr() then keeps
    the literal matches alone."""
    cond = [column.like(f"%{text}%")]
    if "%" in text or "_" in text:
        cond.append(sa.func.instr(sa.func.lower(column), text.lower()) > 0)
    return cond


def _recent() -> Any:
    return sa.func.coalesce(CONV.c.last_message_at, CONV.c.created_at).desc()


class FindMixin(AgentsMixin):
    """The searches behind Store.find (in QueriesMixin, which turns ids into queue rows) and
    the id list behind the queue filter's text."""

    def refresh_find_index(self) -> int:
        """Index the messages stored since the last search (SQLite); how many were added.
        An import calls it once at its end so that no agent's first search waits for it."""
        if self.dialect != "sqlite":
            return 0  # PostgreSQL keeps its indexes itself: no read to open
        with self._read() as conn:
            if not find_index.behind(conn, self.dialect):
                return 0
        with self._write() as conn:
            return find_index.catch_up(conn, self.dialect)

    def _found_ids(
        self, conn: Connection, viewer: AgentInfo, text: str, training: bool
    ) -> list[int]:
        """The queue filter's text: ids of up to QUEUE_CAP matching conversations. The caller
        has refreshed the index (refresh_find_index) before opening its read."""
        return list(self._find(conn, viewer, text.strip(), QUEUE_CAP, training))

    # -- the steps -------------------------------------------------------------------

    def _find(
        self, conn: Connection, viewer: AgentInfo, text: str, limit: int, training: bool
    ) -> dict[int, tuple[str, str]]:
        found: dict[int, tuple[str, str]] = {}
        scope = [CONV.c.training.is_(training), *self._visible(viewer)]
        if self.dialect == "postgresql":
            self._plan_for(conn, text)

        def add(ids: Sequence[int], matched: str) -> bool:
            for cid in ids:
                found.setdefault(cid, (matched, ""))
            return len(found) >= limit

        for matched, query in self._exact(text):
            if add(conn.execute(query.where(*scope).limit(limit)).scalars().all(), matched):
                return dict(list(found.items())[:limit])
        if add(self._partial(conn, text, scope, limit), "customer"):
            return dict(list(found.items())[:limit])
        if len(text) >= MIN_TEXT:
            hits = self._in_messages(conn, viewer, text, scope, limit - len(found), found)
        else:
            hits = self._in_previews(conn, text, scope, limit - len(found))
        for cid, body in hits:
            found.setdefault(cid, ("message", body))
            if len(found) >= limit:
                break
        return found

    def _plan_for(self, conn: Connection, text: str) -> None:
        """PostgreSQL: plan this search's statements for its text, in one round trip; the
        settings last to the end of the read, whose other statements read by primary key.

        The driver prepares a statement run often, and after five runs PostgreSQL may keep
        one plan for every text, made without seeing it. The right plan depends on the text:
        a common word is found soonest walking the newest messages back, a rare one by asking
        the trigram index, and the one kept plan walked every message for a text found
        nowhere (457 ms instead of 0.5 ms at a million messages). Planning for each text
        costs well under a millisecond.

        From 3 characters on, every table a search reads has its trigram or id index, and a
        scan is never the better plan; the planner, which cannot tell how rare a piece of an
        id is, still scanned the conversations for one that matches 11 of them (66 ms
        instead of 2). A shorter text is only found by a scan (see _partial)."""
        conn.exec_driver_sql(
            "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
            "set_config('enable_seqscan', %s, true)",
            ("off" if len(text) >= MIN_TEXT else "on",),
        )

    def _visible(self, viewer: AgentInfo) -> list[Any]:
        if viewer.role != "agent":
            return []
        handed = sa.exists().where(
            HANDOVER.c.conversation_id == CONV.c.id, HANDOVER.c.from_agent_id == viewer.id
        )
        return [sa.or_(CONV.c.assignee_id == viewer.id, CONV.c.assignee_id.is_(None), handed)]

    def _exact(self, text: str) -> list[tuple[str, sa.Select[Any]]]:
        ids = sa.select(CONV.c.id)
        out = [("id", ids.where(CONV.c.external_id == text))]
        if text.isdigit() and int(text) <= MAX_ROW_ID:
            out.append(("id", ids.where(CONV.c.id == int(text))))
        number = text.removeprefix("#")
        out.append(
            (
                "order",
                sa.select(CONV_TAG.c.conversation_id)
                .join(CONV, CONV.c.id == CONV_TAG.c.conversation_id)
                .where(CONV_TAG.c.tag == f"{ORDER_TAG}{number}"),
            )
        )
        out.append(
            (
                "customer",
                ids.join(CUST, CUST.c.id == CONV.c.customer_id)
                .where(CUST.c.handle == text)
                .order_by(_recent()),
            )
        )
        return out

    def _partial(self, conn: Connection, text: str, scope: list[Any], limit: int) -> list[int]:
        """Conversations whose customer's name or handle, or whose external id, holds `text`.
        On SQLite from 3 characters on, the trigram table of those keys answers; otherwise the
        customer table (a third as many rows) is scanned and their conversations read by
        index, and, from 3 characters on, the external id's own index."""
        if len(text) >= MIN_TEXT and self._indexed(conn):
            keys = (
                sa.select(CONV.c.id)
                .select_from(_KEYS.join(CONV, CONV.c.id == _KEYS.c.rowid))
                .where(*_fts_like(_KEYS.c.body, text), *scope)
                .order_by(_KEYS.c.rowid.desc())
                .limit(limit)
            )
            return list(conn.execute(keys).scalars())
        pattern = f"%{_like_escape(text)}%"
        customers = (
            sa.select(CUST.c.id)
            .where(sa.or_(self._holds(CUST.c.name, pattern), self._holds(CUST.c.handle, pattern)))
            .limit(limit)
        )
        by_customer = conn.execute(
            sa.select(CONV.c.id)
            .where(CONV.c.customer_id.in_(customers), *scope)
            .order_by(_recent())
            .limit(limit)
        ).scalars()
        if len(text) < MIN_TEXT:
            # A piece of an id this short is in thousands of ids: the exact id is looked up
            # (see _exact), pieces of it only from 3 characters on.
            return list(by_customer)
        # Only the id and the external id: SQLite reads them from the external id's index alone.
        named = list(
            conn.execute(
                sa.select(CONV.c.id).where(self._holds(CONV.c.external_id, pattern)).limit(limit)
            ).scalars()
        )
        by_id = conn.execute(
            sa.select(CONV.c.id).where(CONV.c.id.in_(named), *scope).order_by(_recent())
        ).scalars()
        return [*by_customer, *by_id]

    def _indexed(self, conn: Connection) -> bool:
        """SQLite with its trigram tables (PostgreSQL's indexes serve plain ILIKE)."""
        return self.dialect == "sqlite" and find_index.available(conn, self.dialect)

    def _holds(self, column: Any, pattern: str) -> Any:
        """`column` holds the (escaped) pattern, any case. SQLite's own LIKE already ignores
        the case of ASCII letters, and without lower() on the column it is several times
        cheaper; PostgreSQL's trigram indexes answer its LIKE and ILIKE alike."""
        if self.dialect == "sqlite" or pattern.lower() == pattern.upper():
            # A text without letters that have a case (Chinese, digits) is the same in any
            # case: PostgreSQL's LIKE then finds the same rows as ILIKE, ten times cheaper
            # on a scan (it compares bytes instead of lowering every row first).
            return column.like(pattern, escape="\\")
        return column.ilike(pattern, escape="\\")

    def _in_previews(
        self, conn: Connection, text: str, scope: list[Any], want: int
    ) -> list[tuple[int, str]]:
        """Text too short for the index (退款, 破损) is looked for in each conversation's newest
        message only (its preview), as the queue's filter always did."""
        if want <= 0:
            return []
        pattern = f"%{_like_escape(text)}%"
        # Newest conversations first by id, not by last message: the scan then stops at the
        # first `want` matches instead of reading every row to sort them.
        rows = conn.execute(
            sa.select(CONV.c.id, CONV.c.preview)
            .where(self._holds(CONV.c.preview, pattern), *scope)
            .order_by(CONV.c.id.desc())
            .limit(want)
        ).all()
        return [(cid, preview) for cid, preview in rows]

    def _in_messages(
        self,
        conn: Connection,
        viewer: AgentInfo,
        text: str,
        scope: list[Any],
        want: int,
        have: Container[int] = (),
    ) -> list[tuple[int, str]]:
        """(conversation id, message text) of the newest messages holding `text`, read until
        `want` conversations not in `have` are found (at most 4 messages a conversation
        wanted are read)."""
        if want <= 0:
            return []
        cond = [*scope]
        if not viewer.is_supervisor:
            # A private note only for those who see the conversation in full.
            cond.append(
                sa.or_(
                    MSG.c.author_kind != "note",
                    CONV.c.assignee_id == viewer.id,
                    CONV.c.assignee_id.is_(None),
                )
            )
        pattern = f"%{_like_escape(text)}%"
        if self._indexed(conn):
            key = _FTS.c.rowid
            query = (
                sa.select(MSG.c.conversation_id, MSG.c.body, key)
                .select_from(
                    _FTS.join(MSG, MSG.c.id == _FTS.c.rowid).join(
                        CONV, CONV.c.id == MSG.c.conversation_id
                    )
                )
                .where(*_fts_like(_FTS.c.body, text), *cond)
                .order_by(key.desc())
            )
        else:
            key = MSG.c.id
            query = (
                sa.select(MSG.c.conversation_id, MSG.c.body, key)
                .select_from(MSG.join(CONV, CONV.c.id == MSG.c.conversation_id))
                .where(self._holds(MSG.c.body, pattern), *cond)
                .order_by(key.desc())
            )
        # Up to 4 messages a conversation wanted, newest first, read in two pages: the first
        # of 2 a conversation, where a common phrase's conversations are found (the queue
        # filter's 300 for one were in its first 426 messages, of the 1,200 once read and
        # each compared with the text), the rest only when they are not. Reading stops at the
        # `want`-th new conversation: later rows would be dropped anyway.
        cap = want * _MESSAGES_PER_CONVERSATION
        seen: dict[int, str] = {}
        new, read, last = 0, 0, None
        while read < cap:
            size = min(cap, want * _FIRST_PAGE) if last is None else cap - read
            page = query if last is None else query.where(key < last)
            rows = conn.execute(page.limit(size)).all()
            for cid, body, _ in rows:
                if cid in seen:
                    continue
                seen[cid] = body
                new += cid not in have
                if new >= want:
                    return list(seen.items())
            read += len(rows)
            if len(rows) < size:
                break
            last = rows[-1][2]
        return list(seen.items())
