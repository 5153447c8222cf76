"""The search engine: Chinese by characters and pinyin, English with typos, boosts, cancelling."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_tui import search
from cs_tui.kb import article_entries, sample_articles
from cs_tui.phrases import PhraseLibrary
from cs_tui.search import (
    Entry,
    LatestQuery,
    SearchCancelled,
    SearchIndex,
    normalize,
    recency_boost,
)


@pytest.fixture(scope="module")
def phrases():
    library, _ = PhraseLibrary.load(personal=Path("/nonexistent-personal-dir"), team=[])
    return library


@pytest.fixture(scope="module")
def articles():
    return SearchIndex.build(article_entries(sample_articles()))


def small_index() -> SearchIndex:
    return SearchIndex.build(
        [
            Entry("greet", "phrase", "欢迎语", "您好，很高兴为您服务", shortcut="hello1"),
            Entry("refund", "phrase", "退款到账时间", "退款会在24小时内到账", shortcut="zz9"),
            Entry("delay", "phrase", "物流延迟致歉", "您的包裹因天气原因延迟", shortcut="zz8"),
            Entry("en-refund", "phrase", "Refund timing", "Your refund arrives within 24 hours"),
            Entry("en-invoice", "phrase", "Getting an invoice", "We email the invoice"),
        ]
    )


@pytest.mark.parametrize("query", ["tk", "tuikuan", "tuik", "退款", "退款时间"])
def test_chinese_phrase_found_by_characters_full_pinyin_and_initials(query):
    hits = small_index().search(query)
    assert hits and hits[0].id == "refund"


@pytest.mark.parametrize("query", ["refund", "refnd", "refu", "REFUND timing", "ｒｅｆｕｎｄ"])
def test_english_found_by_words_prefix_typos_case_and_fullwidth(query):
    hits = small_index().search(query)
    assert hits and hits[0].id == "en-refund"


def test_tk_finds_a_refund_phrase_first_in_the_shipped_packs(phrases):
    hits = phrases.search("tk", 5)
    assert hits[0].entry.payload.category == "refund" or "退款" in hits[0].title
    assert all("退款" in h.title or "退款" in h.entry.payload.label for h in hits)


def test_shortcut_exact_match_ranks_first(phrases):
    hits = phrases.search("tkdz")
    assert hits[0].id == "zh.refund.timing"
    assert hits[0].score == 100.0


def test_lang_and_kind_filters(phrases):
    assert all(h.entry.lang == "en" for h in phrases.search("refund", 20, lang="en"))
    assert phrases.search("refund", 5, kind="article") == []


def test_recent_use_lifts_an_entry_among_equals(phrases):
    plain = [h.id for h in phrases.search("退款", 10)]
    favourite = plain[-1]
    boosted = [h.id for h in phrases.search("退款", 10, boost={favourite: 1.0})]
    assert boosted.index(favourite) < plain.index(favourite)


def test_recency_boost_prefers_recent_and_frequent():
    now = datetime(2026, 11, 11, tzinfo=UTC)
    uses = [("a", now), ("a", now - timedelta(days=1)), ("b", now - timedelta(days=30))]
    boost = recency_boost(uses, now)
    assert boost["a"] == 1.0
    assert 0 < boost["b"] < 0.2


def test_empty_query_lists_recent_first(phrases):
    hits = phrases.search("", 3, boost={"zh.closing.goodbye": 1.0})
    assert hits[0].id == "zh.closing.goodbye"
    assert len(hits) == 3


def test_article_search_gives_snippets(articles):
    hits = articles.search("七天无理由", 3)
    assert hits[0].title == "七天无理由退货规则"
    assert hits[0].to_json().keys() == {"id", "title", "category", "score", "snippet"}
    assert all(h.snippet for h in hits)


def test_article_found_by_body_words(articles):
    hits = articles.search("信用卡", 5)
    assert hits
    assert all("信用卡" in h.entry.body or "信用卡" in h.title for h in hits)


def test_english_article_with_a_typo(articles):
    assert articles.search("invoce", 1)[0].title in ("Getting an invoice", "Correcting an invoice")


def test_phrase_json_has_shortcut_and_body(phrases):
    data = phrases.search("sorry", 1)[0].to_json()
    assert data.keys() == {"id", "title", "category", "score", "shortcut", "body"}


def test_cancel_stops_a_query_and_newer_keystroke_wins():
    index = small_index()
    with pytest.raises(SearchCancelled):
        index.search("退款", cancel=lambda: True)
    latest = LatestQuery()
    older = latest.begin()
    newer = latest.begin()
    assert older() is True and newer() is False
    with pytest.raises(SearchCancelled):
        index.search("tk", cancel=older)
    assert index.search("tk", cancel=newer)[0].id == "refund"


def test_build_computes_missing_pinyin_keys_and_ignores_stale_formats():
    index = SearchIndex.build([Entry(1, "article", "发票开具流程", "正文", keys="old-format")])
    assert index.search("fpkj")[0].id == 1


def test_domain_modules_do_not_import_textual_or_pypinyin_eagerly():
    code = (
        "import sys\n"
        "import cs_tui.search, cs_tui.phrases, cs_tui.compliance, cs_tui.sentiment, cs_tui.kb\n"
        "import cs_tui.pinyin_keys, cs_tui.data.kb_store\n"
        "assert 'textual' not in sys.modules, 'textual'\n"
        "assert 'pypinyin' not in sys.modules, 'pypinyin'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_search_never_raises_on_any_unicode(query):
    index = small_index()
    for hit in index.search(query, 5):
        assert 0 <= hit.score <= 100


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=5), st.text(max_size=10))
def test_index_builds_from_any_unicode(titles, query):
    entries = [Entry(i, "article", t, t * 2, tags=(t[:3],)) for i, t in enumerate(titles)]
    SearchIndex.build(entries).search(query)


# Chinese prose is full of full-width punctuation, which normalize handles on a fast path.
_WIDE_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("，：；？！（）…\u3000退款ＡＢｃ１ß\u0301e\u1100\u1161ﬁ①"), st.characters()
    ),
    max_size=40,
)


@settings(max_examples=500, deadline=None)
@given(_WIDE_TEXT)
def test_normalize_folds_exactly_like_nfkc_and_casefold(text):
    assert normalize(text) == unicodedata.normalize("NFKC", text).casefold()


# Big indexes are built with a helper process (cs_tui.search._BodyHelper); these tests make it
# take part in a small one.
_QUERIES = [
    "退款",
    "tk",
    "tuikuan",
    "refund",
    "refnd",
    "invoice",
    "七天无理由",
    "信用卡",
    "物流 延迟",
]


def _shipped_entries() -> list[Entry]:
    library, _ = PhraseLibrary.load(personal=Path("/nonexistent-personal-dir"), team=[])
    return [*library.entries(), *article_entries(sample_articles())]


def _answers(index: SearchIndex) -> list[list[tuple]]:
    return [
        [(h.entry.kind, h.id, h.score, h.matched, h.snippet) for h in index.search(q, 20)]
        for q in _QUERIES
    ]


@pytest.fixture
def helper_outcomes(monkeypatch):
    """The answers of an index built without the helper process; then lets the helper take part
    in any build, and lists whether its postings could be read each time."""
    monkeypatch.setattr(search._BodyHelper, "possible", staticmethod(lambda: True))
    outcomes: list[bool] = []
    take = search._BodyHelper.postings

    def recorded(self, *args):
        postings = take(self, *args)
        outcomes.append(postings is not None)
        return postings

    monkeypatch.setattr(search._BodyHelper, "postings", recorded)
    monkeypatch.setattr(search, "HELPER_MIN_ENTRIES", 10**9)
    alone = _answers(SearchIndex.build(_shipped_entries()))
    monkeypatch.setattr(search, "HELPER_MIN_ENTRIES", 1)
    assert outcomes == []
    return alone, outcomes


needs_posix = pytest.mark.skipif(os.name != "posix", reason="the helper is used on POSIX only")


def _share(monkeypatch, helper_chunks: int) -> None:
    """Splits the shipped entries' bodies into 12 chunks and leaves the first helper_chunks
    of them to the helper process, whatever its speed."""
    monkeypatch.setattr(search, "_HELPER_CHUNK", 16)
    seen = search._BodyHelper.done

    def done(self):
        deadline = time.monotonic() + 30
        while seen(self) < min(helper_chunks, 12) and time.monotonic() < deadline:
            time.sleep(0.005)
        return min(seen(self), helper_chunks)

    monkeypatch.setattr(search._BodyHelper, "done", done)


@needs_posix
@pytest.mark.parametrize("helper_chunks", [0, 5, 12])
def test_index_built_with_a_helper_process_answers_the_same(
    helper_outcomes, monkeypatch, helper_chunks
):
    """However the work is shared: all here, part here, all in the helper."""
    alone, outcomes = helper_outcomes
    _share(monkeypatch, helper_chunks)
    assert _answers(SearchIndex.build(_shipped_entries())) == alone
    assert outcomes == [True]


@needs_posix
def test_helper_process_works_through_temporary_files_without_memfd(helper_outcomes, monkeypatch):
    alone, outcomes = helper_outcomes
    _share(monkeypatch, 12)
    monkeypatch.delattr(os, "memfd_create", raising=False)
    assert _answers(SearchIndex.build(_shipped_entries())) == alone
    assert outcomes == [True]


@needs_posix
def test_index_is_complete_when_the_helper_process_cannot_start(helper_outcomes, monkeypatch):
    alone, outcomes = helper_outcomes
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    assert _answers(SearchIndex.build(_shipped_entries())) == alone
    assert outcomes == []


@needs_posix
def test_index_is_complete_when_the_helper_process_fails(helper_outcomes, monkeypatch):
    alone, _ = helper_outcomes
    monkeypatch.setattr(search, "_HELPER_CODE", "import sys; sys.exit(3)")
    assert _answers(SearchIndex.build(_shipped_entries())) == alone


@needs_posix
def test_index_is_complete_when_the_helper_postings_cannot_be_read(helper_outcomes, monkeypatch):
    alone, outcomes = helper_outcomes
    _share(monkeypatch, 12)

    def unreadable(*args):
        raise OSError("unreadable")

    monkeypatch.setattr(search.os, "pread", unreadable)
    assert _answers(SearchIndex.build(_shipped_entries())) == alone
    assert outcomes == [False]


@needs_posix
def test_cancelling_a_build_stops_its_helper_process(helper_outcomes, monkeypatch):
    started = []
    start = search._BodyHelper.start.__func__

    def keep(cls, *args):
        started.append(start(cls, *args))
        return started[-1]

    monkeypatch.setattr(search._BodyHelper, "start", classmethod(keep))
    asked = []
    with pytest.raises(SearchCancelled):
        SearchIndex.build(_shipped_entries(), cancel=lambda: asked.append(1) or len(asked) > 1)
    assert started and started[0]._process.poll() is not None
