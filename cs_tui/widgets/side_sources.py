"""The one place the side panel and the composer meet the knowledge modules.

Phrases (`cs_tui.phrases`), the knowledge base (`cs_tui.kb` / the store's knowledge methods),
the compliance checker (`cs_tui.compliance`) and emotion cues (`cs_tui.sentiment`) are built
alongside the workstation. Everything the UI needs from them goes through these functions, so a
change in their API is a change here only, and a module that is missing or fails degrades to "no
suggestions" instead of breaking the workstation. Nothing here imports textual; all of it may be
called from a worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cs_tui.config import Settings
    from cs_tui.data.store import Store
    from cs_tui.kb_markdown import Paragraph
    from cs_tui.phrases import Phrase, PhraseLibrary
    from cs_tui.reply_check import ReplyFinding
    from cs_tui.search import SearchIndex

# -- phrases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhraseItem:
    id: str
    shortcut: str
    category: str
    category_label: str
    title: str
    body: str
    emotion: str | None = None
    personal: bool = False
    """The agent's own (the store's, or a personal pack's), marked as such in the picker."""


@dataclass
class PhraseSource:
    library: PhraseLibrary | None = None
    problems: tuple[str, ...] = ()

    def categories(self, lang: str) -> dict[str, list[PhraseItem]]:
        if self.library is None:
            return {}
        out: dict[str, list[PhraseItem]] = {}
        for category, phrases in self.library.by_category(lang).items():
            out[category] = [_phrase_item(p) for p in phrases]
        return out

    def search(
        self,
        query: str,
        lang: str,
        *,
        emotion: str | None = None,
        cancel: Callable[[], bool] | None = None,
        limit: int = 40,
    ) -> list[PhraseItem]:
        """Best phrases for the query; with an emotion, phrases written for it come first."""
        if self.library is None:
            return []
        if query.strip():
            hits = self.library.search(query, limit, lang=lang, cancel=cancel)
            items = [_phrase_item(h.entry.payload) for h in hits]
        else:
            items = [_phrase_item(p) for p in self.library.for_lang(lang)]
        if emotion:
            items.sort(key=lambda p: 0 if p.emotion == emotion else 1)
        return items

    def render(self, item: PhraseItem, variables: dict[str, str]) -> str:
        from cs_tui.phrases import render

        return render(item.body, variables)


def _phrase_item(phrase: Phrase) -> PhraseItem:
    return PhraseItem(
        id=phrase.id,
        shortcut=phrase.shortcut,
        category=phrase.category,
        category_label=phrase.label,
        title=phrase.title,
        body=phrase.body,
        emotion=phrase.emotion,
        personal=phrase.layer == "personal",
    )


def load_phrases(
    settings: Settings | None = None, store: Store | None = None, agent_id: int | None = None
) -> PhraseSource:
    """The merged phrase library, with the agent's own phrases from the store when given one;
    a broken pack is reported, the good ones still load, and a store that cannot be read now
    leaves out only the agent's own phrases."""
    from cs_tui.data.errors import StoreError
    from cs_tui.phrases import PhraseLibrary, personal_phrase

    library, found = PhraseLibrary.load(settings)
    problems = [str(p) for p in found]
    if store is not None and agent_id is not None:
        try:
            own = store.personal_phrases(agent_id)
        except StoreError as exc:
            problems.append(str(exc))
        else:
            library = library.with_personal(
                personal_phrase(p.id, p.title, p.body, p.shortcut, p.lang) for p in own
            )
    library.index()  # build the search index now, in the worker, not on the first keystroke
    return PhraseSource(library, tuple(problems))


# -- knowledge base -------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleItem:
    id: Any
    title: str
    category: str
    snippet: str
    body: str

    @cached_property
    def paragraphs(self) -> list[Paragraph]:
        """The body as the preview draws it and the composer receives it, read when the
        article is first previewed (not for every search result)."""
        from cs_tui.kb_markdown import paragraphs

        return paragraphs(self.body)

    @property
    def start(self) -> int | None:
        """The paragraph the preview highlights first: the one with the model answer."""
        from cs_tui.kb_markdown import suggested_index

        return suggested_index(self.paragraphs)

    def category_name(self) -> str:
        from cs_tui.kb import category_name

        return category_name(self.category) if self.category else ""


def _article_item(article: Any, snippet: str = "") -> ArticleItem:
    body = getattr(article, "body", "") or ""
    return ArticleItem(
        id=getattr(article, "id", None),
        title=getattr(article, "title", "") or "",
        category=getattr(article, "category", "") or "",
        snippet=snippet or body[:160],
        body=body,
    )


class KnowledgeSource:
    """A search index over the store's articles, built on first use (from a worker).

    One per app, handed to every screen that searches: building it reads every article and
    takes seconds on a big knowledge base, so a language switch or a new screen must not pay
    for it again. When articles change (a `kb_import` event), `invalidate` drops it and the
    next search builds it anew.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._index: SearchIndex | None = None
        self._lock = threading.Lock()

    def index(self) -> SearchIndex:
        with self._lock:
            if self._index is None:
                from cs_tui.kb import article_entries
                from cs_tui.search import SearchIndex

                articles = self.store.articles() if hasattr(self.store, "articles") else []
                self._index = SearchIndex.build(article_entries(articles))
            return self._index

    def invalidate(self) -> bool:
        """Drop the index; True if there was one (someone searched, so may search again)."""
        with self._lock:
            built, self._index = self._index is not None, None
            return built

    def search(
        self,
        query: str,
        lang: str | None,
        *,
        cancel: Callable[[], bool] | None = None,
        limit: int = 30,
    ) -> list[ArticleItem]:
        """Articles best matching the query, the agent's language first (all when empty)."""
        index = self.index()
        hits = index.search(query, limit, kind="article", lang=lang, cancel=cancel)
        if len(hits) < limit and lang is not None and query.strip():
            seen = {h.entry.id for h in hits}
            more = index.search(query, limit, kind="article", cancel=cancel)
            hits += [h for h in more if h.entry.id not in seen][: limit - len(hits)]
        return [_article_item(h.entry.payload, h.snippet) for h in hits]


# -- compliance and emotion -----------------------------------------------------------------


def check_draft(text: str, customer_lang: str | None) -> list[ReplyFinding]:
    """What stands between a draft reply and the customer, ordered by position: the same check
    `cs-tui reply` runs (`cs_tui.reply_check`), so the two never disagree. `customer_lang` is
    the language the customer writes in (None when it cannot be told).

    Unlike the rest of this module it never degrades to "nothing found": a blank left unfilled
    must not slip through to the customer because a checker failed to load.
    """
    from cs_tui.reply_check import reply_findings

    return reply_findings(text, customer_lang)


def customer_emotion(texts: list[str], lang: str | None = None) -> str | None:
    """The customer's emotion in their latest messages (angry, anxious, ...), or None."""
    if not texts:
        return None
    from cs_tui import sentiment

    label = sentiment.detect("\n".join(texts)).label
    return None if label in ("", "neutral") else label
