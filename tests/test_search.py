"""The search engine: Chinese by characters and pinyin, English with typos, boosts, cancelling."""

from __future__ import annotations

import subprocess
import sys
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _shipped_entries() -> list[Entry]:
    library, _ = PhraseLibrary.load(personal=Path("/nonexistent-personal-dir"), team=[])
    return [*library.entries(), *article_entries(sample_articles())]


def test_cancelling_a_build_stops_it():
    asked = []
    with pytest.raises(SearchCancelled):
        SearchIndex.build(_shipped_entries(), cancel=lambda: asked.append(1) or len(asked) > 1)
    assert len(asked) == 2


@pytest.mark.parametrize(
    ("query", "category"), [("refnud", "refund"), ("retrun", "return"), ("rfeund", "refund")]
)
def test_swapped_letters_find_the_phrases_in_the_shipped_packs(phrases, query, category):
    """Two neighbouring letters typed the wrong way round are one slip, not two edits."""
    top = phrases.search(query, 3)
    assert len(top) == 3
    assert all(category in h.entry.payload.category or category in h.id for h in top)


@pytest.mark.parametrize(("query", "word"), [("refnud", "refund"), ("retrun", "return")])
def test_swapped_letters_find_knowledge_articles(articles, query, word):
    top = articles.search(query, 3)
    assert top and all(word in normalize(h.title + " " + h.entry.body) for h in top)
