"""Personal phrases: an agent's own quick replies, kept in the store (schema 7), as a mixin.

A personal phrase is untrusted text like everything an agent types: its title is one line, its
text holds no control characters but newlines and tabs, both have a length limit, and a refusal
names the field (`InvalidInput` with a code the workstation translates). Drawing it stays the
picker's job (through safe_text); what is refused here never reaches the store at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cs_tui.data.core import StoreCore
from cs_tui.data.errors import InvalidInput, NotAllowed, NotFound
from cs_tui.data.tables import PERSONAL_PHRASE
from cs_tui.data.views import AgentInfo

MAX_TITLE_CHARS = 80
MAX_BODY_CHARS = 2_000
MAX_SHORTCUT_CHARS = 32
LANGS = ("zh", "en")

_TITLE_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BODY_BAD = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_HAN = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class PersonalPhraseView:
    """One of an agent's own quick replies, as the picker lists it beside the team's."""

    id: int
    agent_id: int
    title: str
    body: str
    shortcut: str | None
    lang: str
    created_at: datetime


def _view(row: Any) -> PersonalPhraseView:
    return PersonalPhraseView(
        id=row.id,
        agent_id=row.agent_id,
        title=row.title,
        body=row.body,
        shortcut=row.shortcut,
        lang=row.lang,
        created_at=row.created_at,
    )


def checked_phrase(
    title: str, body: str, shortcut: str | None, lang: str | None
) -> tuple[str, str, str | None, str]:
    """The fields as the store keeps them, or InvalidInput naming the first bad one. Without a
    language, a text with Chinese characters is Chinese, anything else English."""
    title = title.strip()
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not title:
        raise InvalidInput(code="phrase_title_empty")
    if _TITLE_BAD.search(title):
        raise InvalidInput(code="phrase_title_line")
    if len(title) > MAX_TITLE_CHARS:
        raise InvalidInput(code="phrase_title_too_long", limit=MAX_TITLE_CHARS)
    if not body:
        raise InvalidInput(code="phrase_body_empty")
    if _BODY_BAD.search(body):
        raise InvalidInput(code="phrase_control")
    if len(body) > MAX_BODY_CHARS:
        raise InvalidInput(code="phrase_body_too_long", limit=MAX_BODY_CHARS)
    shortcut = (shortcut or "").strip() or None
    if shortcut is not None and (
        len(shortcut) > MAX_SHORTCUT_CHARS
        or any(c.isspace() for c in shortcut)
        or _TITLE_BAD.search(shortcut)
    ):
        raise InvalidInput(code="phrase_shortcut", limit=MAX_SHORTCUT_CHARS)
    if lang is None:
        lang = "zh" if _HAN.search(title + body) else "en"
    elif lang not in LANGS:
        raise InvalidInput(code="unknown_choice", field="lang", value=lang, known=", ".join(LANGS))
    return title, body, shortcut, lang


class PersonalPhrasesMixin(StoreCore):
    """`personal_phrase` rows; mixed into Store. Every agent reads and writes only their own."""

    def add_personal_phrase(
        self,
        actor: AgentInfo,
        title: str,
        body: str,
        *,
        shortcut: str | None = None,
        lang: str | None = None,
    ) -> PersonalPhraseView:
        """Keep a phrase of the actor's own; one `personal_phrase_add` event."""
        if not actor.active:
            raise NotAllowed(code="disabled")
        title, body, shortcut, lang = checked_phrase(title, body, shortcut, lang)
        now = self.clock.now()
        with self._write() as conn:
            if shortcut is not None:
                taken = conn.execute(
                    sa.select(PERSONAL_PHRASE.c.id).where(
                        PERSONAL_PHRASE.c.agent_id == actor.id,
                        sa.func.lower(PERSONAL_PHRASE.c.shortcut) == shortcut.lower(),
                    )
                ).first()
                if taken is not None:
                    raise InvalidInput(code="phrase_shortcut_taken", shortcut=shortcut)
            phrase_id = conn.execute(
                sa.insert(PERSONAL_PHRASE)
                .values(
                    agent_id=actor.id,
                    title=title,
                    body=body,
                    shortcut=shortcut,
                    lang=lang,
                    created_at=now,
                )
                .returning(PERSONAL_PHRASE.c.id)
            ).scalar_one()
            self._event(conn, actor.id, "personal_phrase_add", None, {"phrase_id": phrase_id})
        return PersonalPhraseView(phrase_id, actor.id, title, body, shortcut, lang, now)

    def personal_phrases(self, agent_id: int) -> list[PersonalPhraseView]:
        """The agent's own phrases, oldest first."""
        query = (
            sa.select(PERSONAL_PHRASE)
            .where(PERSONAL_PHRASE.c.agent_id == agent_id)
            .order_by(PERSONAL_PHRASE.c.id)
        )
        with self._read() as conn:
            return [_view(row) for row in conn.execute(query)]

    def remove_personal_phrase(self, actor: AgentInfo, phrase_id: int) -> None:
        """Delete one of the actor's own phrases (another agent's is not found, not refused:
        their phrases are theirs to know about)."""
        with self._write() as conn:
            deleted = conn.execute(
                sa.delete(PERSONAL_PHRASE).where(
                    PERSONAL_PHRASE.c.id == phrase_id, PERSONAL_PHRASE.c.agent_id == actor.id
                )
            ).rowcount
            if not deleted:
                raise NotFound(code="no_personal_phrase", phrase_id=phrase_id)
            self._event(conn, actor.id, "personal_phrase_remove", None, {"phrase_id": phrase_id})
