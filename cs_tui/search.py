"""One fuzzy search engine for quick-reply phrases and knowledge-base articles.

How a query is answered (each step bounded, so a keystroke costs milliseconds at 100k entries):

1. **Candidates from an inverted index**, never a scan. Every entry is indexed by its Chinese
   characters (one token per character, so 退款时间 finds 退款到账时间) and its lower-cased
   words, separately for the title side (shortcut, title, tags, category) and the body. Query
   terms are intersected rarest first in C (``set`` operations); once few candidates remain the
   rest is checked directly on their text.
2. **Words with typos**: a query word that is not in the vocabulary is matched against the
   vocabulary words of similar length with rapidfuzz's optimal-string-alignment distance (1 edit
   up to six letters, 2 beyond). It counts two swapped neighbours as one edit, the commonest slip
   of fast typing (``refnud``, ``retrun``), where plain Levenshtein counts two and found nothing;
   the word being typed also matches as a prefix (``refu`` -> refund).
3. **Pinyin**: titles and tags carry stored pinyin keys (see ``cs_tui.pinyin_keys``). A query of
   latin letters is also looked up as pinyin initials (``tk`` -> 退款) and as full pinyin
   (``tuikuan``, ``tuik``) with one ``str.find`` pass over a joined key text.
4. **Scoring** only a bounded pool of candidates (title-side matches first): shortcut, title and
   pinyin matches score 75-100, body-only matches 40-80; rapidfuzz ``partial_ratio`` grades title
   similarity; the agent's own recent use adds up to ``BOOST_POINTS``.

``process.extract`` over the whole corpus would hold the GIL for hundreds of milliseconds and
freeze the UI; here no single C call works on more than one posting list or one key text, and
``cancel`` is checked between steps and every few hundred candidates, so a newer keystroke stops
an older query (see ``LatestQuery``).

Building the index of 100k articles adds some ten million postings, one at a time, in Python,
and an agent's first search (the first after an import) waits for it. The build runs in this
process only: measured at 105,000 entries it stays within its target (<= 5 s), and a second
process to share the body postings cost some 90 MB of shared files and the complexity of its
inter-process communication.

Nothing here imports textual or the data layer; callers turn phrases and articles into ``Entry``
objects (``cs_tui.phrases.PhraseLibrary.entries()``, ``cs_tui.kb.article_entries()``).
"""

from __future__ import annotations

import heapq
import re
import threading
import time
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from cs_tui import pinyin_keys

__all__ = [
    "BOOST_POINTS",
    "Entry",
    "Hit",
    "LatestQuery",
    "SearchCancelled",
    "SearchIndex",
    "normalize",
    "recency_boost",
]

BOOST_POINTS = 8.0
"""Most points a recently used entry gains; enough to reorder near-equal results, not to lift a
poor match above a good one."""

POOL = 160
"""Most candidates scored per query; title-side matches fill the pool before body matches."""

_VERIFY_BELOW = 256
"""Once an intersection is this small, remaining terms are checked on the text directly."""

_CHECK_EVERY = 128

# Chinese, Japanese and Korean text has no spaces between words, so every non-ASCII character
# (Han, kana, Hangul, also accented letters and emoji) is indexed on its own as a "unit"; and text
# is split into words, where a word never holds a character from U+3040 up.
_WORD_RE = re.compile(r"[^\W_\u3040-\U0010ffff]+")
_SPACE_RE = re.compile(r"\s+")
_ASCII_SPLIT = bytes.maketrans(
    bytes(c for c in range(128) if not chr(c).isalnum()),
    b" " * sum(1 for c in range(128) if not chr(c).isalnum()),
)
# Characters that are never units: ASCII, and the punctuation Chinese text is full of.
_NOT_UNITS = frozenset(chr(c) for c in range(128)) | frozenset(
    "\u3000\u00a0\u2028\u2029\u200b\ufeff、。〃〈〉《》「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟・ー"
    "\u201c\u201d\u2018\u2019…—–·•‧"
)


class SearchCancelled(Exception):
    """Raised by ``SearchIndex.search`` when its ``cancel`` callable turned true mid-query."""


# Replacing a character by its own NFKC form never changes the NFKC form of the text around it
# (both decompose to the same sequence), so these cheap replacements are exact; whatever they do
# not cover is left to unicodedata. They are the characters that make Chinese prose non-NFKC:
# normalizing it in full cost ~18 µs an article, a fifth of building the index.
_NFKC_COMMON = tuple((c, unicodedata.normalize("NFKC", c)) for c in "，：；？！（）…\u3000")


def normalize(text: str) -> str:
    """NFKC (full-width letters and digits become ASCII) and case-folded."""
    if text.isascii():
        return text.lower()  # NFKC leaves ASCII as it is; casefold is lower there
    if not unicodedata.is_normalized("NFKC", text):
        for wide, narrow in _NFKC_COMMON:
            if wide in text:
                text = text.replace(wide, narrow)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
    return text.casefold()


def _tokens(norm: str) -> set[str]:
    """Index tokens of normalized text: its words and its units (see _NOT_UNITS)."""
    if norm.isascii():
        return set(norm.encode().translate(_ASCII_SPLIT).decode().split())
    found = set(norm)
    found.difference_update(_NOT_UNITS)
    found.update(_WORD_RE.findall(norm))
    return found


def _post(postings: dict[str, array], tokens: Iterable[str], pos: int) -> None:
    """Append `pos` to each token's postings. The build's fast loop assumes each token has its
    array already; a KeyError takes the way out, which starts the missing arrays and skips the
    tokens that got `pos` before it."""
    try:
        for token in tokens:
            postings[token].append(pos)
    except KeyError:
        for token in tokens:
            found = postings.get(token)
            if found is None:
                postings[token] = array("I", (pos,))
            elif found[-1] != pos:
                found.append(pos)


def _post_bodies(
    postings: dict[str, array], norms: Sequence[str], first: int, cancel: Callable[[], bool]
) -> None:
    """Body postings of normalized bodies, the first at position ``first``."""
    for pos, norm in enumerate(norms, first):
        if pos % 4096 == 0 and cancel():
            raise SearchCancelled()
        if not norm:
            continue
        _post(postings, _tokens(norm), pos)


def _units(norm: str) -> list[str]:
    """The CJK characters of a query, in order, once each."""
    return list(dict.fromkeys(c for c in norm if c not in _NOT_UNITS and not c.isspace()))


def _is_unit(token: str) -> bool:
    return len(token) == 1 and not token.isascii()


@dataclass(frozen=True)
class Entry:
    """One searchable thing. ``id`` is unique per ``kind`` (phrase id, or article store id)."""

    id: Any
    kind: str  # "phrase" | "article"
    title: str
    body: str = ""
    shortcut: str = ""
    category: str = ""
    tags: tuple[str, ...] = ()
    lang: str = ""
    keys: str = ""
    """Stored pinyin keys (``pinyin_keys.make_keys``); computed at build time when empty."""
    payload: Any = field(default=None, compare=False, repr=False)
    """The object the entry stands for (a Phrase, an ArticleView), handed back in hits."""


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float
    """0-100; 100 is an exact shortcut or title match."""
    matched: str
    """Where the best match was: shortcut | title | pinyin | body | recent."""
    snippet: str = ""

    @property
    def id(self) -> Any:
        return self.entry.id

    @property
    def title(self) -> str:
        return self.entry.title

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.entry.id,
            "title": self.entry.title,
            "category": self.entry.category,
            "score": round(self.score, 1),
        }
        if self.entry.kind == "phrase":
            data["shortcut"] = self.entry.shortcut
            data["body"] = self.entry.body
        else:
            data["snippet"] = self.snippet
        return data


def recency_boost(
    uses: Iterable[tuple[Any, datetime]], now: datetime, *, half_life_days: float = 7.0
) -> dict[Any, float]:
    """Turn an agent's (id, used_at) history into boosts in 0..1 for ``SearchIndex.search``.

    Each use counts for less as it ages (half-life of a week); the most used-and-recent entry
    gets 1.0 and the others a share of it, so one lucky use does not outrank a daily favourite.
    """
    raw: dict[Any, float] = {}
    for key, used_at in uses:
        age_days = max(0.0, (now - used_at).total_seconds() / 86400.0)
        raw[key] = raw.get(key, 0.0) + 0.5 ** (age_days / half_life_days)
    if not raw:
        return {}
    top = max(raw.values())
    return {key: value / top for key, value in raw.items()}


class LatestQuery:
    """A generation counter: ``begin()`` hands out a cancel callable that turns true as soon as
    a newer ``begin()`` happens. Give one to each keystroke's search so the newest one wins::

        latest = LatestQuery()
        cancel = latest.begin()           # on every keystroke, in the UI thread
        index.search(text, cancel=cancel)  # in a worker; raises SearchCancelled if superseded
    """

    def __init__(self) -> None:
        self._generation = 0
        self._lock = threading.Lock()

    def begin(self) -> Callable[[], bool]:
        with self._lock:
            self._generation += 1
            mine = self._generation
        return lambda: self._generation != mine

    def cancel_all(self) -> None:
        with self._lock:
            self._generation += 1


@dataclass
class _Query:
    norm: str
    compact: str
    terms: list[list[str]]  # per query term: the index tokens that satisfy it (expansions)
    checks: list[list[tuple[str, float]]]
    """Per term: substrings that show it in a text, with a quality 0..1. A prefix's expansions
    all contain the prefix, so the typed word stands for all of them."""
    latin_only: bool


_TermPostings = tuple[int, list[array], list[str]]
"""One query term: how many postings it has in all, its postings lists, and its spellings."""


class SearchIndex:
    """Immutable once built; safe to search from several threads at once."""

    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self._pos: dict[tuple[str, Any], int] = {}
        self._title_norm: list[str] = []
        self._body_norm: list[str] = []
        self._title_post: dict[str, array] = {}
        self._body_post: dict[str, array] = {}
        self._vocab: list[str] = []
        self._vocab_by_len: dict[int, list[str]] = {}
        self._shortcuts: list[tuple[str, int]] = []
        self._short_norm: dict[int, str] = {}
        self._py_lower = ""
        self._py_orig = ""
        self._py_init = ""
        self._py_starts: list[int] = []
        self._py_init_starts: list[int] = []
        self._py_owner: list[int] = []
        self._py_slot: dict[int, int] = {}

    # ------------------------------------------------------------------ building

    @classmethod
    def build(
        cls, entries: Iterable[Entry], *, cancel: Callable[[], bool] | None = None
    ) -> SearchIndex:
        """Index entries (phrases first reads best: earlier entries win ties on huge matches).

        Postings are added once per (entry, token) pair, some ten million times for 100k
        articles, so that code is written for speed (``_post_bodies``).
        """
        self = cls()
        check = cancel or _never
        entries_list = self._entries
        positions = self._pos
        for entry in entries:
            key = (entry.kind, entry.id)
            if key in positions:  # callers merge overrides first; a repeated id is ignored
                continue
            positions[key] = len(entries_list)
            entries_list.append(entry)
        self._build_fields(check)
        body_post: dict[str, array] = {}
        _post_bodies(body_post, self._body_norm, 0, check)
        self._body_post = body_post
        vocab = {t for t in self._title_post if not _is_unit(t)}
        vocab.update(t for t in body_post if not _is_unit(t))
        self._vocab = sorted(vocab)
        for word in self._vocab:
            self._vocab_by_len.setdefault(len(word), []).append(word)
        self._shortcuts.sort()
        return self

    def _build_fields(self, cancel: Callable[[], bool]) -> None:
        """Everything of the index but the body postings, for self._entries."""
        title_post: dict[str, array] = {}
        py_full: list[str] = []
        py_init: list[str] = []
        py_starts: list[int] = []
        py_init_starts: list[int] = []
        py_owner: list[int] = []
        full_len = init_len = 0
        title_norms = self._title_norm
        body_norms = self._body_norm
        parse_keys = pinyin_keys.parse_keys
        has_han = pinyin_keys.has_han
        normalized: dict[str, str] = {}  # tags and categories repeat: normalize each once
        for pos, entry in enumerate(self._entries):
            if pos % 4096 == 0 and cancel():
                raise SearchCancelled()
            title = normalize(entry.title)
            title_norms.append(title)
            side = title
            if entry.shortcut:
                short = normalize(entry.shortcut)
                self._shortcuts.append((short, pos))
                self._short_norm[pos] = short
                side = f"{side} {short}"
            tags = entry.tags
            if tags:
                joined = " ".join(tags)
                norm = normalized.get(joined)
                if norm is None:
                    norm = normalized[joined] = normalize(joined)
                side = f"{side} {norm}"
            category = entry.category
            if category:
                norm = normalized.get(category)
                if norm is None:
                    norm = normalized[category] = normalize(category)
                side = f"{side} {norm}"
            _post(title_post, _tokens(side), pos)
            body = entry.body
            if body:
                norm = normalize(body)
                body_norms.append(body if norm == body else norm)  # share: bodies are most memory
            else:
                body_norms.append("")
            keys = entry.keys
            runs = parse_keys(keys)
            if runs is None or (not runs and not keys):
                probe = " ".join((entry.title, *tags)) if tags else entry.title
                if not probe.isascii() and has_han(probe):
                    runs = parse_keys(pinyin_keys.make_keys([entry.title, *tags]))
            if runs:
                text = " " + " ".join(runs) + " "
                py_full.append(text)
                py_starts.append(full_len)
                full_len += len(text) + 1
                inits = pinyin_keys.initials(text)  # each run's initials, spaced alike
                py_init.append(inits)
                py_init_starts.append(init_len)
                init_len += len(inits) + 1
                py_owner.append(pos)
        self._title_post = title_post
        self._py_orig = "\n".join(py_full)
        self._py_lower = self._py_orig.lower()
        self._py_init = "\n".join(py_init)
        self._py_starts = py_starts
        self._py_init_starts = py_init_starts
        self._py_owner = py_owner
        self._py_slot = {pos: slot for slot, pos in enumerate(py_owner)}

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def entries(self) -> Sequence[Entry]:
        return self._entries

    def get(self, kind: str, id: Any) -> Entry | None:
        pos = self._pos.get((kind, id))
        return None if pos is None else self._entries[pos]

    # ------------------------------------------------------------------ querying

    def search(
        self,
        query: str,
        limit: int = 20,
        *,
        boost: Mapping[Any, float] | None = None,
        kind: str | None = None,
        lang: str | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> list[Hit]:
        """Best entries for ``query``, best first.

        ``boost`` maps entry ids to 0..1 (see ``recency_boost``); ``kind`` ("phrase" or
        "article") and ``lang`` ("zh"/"en"; entries without a language always pass) filter.
        An empty query lists boosted entries first, then entries in index order.
        ``cancel`` is polled between steps; when it returns true, ``SearchCancelled`` is raised.
        Never raises on odd input: any Unicode string is a valid query.
        """
        limit = max(0, int(limit))
        if limit == 0:
            return []
        boost = boost or {}
        check = cancel or _never
        norm = _SPACE_RE.sub(" ", normalize(query or "")).strip()
        if not norm:
            return self._browse(limit, boost, kind, lang)
        q = self._parse(norm)
        if _pause(check):
            raise SearchCancelled()

        pool: dict[int, None] = {}  # ordered set
        for pos in self._shortcut_matches(q.compact):
            pool[pos] = None
        pinyin_order = self._pinyin_matches(q) if q.latin_only else []
        pinyin = set(pinyin_order)
        if _pause(check):
            raise SearchCancelled()
        title = self._intersect(q, self._title_post, self._title_norm) if q.terms else set()
        if _pause(check):
            raise SearchCancelled()
        for pos in pinyin_order:
            pool[pos] = None
        for pos in _first(title, POOL - len(pool)):
            pool[pos] = None
        for pos in self._boosted_positions(boost):
            pool[pos] = None
        if len(pool) < POOL and q.terms:
            body = self._intersect(q, self._body_post, self._body_norm)
            if _pause(check):
                raise SearchCancelled()
            for pos in _first(body - pool.keys(), POOL - len(pool)):
                pool[pos] = None

        heap: list[tuple[float, float, int, int]] = []
        for n, pos in enumerate(pool):
            if n % _CHECK_EVERY == 0 and _pause(check):
                raise SearchCancelled()
            entry = self._entries[pos]
            if kind is not None and entry.kind != kind:
                continue
            if lang is not None and entry.lang and entry.lang != lang:
                continue
            score, _ = self._score(pos, q, pos in pinyin)
            if score <= 0:
                continue
            extra = BOOST_POINTS * max(0.0, min(1.0, float(boost.get(entry.id, 0.0) or 0.0)))
            item = (min(100.0, score + extra), extra, -pos, pos)
            if len(heap) < limit:
                heapq.heappush(heap, item)
            elif item > heap[0]:
                heapq.heapreplace(heap, item)
        hits = []
        for total, _extra, _neg, pos in sorted(heap, reverse=True):
            _, matched = self._score(pos, q, pos in pinyin)
            hits.append(Hit(self._entries[pos], total, matched, self._snippet(pos, q)))
        return hits

    def _browse(
        self, limit: int, boost: Mapping[Any, float], kind: str | None, lang: str | None
    ) -> list[Hit]:
        ranked = sorted(
            self._boosted_positions(boost),
            key=lambda p: (-float(boost.get(self._entries[p].id, 0.0) or 0.0), p),
        )
        out: list[Hit] = []
        seen: set[int] = set()
        for pos in [*ranked, *range(len(self._entries))]:
            if len(out) >= limit:
                break
            if pos in seen:
                continue
            seen.add(pos)
            entry = self._entries[pos]
            if kind is not None and entry.kind != kind:
                continue
            if lang is not None and entry.lang and entry.lang != lang:
                continue
            used = float(boost.get(entry.id, 0.0) or 0.0)
            out.append(Hit(entry, BOOST_POINTS * used, "recent" if used else "", self._lead(pos)))
        return out

    def _boosted_positions(self, boost: Mapping[Any, float]) -> list[int]:
        if not boost:
            return []
        out = []
        for key, value in list(boost.items())[:1000]:
            if not value:
                continue
            for kind in ("phrase", "article"):
                pos = self._pos.get((kind, key))
                if pos is not None:
                    out.append(pos)
        return out

    def _parse(self, norm: str) -> _Query:
        compact = norm.replace(" ", "")
        terms: list[list[str]] = []
        checks: list[list[tuple[str, float]]] = []
        for ch in _units(norm):
            terms.append([ch])
            checks.append([(ch, 1.0)])
        words = list(dict.fromkeys(_WORD_RE.findall(norm)))
        last = words[-1] if words and norm.endswith(words[-1]) else None
        for word in words:
            quality = self._expand(word, prefix=word == last)
            # a word nothing resembles still counts: it keeps the query from matching all else
            terms.append(list(quality) or [word])
            typos = [(token, value) for token, value in quality.items() if value < 0.9]
            checks.append([(word, 1.0), *typos])
        latin_only = compact.isascii() and compact.isalpha()
        return _Query(norm, compact, terms, checks, latin_only)

    def _expand(self, word: str, *, prefix: bool) -> dict[str, float]:
        """Index words that satisfy a query word, with how well: exact 1, prefix .9, typo .75."""
        found: dict[str, float] = {}
        index = bisect_left(self._vocab, word)
        if index < len(self._vocab) and self._vocab[index] == word:
            found[word] = 1.0
        if prefix:
            end = bisect_right(self._vocab, word + "\U0010ffff", lo=index)
            nearby = self._vocab[index:end]
            most = 8 if len(word) <= 2 else 24  # a letter or two would expand to half the corpus
            if len(nearby) > most:
                nearby = heapq.nsmallest(most, nearby, key=len)
            for other in nearby:
                found.setdefault(other, 0.9)
        if not found and len(word) >= 4 and not word.isdigit():
            edits = 1 if len(word) <= 6 else 2
            pool: list[str] = []
            for length in range(len(word) - edits, len(word) + edits + 1):
                pool.extend(self._vocab_by_len.get(length, ()))
            for other, _distance, _ in process.extract(
                word, pool, scorer=OSA.distance, score_cutoff=edits, limit=8
            ):
                found.setdefault(other, 0.75)
        return found

    def _shortcut_matches(self, compact: str) -> list[int]:
        if not compact or not self._shortcuts:
            return []
        index = bisect_left(self._shortcuts, (compact, -1))
        out: list[int] = []
        while index < len(self._shortcuts) and len(out) < 50:
            short, pos = self._shortcuts[index]
            if not short.startswith(compact):
                break
            out.append(pos)
            index += 1
        return out

    def _pinyin_matches(self, q: _Query) -> list[int]:
        """Entries whose pinyin keys hold the query, matches at the start of a run (a title, a
        tag) first, at most POOL. One pass over the initials and, when the query could be
        pinyin at all, one over the full spellings; a lone letter counts only at a run start."""
        text = q.compact
        if not self._py_owner or not text:
            return []
        starts: dict[int, None] = {}
        others: dict[int, None] = {}
        if pinyin_keys.could_be_initials(text):
            needle = " " + text if len(text) == 1 else text
            self._scan(self._py_init, self._py_init_starts, needle, starts, others, boundary=False)
        if len(text) >= 2 and pinyin_keys.could_be_full_pinyin(text):
            self._scan(self._py_lower, self._py_starts, text, starts, others, boundary=True)
        ordered = list(starts)
        ordered.extend(p for p in others if p not in starts)
        return ordered[:POOL]

    def _scan(
        self,
        blob: str,
        starts_at: list[int],
        needle: str,
        starts: dict[int, None],
        others: dict[int, None],
        *,
        boundary: bool,
    ) -> None:
        owners = self._py_owner
        orig = self._py_orig
        at = blob.find(needle)
        last_slot = len(starts_at) - 1
        while at != -1 and len(starts) < POOL and len(starts) + len(others) < 2 * POOL:
            slot = bisect_right(starts_at, at) - 1
            if boundary and not orig[at].isupper():
                at = blob.find(needle, at + 1)
                continue
            if needle[0] == " " or blob[at - 1] == " ":
                starts[owners[slot]] = None
            else:
                others[owners[slot]] = None
            # one hit per entry is enough: go on from the next entry's keys
            at = blob.find(needle, starts_at[slot + 1]) if slot < last_slot else -1

    def _pinyin_quality(self, pos: int, text: str) -> float:
        """0 when the entry's pinyin does not hold text; else 0.72-0.98: more for a title than a
        tag, for a match at the start, and for covering more of the run."""
        slot = self._py_slot.get(pos)
        if slot is None:
            return 0.0
        start = self._py_starts[slot]
        end = self._py_starts[slot + 1] - 1 if slot + 1 < len(self._py_starts) else None
        best = 0.0
        title_runs = len(pinyin_keys.HAN_RUN_RE.findall(self._entries[pos].title))
        for number, run in enumerate(self._py_orig[start:end].split()):
            weight = 1.0 if number < title_runs else 0.9  # runs after the title's are tags
            inits = pinyin_keys.initials(run)
            at = inits.find(text)
            if at != -1:
                quality = 0.8 + 0.1 * len(text) / len(inits) + (0.08 if at == 0 else 0.0)
                best = max(best, quality * weight)
            lower = run.lower()
            at = lower.find(text)
            while at != -1:
                if run[at].isupper():
                    syllables = sum(1 for c in run[at : at + len(text)] if c.isupper())
                    quality = 0.8 + 0.1 * syllables / len(inits) + (0.08 if at == 0 else 0.0)
                    best = max(best, quality * weight)
                    break
                at = lower.find(text, at + 1)
        return min(best, 1.0)

    def _intersect(
        self, q: _Query, postings: Mapping[str, array], texts: Sequence[str]
    ) -> set[int]:
        """Entries holding every term (rarest first); leave-one-out when that finds nothing."""
        lists: list[_TermPostings] = []
        for options, checks in zip(q.terms, q.checks, strict=True):
            found = [postings[t] for t in options if t in postings]
            lists.append((sum(len(p) for p in found), found, [text for text, _ in checks]))
        lists.sort(key=lambda item: item[0])
        result = self._and(lists, texts)
        if not result and len(lists) >= 2:
            result = set()
            for skip in range(len(lists)):
                result |= self._and(lists[:skip] + lists[skip + 1 :], texts)
                if len(result) >= POOL:
                    break
        return result

    @staticmethod
    def _and(lists: list[_TermPostings], texts: Sequence[str]) -> set[int]:
        if not lists or lists[0][0] == 0:
            return set()
        _, found, _ = lists[0]
        current: set[int] = set(found[0]) if len(found) == 1 else set().union(*found)
        for size, found, options in lists[1:]:
            if not current:
                break
            if size == 0:
                return set()
            if len(current) <= _VERIFY_BELOW:
                current = {p for p in current if any(o in texts[p] for o in options)}
            elif len(found) == 1:
                current.intersection_update(found[0])
            else:
                current.intersection_update(set().union(*found))
        return current

    def _score(self, pos: int, q: _Query, pinyin: bool) -> tuple[float, str]:
        entry = self._entries[pos]
        title = self._title_norm[pos]
        compact = q.compact
        best, where = 0.0, ""
        short = self._short_norm.get(pos)
        if short:
            if short == compact:
                best, where = 100.0, "shortcut"
            elif short.startswith(compact):
                best, where = 86.0 + 10.0 * len(compact) / len(short), "shortcut"
        title_compact = title.replace(" ", "")
        if compact and compact in title_compact:
            # the query as typed, inside the title: 85-100, more for a larger share of it
            score = 85.0 + 10.0 * len(compact) / max(1, len(title_compact))
            if title_compact.startswith(compact):
                score += 5.0
            if score > best:
                best, where = score, "title"
        elif q.terms:
            # the query's words or characters spread over the title (typos allowed): 60-90
            coverage = _coverage(q, title)
            if coverage > 0:
                score = 60.0 + 20.0 * coverage + 0.1 * fuzz.partial_ratio(q.norm, title)
                if score > best:
                    best, where = score, "title"
        if best < 80.0 and (entry.tags or entry.category) and q.terms:
            side = normalize(" ".join((*entry.tags, entry.category)))
            coverage = _coverage(q, side)
            if coverage > 0:
                score = 55.0 + 25.0 * coverage
                if score > best:
                    best, where = score, "tags"
        if pinyin and best < 98.0:
            score = 100.0 * self._pinyin_quality(pos, compact) - 2.0
            if score > best:
                best, where = score, "pinyin"
        if best < 75.0 and q.terms:
            body = self._body_norm[pos]
            if body:
                coverage = _coverage(q, body)
                if coverage > 0:
                    score = 40.0 + 30.0 * coverage
                    if len(compact) >= 2 and compact in body.replace(" ", ""):
                        score += 10.0
                    if score > best:
                        best, where = score, "body"
        return best, where

    def _snippet(self, pos: int, q: _Query, width: int = 72) -> str:
        entry = self._entries[pos]
        if entry.kind == "phrase" or not entry.body:
            return ""
        body = self._body_norm[pos]
        at = -1
        for options in q.terms:
            for token in options:
                at = body.find(token)
                if at != -1:
                    break
            if at != -1:
                break
        if at == -1 or len(body) != len(entry.body):
            return self._lead(pos, width)
        start = max(0, at - width // 3)
        text = _one_line(entry.body[start : start + width])
        return ("…" if start else "") + text + ("…" if start + width < len(entry.body) else "")

    def _lead(self, pos: int, width: int = 72) -> str:
        body = self._entries[pos].body
        if not body or self._entries[pos].kind == "phrase":
            return ""
        text = _one_line(body[:width])
        return text + ("…" if len(body) > width else "")


def _coverage(q: _Query, text: str) -> float:
    """Share of the query's terms found in text, each weighted by how well it matched."""
    total = 0.0
    for checks in q.checks:
        for token, value in checks:
            if token in text:
                total += value
                break
    return total / len(q.checks) if q.checks else 0.0


def _first(positions: set[int], count: int) -> Iterable[int]:
    """Up to count of the positions. Any subset would do (all are candidates), but small ints
    iterate from a set in about ascending order, so earlier entries (phrases) come first."""
    if count <= 0:
        return ()
    return islice(positions, count)


def _one_line(text: str) -> str:
    return _SPACE_RE.sub(" ", text).strip()


def _never() -> bool:
    return False


def _pause(cancel: Callable[[], bool]) -> bool:
    """Between steps: let other threads (the UI's event loop) take the GIL, then ask whether
    this query is still wanted."""
    time.sleep(0)
    return bool(cancel())
