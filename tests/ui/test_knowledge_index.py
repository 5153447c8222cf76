"""The knowledge index is the app's: built once, kept across screens, renewed by a kb import.

Building it reads every article (seconds on a big knowledge base), so an agent who switches the
interface language must not wait for it again; and articles another process imports must turn
up in the agent's next search without a restart.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from textual.widgets import OptionList

from cs_tui import kb
from cs_tui.app import make_app
from tests.ui.pilot_helpers import settle

ARTICLE = """---
title: Zebracorn blender warranty
category: faq
tags: [warranty]
lang: en
---

The Zebracorn blender has a two-year warranty. "You can claim it from the order page."
"""


@pytest.fixture
def store_path(store, tmp_path):
    """The file of the shared `store` fixture (a copy of the demo store for this test)."""
    return tmp_path / "store.db"


@pytest.fixture
def builds(monkeypatch):
    """How many times the knowledge index was built (each build reads every article)."""
    count = []
    original = kb.article_entries

    def counting(*args, **kwargs):
        count.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(kb, "article_entries", counting)
    return count


async def search(pilot, text: str) -> list[str]:
    """Open the knowledge tab, search for `text`, and read the titles listed."""
    await pilot.press("ctrl+k")
    await settle(pilot)
    field = pilot.app.screen.query_one("#kb-search")
    field.value = text
    await settle(pilot)
    listing = pilot.app.screen.query_one("#kb-list", OptionList)
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


async def test_a_language_switch_searches_the_same_index(store, builds):
    app = make_app(store, "alice", clock=store.clock, lang="en", live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert any("refund" in title.lower() for title in await search(pilot, "refund"))
        await pilot.press("escape", "f9")
        await settle(pilot)
        assert app.lang == "zh"
        assert await search(pilot, "退款")
    assert len(builds) == 1


@pytest.mark.slow
async def test_articles_imported_by_another_process_are_found(store, store_path, tmp_path):
    article = tmp_path / "zebracorn.md"
    article.write_text(ARTICLE, encoding="utf-8")
    app = make_app(store, "alice", clock=store.clock, lang="en", live=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert not any("Zebracorn" in t for t in await search(pilot, "Zebracorn"))
        done = subprocess.run(
            [sys.executable, "-m", "cs_tui", "kb", "import", "--db", str(store_path)]
            + ["--agent", "sam", str(article)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        pilot.app.screen._live._poll()
        await settle(pilot)
        listing = pilot.app.screen.query_one("#kb-list", OptionList)
        titles = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert any("Zebracorn" in t for t in titles)
