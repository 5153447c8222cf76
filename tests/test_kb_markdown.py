"""An article's Markdown as the paragraphs the preview shows and the composer receives.

The text of a paragraph is what the agent inserts, so these check it character for character:
Markdown syntax gone the way the preview shows it, lists kept as lists, internal notes kept out.
"""

from __future__ import annotations

from cs_tui.kb import sample_articles
from cs_tui.kb_markdown import Paragraph, chosen_text, paragraphs, suggested_index

ZH = """\
## 适用条件

买家在**确认收货后7天内**可以申请退货，
需要同时满足：

- 商品未激活、未使用；
- 包装、吊牌、配件齐全；
  - 赠品也要一起退回

> 内部: 超过10元的补偿要组长审批。

## 客服怎么说

先说结果：“您的订单还在七天无理由退货期内，可以直接申请。”
"""

EN = """\
# Refunds

Refunds go back to the *original* payment method, see [the table](https://example.com/t).

1. Check the order status.
2. Confirm the **amount** with `refund-check`.

| Paid with | Arrives |
|---|---|
| Alipay | within 24 hours |
| Card | 1 to 3 business days |

> Internal: exceptions need a supervisor.
> Never promise them yourself.

> A customer once wrote: thanks!
"""


def kinds(paras: list[Paragraph]) -> list[str]:
    return [p.kind for p in paras]


def test_chinese_article_paragraphs_read_as_previewed():
    paras = paragraphs(ZH)
    assert kinds(paras) == ["heading", "text", "list", "internal", "heading", "text"]
    assert paras[0].text == "适用条件" and paras[0].level == 2
    # Bold loses its asterisks; the author's line break stays (Chinese has no space to join on).
    assert paras[1].text == "买家在确认收货后7天内可以申请退货，\n需要同时满足："
    assert ("确认收货后7天内", "bold") in paras[1].runs
    assert paras[2].text == "- 商品未激活、未使用；\n- 包装、吊牌、配件齐全；\n  - 赠品也要一起退回"
    assert paras[3].text == "超过10元的补偿要组长审批。"  # the marker is the preview's label
    assert [p.insertable for p in paras] == [False, True, True, False, False, True]


def test_english_article_lists_tables_links_and_code():
    paras = paragraphs(EN)
    assert kinds(paras) == ["heading", "text", "list", "table", "internal", "quote"]
    assert paras[1].text == (
        "Refunds go back to the original payment method, see the table (https://example.com/t)."
    )
    assert paras[2].text == "1. Check the order status.\n2. Confirm the amount with refund-check."
    assert paras[3].text == (
        "Paid with | Arrives\nAlipay | within 24 hours\nCard | 1 to 3 business days"
    )
    assert paras[4].text == "exceptions need a supervisor.\nNever promise them yourself."
    assert paras[5].text == "A customer once wrote: thanks!"


def test_an_ordered_list_keeps_its_numbers():
    (listed,) = paragraphs("3. third\n4. fourth\n\n   more of the fourth")
    assert listed.text == "3. third\n4. fourth\n   more of the fourth"


def test_a_selection_leaves_headings_and_internal_notes_out():
    paras = paragraphs(ZH)
    assert chosen_text(paras[1:5]) == (
        "买家在确认收货后7天内可以申请退货，\n需要同时满足：\n\n"
        "- 商品未激活、未使用；\n- 包装、吊牌、配件齐全；\n  - 赠品也要一起退回"
    )
    assert "审批" not in chosen_text(paras)
    assert chosen_text([paras[3]]) == "" and chosen_text([paras[0]]) == ""


def test_internal_notes_hidden_inside_lists_and_quotes_stay_out():
    paras = paragraphs("- item\n\n  > Internal: secret one\n\n> said\n>\n> > 内部：secret two\n")
    assert "secret" not in chosen_text(paras)
    notes = [p.text for p in paras if p.kind == "internal"]
    assert notes == ["secret one", "secret two"]


def test_the_model_answer_is_where_the_preview_starts():
    paras = paragraphs(ZH)
    assert suggested_index(paras) == 5  # the paragraph quoting a reply to the customer
    assert suggested_index(paragraphs("## Only\n\n> Internal: x")) is None
    assert suggested_index(paragraphs("## A\n\nplain\n\nmore")) == 1


def test_markup_and_escape_codes_in_an_article_are_text():
    (para,) = paragraphs("[bold]x[/] [@click=app.quit]q[/] <b>h</b> \x1b]52;c;aGk=\x07ok\x9b2J")
    assert para.text == "[bold]x[/] [@click=app.quit]q[/] <b>h</b> ok"


def test_a_huge_article_is_cut_with_a_note():
    body = "\n\n".join(f"paragraph {n}" for n in range(20_000))
    paras = paragraphs(body, limit=1000)
    assert paras[-1].kind == "more" and paras[-1].text.startswith("… (+")
    assert not paras[-1].insertable
    assert len(paras) < 100


def test_every_sample_article_renders_and_the_samples_show_internal_notes():
    noted = set()
    for record in sample_articles():
        paras = paragraphs(record.body)
        assert paras, record.slug
        if any(p.kind == "internal" for p in paras):
            noted.add(record.lang)
            assert not any(
                "审批" in p.text or "approval" in p.text for p in paras if p.insertable
            ), record.slug
    assert noted == {"zh", "en"}
