"""Knowledge-base articles and quick-reply use, as a mixin of Store.

Bulk writes go through SQLAlchemy Core (an ORM ``add_all`` of 100k rows is ten times slower).
Search keys arrive computed by the caller (``cs_tui.kb``): pypinyin stays out of the data layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cs_tui.data.core import StoreCore
from cs_tui.data.tables import ARTICLE, PHRASE_USE

_CHUNK = 500


@dataclass(frozen=True)
class ArticleView:
    """A knowledge-base article as the store keeps it, detached from any session."""

    id: int
    slug: str
    title: str
    body: str
    category: str
    tags: tuple[str, ...]
    lang: str
    search_keys: str
    updated_at: datetime


def _row(record: Any) -> dict[str, Any]:
    if isinstance(record, Mapping):
        data = dict(record)
    elif hasattr(record, "as_row"):
        data = record.as_row()
    else:
        data = {
            k: getattr(record, k) for k in ("slug", "title", "body", "category", "tags", "lang")
        }
        data["search_keys"] = getattr(record, "search_keys", "")
    return {
        "slug": str(data["slug"]),
        "title": str(data["title"])[:300],
        "body": str(data.get("body") or ""),
        "category": str(data.get("category") or "faq")[:32],
        "tags": list(data.get("tags") or ()),
        "lang": str(data.get("lang") or "zh")[:8],
        "search_keys": str(data.get("search_keys") or ""),
    }


def _view(row: Any) -> ArticleView:
    return ArticleView(
        id=row.id,
        slug=row.slug,
        title=row.title,
        body=row.body,
        category=row.category,
        tags=tuple(row.tags or ()),
        lang=row.lang,
        search_keys=row.search_keys or "",
        updated_at=row.updated_at,
    )


class KnowledgeStore(StoreCore):
    """Articles (``kb_article``) and phrase use (``phrase_use``); mixed into Store."""

    def upsert_articles(
        self, records: Iterable[Any], actor_id: int | None = None
    ) -> tuple[int, int]:
        """Insert new articles and update existing ones (matched by slug), in one transaction.

        ``records``: ArticleRecords (cs_tui.kb) or mappings with slug, title, body, category,
        tags, lang, search_keys. Returns (inserted, updated); one ``kb_import`` event.
        """
        rows: dict[str, dict[str, Any]] = {}
        for record in records:
            row = _row(record)
            rows[row["slug"]] = row  # a repeated slug: the last one wins
        if not rows:
            return 0, 0
        now = self.clock.now()
        with self._write() as conn:
            existing: dict[str, int] = {}
            slugs = list(rows)
            for start in range(0, len(slugs), _CHUNK):
                chunk = slugs[start : start + _CHUNK]
                for slug, article_id in conn.execute(
                    sa.select(ARTICLE.c.slug, ARTICLE.c.id).where(ARTICLE.c.slug.in_(chunk))
                ):
                    existing[slug] = article_id
            inserts = [
                {**row, "updated_at": now} for slug, row in rows.items() if slug not in existing
            ]
            updates = [
                {
                    **{f"v_{k}": v for k, v in row.items()},
                    "b_id": existing[slug],
                    "v_updated_at": now,
                }
                for slug, row in rows.items()
                if slug in existing
            ]
            if inserts:
                conn.execute(sa.insert(ARTICLE), inserts)
            if updates:
                conn.execute(
                    sa.update(ARTICLE)
                    .where(ARTICLE.c.id == sa.bindparam("b_id"))
                    .values(
                        {
                            name: sa.bindparam(f"v_{name}")
                            for name in (
                                "slug",
                                "title",
                                "body",
                                "category",
                                "tags",
                                "lang",
                                "search_keys",
                                "updated_at",
                            )
                        }
                    ),
                    updates,
                )
            self._event(
                conn,
                actor_id,
                "kb_import",
                None,
                {"inserted": len(inserts), "updated": len(updates)},
            )
        return len(inserts), len(updates)

    def articles(self, limit: int | None = None) -> list[ArticleView]:
        """All articles (or the first ``limit``) in id order, for building the search index."""
        query = sa.select(ARTICLE).order_by(ARTICLE.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            return [_view(row) for row in conn.execute(query)]

    def article(self, article_id: int | str) -> ArticleView | None:
        """One article by id, or by slug when given a string that is not a number."""
        if isinstance(article_id, str) and not article_id.isdigit():
            condition = ARTICLE.c.slug == article_id
        else:
            condition = ARTICLE.c.id == int(article_id)
        with self._read() as conn:
            row = conn.execute(sa.select(ARTICLE).where(condition)).first()
        return _view(row) if row is not None else None

    def count_articles(self) -> int:
        with self._read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(ARTICLE)).scalar_one())

    def record_phrase_use(self, agent_id: int, phrase_id: str) -> None:
        """Remember that an agent sent a quick reply (search ranks their recent ones higher).

        No audit event: this is a personal ranking signal, not something other agents react to.
        """
        with self._write() as conn:
            conn.execute(
                sa.insert(PHRASE_USE).values(
                    agent_id=agent_id, phrase_id=str(phrase_id)[:200], used_at=self.clock.now()
                )
            )

    def recent_phrase_uses(self, agent_id: int, limit: int = 200) -> list[tuple[str, datetime]]:
        """The agent's latest quick-reply uses, newest first: feed to ``search.recency_boost``."""
        query = (
            sa.select(PHRASE_USE.c.phrase_id, PHRASE_USE.c.used_at)
            .where(PHRASE_USE.c.agent_id == agent_id)
            .order_by(PHRASE_USE.c.used_at.desc(), PHRASE_USE.c.id.desc())
            .limit(limit)
        )
        with self._read() as conn:
            return [(row.phrase_id, row.used_at) for row in conn.execute(query)]
