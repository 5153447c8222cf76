"""The knowledge preview by keyboard: read an article, choose paragraphs, insert them.

Driven on the demo store, whose knowledge base is the shipped sample (with an article that holds
an internal note in each language). What the composer holds afterwards is compared character for
character with what the preview showed.
"""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.widgets import OptionList

from cs_tui.widgets.composer import Composer
from cs_tui.widgets.kb_preview import ArticlePreview, wrapped
from tests.ui.pilot_helpers import app_for, mine, select, settle, type_text

ZH_SECOND = "您好，非常抱歉让您久等了。我已经联系快递核实您的包裹，会在2小时内给您回复最新进展。"
ZH_LIST = "- 超过承诺时间1到3天：5元无门槛优惠券；\n- 超过3天：10元无门槛优惠券；\n- 包裹丢失：免费补发，或全额退款。"
ZH_CLOSING = "请问还有其他可以帮您的吗？包裹有新进展我会第一时间通知您。"


def chinese_row(store):
    return next(r for r in mine(store, "open") if not r.customer_name.isascii())


async def open_article(pilot, row, query: str) -> ArticlePreview:
    """Open `row`, search the knowledge base for `query` and Enter on the first result."""
    await select(pilot, row)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("ctrl+k")
    await settle(pilot)
    await type_text(pilot, query)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    preview = pilot.app.screen.query_one(ArticlePreview)
    assert pilot.app.focused is preview
    return preview


def shown(preview: ArticlePreview, index: int) -> str:
    """What the preview draws for paragraph `index`, without the line breaks of its wrapping."""
    return preview.paragraphs[index].text


async def test_the_second_paragraph_goes_in_exactly_as_previewed(store, clock):
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        preview = await open_article(pilot, chinese_row(store), "包裹延误的答复")
        # The article's first paragraph is highlighted; j moves to the second.
        assert shown(preview, preview.current).startswith("先承认等待")
        await pilot.press("j")
        assert shown(preview, preview.current) == ZH_SECOND  # bold lost its asterisks
        composer = pilot.app.screen.query_one(Composer)
        composer.insert_text("您好! ")  # the agent already wrote something: insert at the cursor
        preview.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.focused is composer
        assert composer.text == "您好! " + ZH_SECOND


async def test_an_internal_note_is_never_inserted_even_in_a_selection(store, clock):
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        preview = await open_article(pilot, chinese_row(store), "包裹延误的答复")
        note = next(i for i, p in enumerate(preview.paragraphs) if p.kind == "internal")
        assert "组长审批" in preview.paragraphs[note].text  # shown to the agent...
        # ...but the highlight never stops on it: j from the list goes past it.
        await pilot.press("j", "j")
        assert preview.paragraphs[preview.current].text == ZH_LIST
        await pilot.press("j")
        assert preview.paragraphs[preview.current].text == ZH_CLOSING
        # From the second paragraph stretch down over the list, the note and the closing.
        await pilot.press("k", "k", "J", "J")
        assert preview.chosen()[0] < note < preview.chosen()[-1]
        await pilot.press("enter")
        await settle(pilot)
        composer = pilot.app.screen.query_one(Composer)
        assert composer.text == "\n\n".join((ZH_SECOND, ZH_LIST, ZH_CLOSING))
        assert "审批" not in composer.text and "内部" not in composer.text


async def test_english_list_keeps_its_dashes_and_escape_goes_back_to_the_results(store, clock):
    row = next(r for r in mine(store, "open") if r.customer_name.isascii())
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        preview = await open_article(pilot, row, "late parcel offer")
        await pilot.press("j", "j")
        await pilot.press("enter")
        await settle(pilot)
        composer = pilot.app.screen.query_one(Composer)
        assert composer.text == (
            "- 1 to 3 days later than promised: a 5 yuan coupon, no minimum spend;\n"
            "- more than 3 days late: a 10 yuan coupon, no minimum spend;\n"
            "- parcel lost: a free replacement, or a full refund."
        )
        await pilot.press("ctrl+k")
        await settle(pilot)
        await pilot.press("enter")  # into the article again, then back out to the results
        await settle(pilot)
        assert pilot.app.focused is preview
        await pilot.press("escape")
        assert pilot.app.focused is pilot.app.screen.query_one("#kb-list", OptionList)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_categories_show_by_name(store, clock, lang):
    app = app_for(store, clock, lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_article(pilot, chinese_row(store), "七天无理由退货规则")
        listing = pilot.app.screen.query_one("#kb-list", OptionList)
        first = str(listing.get_option_at_index(0).prompt)
        assert ("平台规则" if lang == "zh" else "Platform rules") in first
        assert "platform_rules" not in first
        title = pilot.app.screen.query_one(ArticlePreview).children[0].render()
        assert ("平台规则" if lang == "zh" else "Platform rules") in str(title)


def test_chinese_wraps_between_characters_and_list_items_hang():
    text = wrapped(
        Text("- 商品未激活、未使用，不影响二次销售；\n先说结果，再解释条件。"), 12, hanging=True
    )
    lines = text.plain.split("\n")
    # Not "- " alone with the sentence pushed below; and "、" does not start a line, so "活"
    # goes down with it.
    assert lines[0] == "- 商品未激"
    assert all(line.startswith("  ") for line in lines[1:3])
    assert "".join(line.strip().removeprefix("- ") for line in lines) == (
        "商品未激活、未使用，不影响二次销售；先说结果，再解释条件。"
    )
    assert not any(line.lstrip().startswith(("，", "。", "；")) for line in lines)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_snapshot_knowledge_preview(snap_compare, store, clock, lang):
    """The article with an internal note, read in the preview, the model answer highlighted."""
    row = (
        chinese_row(store)
        if lang == "zh"
        else next(r for r in mine(store, "open") if r.customer_name.isascii())
    )
    app = app_for(store, clock, lang=lang)

    async def read_article(pilot):
        await settle(pilot)
        await open_article(pilot, row, "包裹延误的答复" if lang == "zh" else "late parcel offer")
        await pilot.press("j", "J")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=read_article)


async def test_help_lists_the_preview_keys_first_while_reading(store, clock):
    from cs_tui.screens.help import HelpScreen

    app = app_for(store, clock, lang="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_article(pilot, chinese_row(store), "包裹延误的答复")
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(pilot.app.screen, HelpScreen)
        title, bindings = pilot.app.screen.sections[0]
        assert title == "侧栏:知识文章"
        assert {b.id for b in bindings} >= {"kb.next", "kb.insert", "kb.select_down", "kb.back"}
