"""Knowledge-base import: good articles load, each bad file or line is named with its reason."""

from __future__ import annotations

import json

import pytest

from cs_tui.clock import FakeClock
from cs_tui.data.store import Store
from cs_tui.kb import KB_CATEGORIES, MAX_ARTICLE_BYTES, load_path, parse_markdown, sample_articles


@pytest.fixture
def store(tmp_path):
    with Store.open(str(tmp_path / "s.db"), clock=FakeClock()) as s:
        yield s


def test_sample_knowledge_base_is_complete():
    records = sample_articles()
    assert len(records) >= 40
    assert {r.lang for r in records} == {"zh", "en"}
    assert {r.category for r in records} == set(KB_CATEGORIES)
    assert sum(r.category == "case" for r in records) >= 6
    zh_titles = " ".join(r.title for r in records if r.lang == "zh")
    for topic in ("七天无理由", "退款", "物流", "订单号", "发票", "支付", "案例"):
        assert topic in zh_titles
    assert all(r.search_keys.startswith("py1 ") for r in records if r.lang == "zh")
    assert len({r.slug for r in records}) == len(records)


def test_markdown_front_matter():
    record = parse_markdown(
        "---\ntitle: 退款到账时间\ncategory: after_sales\ntags: [退款, 到账]\n---\n正文内容", "x"
    )
    assert (record.title, record.category, record.tags, record.lang) == (
        "退款到账时间",
        "after_sales",
        ("退款", "到账"),
        "zh",
    )
    assert record.body == "正文内容"
    assert record.search_keys == "py1 TuiKuanDaoZhangShiJian TuiKuan DaoZhang"


def test_front_matter_is_yaml_a_hash_in_a_title_and_a_comma_in_a_quoted_tag_survive():
    record = parse_markdown(
        '---\ntitle: "How to find order #12345"  # a comment\ntags: [a, "b, c"]\n'
        "category: faq\n---\nBody",
        "x",
    )
    assert record.title == "How to find order #12345"
    assert record.tags == ("a", "b, c")
    record = parse_markdown("---\ntitle: Order 2024\nslug: 2024\ntags:\n  - x\n  - 7\n---\n", "x")
    assert (record.slug, record.tags) == ("2024", ("x", "7"))


def test_broken_front_matter_is_named_with_file_and_line(tmp_path):
    (tmp_path / "unclosed.md").write_text("---\ntitle: T\ntags: [a, b\n---\nBody", "utf-8")
    (tmp_path / "colon.md").write_text("---\ncategory: faq\ntitle: Case: late\n---\n", "utf-8")
    (tmp_path / "good.md").write_text('---\ntitle: "Case: late"\n---\nBody', "utf-8")
    result = load_path(tmp_path)
    assert [r.title for r in result.records] == ["Case: late"]
    assert len(result.problems) == 2
    colon, unclosed = sorted(result.problems)
    assert colon.startswith(f"{tmp_path / 'colon.md'}:3: front matter is not valid YAML: ")
    assert 'quote a value that holds ": "' in colon
    assert unclosed.startswith(f"{tmp_path / 'unclosed.md'}:3: front matter is not valid YAML")
    with pytest.raises(ValueError, match="not valid YAML"):
        parse_markdown("---\ntitle: [\n---\n", "x")


def test_an_unquoted_title_with_a_hash_is_refused_with_the_fix_never_cut(tmp_path):
    """YAML reads ` #12345` as a comment: the article would be titled "How to find order".
    The import names the line and the fix instead, and imports the other articles."""
    (tmp_path / "cut.md").write_text(
        "---\ncategory: faq\ntitle: How to find order #12345\n---\nBody", "utf-8"
    )
    (tmp_path / "good.md").write_text("---\ntitle: Order help # a comment? no\n---\n", "utf-8")
    (tmp_path / "quoted.md").write_text('---\ntitle: "Order #7"  # note\n---\nBody', "utf-8")
    result = load_path(tmp_path)
    assert [r.title for r in result.records] == ["Order #7"]
    assert len(result.problems) == 2
    cut, good = sorted(result.problems)
    assert cut.startswith(f"{tmp_path / 'cut.md'}:3: front matter: the title's text after ' #'")
    assert 'title: "How to find order #12345"' in cut
    assert good.startswith(f"{tmp_path / 'good.md'}:2: ")


def test_heading_is_the_title_when_front_matter_has_none():
    record = parse_markdown("# Refund timing\n\nRefunds arrive within 24 hours.", "refund")
    assert record.title == "Refund timing" and record.lang == "en"
    assert record.body == "Refunds arrive within 24 hours."


def test_folder_import_names_every_bad_file(tmp_path):
    (tmp_path / "good.md").write_text("---\ntitle: Good\ncategory: faq\n---\nBody", "utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "also-good.md").write_text("# 好文章\n内容", "utf-8")
    (tmp_path / "untitled.md").write_text("---\ncategory: faq\n---\nno title here", "utf-8")
    (tmp_path / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "binary.md").write_bytes(b"title\x00\x01\x02")
    (tmp_path / "huge.md").write_text("# Huge\n" + "x" * (1024 * 1024), "utf-8")
    (tmp_path / "latin1.md").write_bytes("# caf\xe9".encode("latin-1"))
    (tmp_path / "badcat.md").write_text("---\ntitle: T\ncategory: gossip\n---\n", "utf-8")
    result = load_path(tmp_path)
    assert sorted(r.slug for r in result.records) == ["good", "sub/also-good"]
    problems = "\n".join(result.problems)
    assert "untitled.md: no title" in problems
    assert "picture.png: skipped: a binary file" in problems
    assert "binary.md: a binary file" in problems
    assert "huge.md: too large" in problems and f"{MAX_ARTICLE_BYTES // 1024} KB" in problems
    assert "latin1.md: not UTF-8" in problems
    assert "badcat.md: unknown category 'gossip'" in problems


def test_jsonl_import_names_bad_lines(tmp_path):
    path = tmp_path / "kb.jsonl"
    lines = [
        json.dumps({"slug": "a", "title": "Invoices", "body": "We email invoices."}),
        "{not json",
        json.dumps({"slug": "b", "body": "no title"}),
        json.dumps(["a list"]),
        "",
        json.dumps({"id": 7, "title": "发票", "body": "电子发票", "tags": ["发票"]}),
    ]
    path.write_text("\n".join(lines), "utf-8")
    result = load_path(path)
    assert [r.slug for r in result.records] == ["a", "7"]
    assert [p.split(": ", 1)[0].rsplit(":", 1)[1] for p in result.problems] == ["2", "3", "4"]
    assert "no title" in result.problems[1]


def test_missing_path_is_a_problem_not_an_exception(tmp_path):
    assert load_path(tmp_path / "nope").problems[0].endswith("no such file or folder")


def test_store_upsert_inserts_then_updates(store):
    records = sample_articles()
    assert store.upsert_articles(records) == (len(records), 0)
    assert store.count_articles() == len(records)
    changed = [records[0].__class__(**{**records[0].as_row(), "title": "New title", "tags": ()})]
    assert store.upsert_articles(changed) == (0, 1)
    article = store.article(records[0].slug)
    assert article.title == "New title"
    assert store.article(article.id) == article
    assert store.article(999_999) is None
    assert len(store.articles(limit=5)) == 5
    assert store.articles()[0].search_keys == records[0].search_keys


def test_phrase_use_is_recorded_newest_first(store):
    agent = store.ensure_agent("alice")
    store.record_phrase_use(agent.id, "zh.refund.timing")
    store.clock.advance(60)
    store.record_phrase_use(agent.id, "zh.greeting.welcome")
    uses = store.recent_phrase_uses(agent.id)
    assert [u[0] for u in uses] == ["zh.greeting.welcome", "zh.refund.timing"]
    assert uses[0][1] == store.clock.now()
    other = store.ensure_agent("bob")
    assert store.recent_phrase_uses(other.id) == []


def test_front_matter_aliases_cannot_blow_up_and_nested_values_are_refused(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    (tmp_path / "bomb.md").write_text(f"---\ntitle: T\n{bomb}lang: *i\n---\nBody", "utf-8")
    (tmp_path / "loop.md").write_text("---\ntitle: T\ntags: &t [*t]\n---\n", "utf-8")
    result = load_path(tmp_path)
    assert result.records == []
    assert sorted(p.split(": ", 1)[1] for p in result.problems) == [
        "front matter: b must be text or a list of words",
        "front matter: tags must be text or a list of words",
    ]
