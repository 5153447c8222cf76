"""The catalogs: what an agent reads is a reviewed translation in the form the count needs, and
the compiled files that ship are the ones the sources describe."""

from __future__ import annotations

import gettext
import io
import shutil

import pytest

from cs_tui import i18n

HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Plural-Forms: {forms}\\n"\n\n'


def _catalog(po: str, lang: str) -> gettext.GNUTranslations:
    body = HEADER.format(forms=i18n.PLURAL_FORMS[lang]) + po
    return gettext.GNUTranslations(io.BytesIO(i18n.compile_po(body, lang)))


@pytest.fixture
def locale_copy(tmp_path, monkeypatch):
    """The shipped catalogs copied aside, so a test can break them without touching the package."""
    copy = tmp_path / "locale"
    shutil.copytree(i18n.locale_dir(), copy)
    monkeypatch.setattr(i18n, "locale_dir", lambda: copy)
    return copy


def _edit_po(lang: str, old: str, new: str) -> None:
    path = i18n.po_path(lang)
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_fuzzy_guess_is_not_shown_to_the_agent():
    catalog = _catalog(
        '#, fuzzy\nmsgid "Claim"\nmsgstr "索赔"\n\nmsgid "Close"\nmsgstr "关闭"\n', "zh"
    )
    assert catalog.gettext("Claim") == "Claim"
    assert catalog.gettext("Close") == "关闭"


def test_counted_messages_take_the_form_each_language_needs():
    po = (
        'msgid "{count} earlier message not shown"\n'
        'msgid_plural "{count} earlier messages not shown"\n'
    )
    english = _catalog(
        po + 'msgstr[0] "{count} earlier message not shown"\n'
        'msgstr[1] "{count} earlier messages not shown"\n',
        "en",
    )
    chinese = _catalog(po + 'msgstr[0] "前面还有{count}条消息未显示"\n', "zh")
    singular, plural = "{count} earlier message not shown", "{count} earlier messages not shown"
    assert english.ngettext(singular, plural, 1) == "{count} earlier message not shown"
    assert english.ngettext(singular, plural, 2) == "{count} earlier messages not shown"
    assert chinese.ngettext(singular, plural, 1) == "前面还有{count}条消息未显示"
    assert chinese.ngettext(singular, plural, 7) == "前面还有{count}条消息未显示"


def test_shipped_catalogs_count_in_both_languages():
    singular, plural = "{count} earlier message not shown", "{count} earlier messages not shown"
    try:
        i18n.set_language("en")
        assert i18n._n(singular, plural, 1).format(count=1) == "1 earlier message not shown"
        assert i18n._n(singular, plural, 3).format(count=3) == "3 earlier messages not shown"
        i18n.set_language("zh")
        assert "3" in i18n._n(singular, plural, 3).format(count=3)
        assert i18n._n(singular, plural, 3) != plural
    finally:
        i18n.set_language("en")


def test_a_text_renders_in_a_language_other_than_the_interface():
    try:
        i18n.set_language("en")
        assert i18n.translate("zh", "Claim") == "领取"
        i18n.set_language("zh")
        assert i18n.translate("en", "Claim") == "Claim"
        assert i18n.translate("fr", "Claim") == "Claim"
    finally:
        i18n.set_language("en")


def test_the_shipped_catalogs_are_clean_and_compiled():
    for lang in i18n.LANGUAGES:
        assert i18n.problems(lang) == []
        assert not i18n.stale(lang), lang


def test_a_po_fix_without_compiling_is_caught(locale_copy):
    _edit_po("zh", 'msgstr "领取"', 'msgstr "认领"')
    assert i18n.stale("zh")
    assert not i18n.stale("en")
    i18n.compile_all()
    assert not i18n.stale("zh")
    fresh = gettext.GNUTranslations(i18n.mo_path("zh").open("rb"))
    assert fresh.gettext("Claim") == "认领"


def test_a_fuzzy_or_missing_translation_of_a_used_message_is_named(locale_copy):
    before = set(i18n.problems("zh"))
    _edit_po("zh", 'msgid "Claim"\nmsgstr "领取"', '#, fuzzy\nmsgid "Claim"\nmsgstr "领取"')
    _edit_po("zh", 'msgid "Close"\nmsgstr "关闭"', 'msgid "Close"\nmsgstr ""')
    assert set(i18n.problems("zh")) - before == {
        "zh: fuzzy: 'Claim'",
        "zh: untranslated: 'Close'",
    }


def test_a_wrong_plural_rule_is_named(locale_copy):
    _edit_po("zh", "nplurals=1; plural=0;", "nplurals=2; plural=(n != 1);")
    assert any("Plural-Forms" in line for line in i18n.problems("zh"))


def test_update_adds_new_messages_and_keeps_every_translation(locale_copy, monkeypatch):
    used = i18n.extract()
    new = "A message nobody translated yet"
    counted = ("{n} new thing", "{n} new things")
    before = set(i18n.problems("zh"))
    monkeypatch.setattr(i18n, "extract", lambda: {**used, new: ["cs_tui/x.py:1"], counted: []})
    i18n.update()
    zh, en = i18n.read_catalog("zh"), i18n.read_catalog("en")
    assert zh.get("Claim").string == "领取"
    assert zh.get("{count} earlier message not shown").string == (
        "还有 {count} 条更早的消息未显示",
    )
    assert en.get(new).string == new
    assert en.get(counted[0]).string == counted
    assert set(i18n.problems("zh")) - before == {
        "zh: untranslated: 'A message nobody translated yet'",
        "zh: untranslated: '{n} new thing'",
    }
    assert not any(message.fuzzy for message in zh if message.id)
