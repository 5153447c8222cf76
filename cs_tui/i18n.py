"""The interface language: standard gettext catalogs, `.po` sources next to compiled `.mo` files.

Message ids are the English texts. `_()` translates at call time, so one process can switch
language (the app rebuilds its screens after `set_language`). `N_()` only marks a string for
extraction; it is translated where it is shown (binding descriptions, for example). `_n()` picks
the plural form the language needs (Chinese has one, English two). `translate()` renders a text in
a language other than the interface's: a role-play scorecard reads in the conversation's language.

The runtime reads the committed `.mo` files with the standard library only: every start pays for
the catalog, and Babel's import alone costs more than reading both catalogs. Babel is a development
tool here (the `test` extra): `python -m cs_tui.i18n update` adds new message ids found in the code
to both `.po` files and `python -m cs_tui.i18n compile` writes the `.mo` files; a test fails when a
`.mo` is stale, so a fix in a `.po` cannot be forgotten on the way to users.
"""

from __future__ import annotations

import functools
import gettext
import sys
from pathlib import Path

TYPE_CHECKING = False  # typing's import is not worth it on the start-up path
if TYPE_CHECKING:
    import ast

    from babel.messages.catalog import Catalog

DOMAIN = "cs_tui"
LANGUAGES = ("zh", "en")
PLURAL_FORMS = {"zh": "nplurals=1; plural=0;", "en": "nplurals=2; plural=(n != 1);"}
"""The plural rule each catalog's header must carry (gettext reads it from the `.mo`)."""

_catalogs: dict[str, gettext.NullTranslations] = {}
_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def locale_dir() -> Path:
    return Path(__file__).parent / "locale"


def po_path(lang: str) -> Path:
    return locale_dir() / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return locale_dir() / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"


def _(msgid: str) -> str:
    """The message in the current interface language."""
    return _translation.gettext(msgid)


def N_(msgid: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a message for extraction; translate it with `_()` where it is shown."""
    return msgid


def _n(singular: str, plural: str, n: int) -> str:
    """The form of a counted message that fits `n` ("1 message", "2 messages") in the
    interface language; format the count in afterwards."""
    return _translation.ngettext(singular, plural, n)


def current_language() -> str:
    return _language


def load(lang: str) -> gettext.NullTranslations:
    """The compiled catalog for `lang`, read once per process.

    A supported language without its `.mo` is a packaging mistake: it raises rather than
    showing English to somebody who chose Chinese.
    """
    catalog = _catalogs.get(lang)
    if catalog is None:
        if lang in LANGUAGES:
            with mo_path(lang).open("rb") as fh:
                catalog = gettext.GNUTranslations(fh)
        else:
            catalog = gettext.NullTranslations()
        _catalogs[lang] = catalog
    return catalog


def translate(lang: str | None, msgid: str) -> str:
    """`msgid` in `lang` whatever the interface language is (an unknown language: English)."""
    return load(lang if lang in LANGUAGES else "en").gettext(msgid)


def set_language(lang: str) -> None:
    global _translation, _language
    lang = lang if lang in LANGUAGES else "en"
    _translation = load(lang)
    _language = lang


# -- development tools: extraction, catalog upkeep and compiling (need Babel) ------------------

Key = str | tuple[str, str]
"""A message id as Babel keys it: the text, or (singular, plural) for a counted message."""


def _literal(node: ast.expr) -> str | None:
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _call_id(node: ast.Call) -> Key | None:
    """The message id of a `_("...")`, `N_("...")` or `_n("...", "...", n)` call, if it is one."""
    import ast

    if not (isinstance(node.func, ast.Name) and node.args):
        return None
    texts = [_literal(arg) for arg in node.args[:2]]
    if node.func.id in ("_", "N_"):
        return texts[0]
    if node.func.id == "_n" and len(texts) == 2 and texts[0] is not None and texts[1] is not None:
        return (texts[0], texts[1])
    return None


def _singular(key: str | tuple[str, ...] | list[str]) -> str:
    """The id Babel files a message under: the text, or the singular of a counted message."""
    return key if isinstance(key, str) else key[0]


def _strings(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """A message's translation as a tuple of forms (one for a message that is not counted)."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def extract(root: Path | None = None) -> dict[Key, list[str]]:
    """Every literal passed to `_()`, `N_()` or `_n()` under cs_tui, with where it is used."""
    return dict(_extract(root or Path(__file__).parent))


@functools.cache
def _extract(root: Path) -> dict[Key, list[str]]:
    """Parsing the package takes about a second; the checks ask once per language."""
    import ast

    found: dict[Key, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            key = _call_id(node)
            if key is not None:
                where = f"{path.relative_to(root.parent).as_posix()}:{node.lineno}"
                found.setdefault(key, []).append(where)
    return found


def read_catalog(lang: str, text: str | None = None) -> Catalog:
    """The `.po` source of `lang` (or `text` in its place) as a Babel catalog."""
    import io

    from babel.messages.pofile import read_po

    raw = text if text is not None else po_path(lang).read_text(encoding="utf-8")
    return read_po(io.StringIO(raw), locale=lang, domain=DOMAIN)


def compile_po(text: str, lang: str = "en") -> bytes:
    """The `.mo` bytes for a `.po` text: fuzzy and untranslated entries are left out, so
    gettext falls back to the English id instead of showing a guess."""
    import io

    from babel.messages.mofile import write_mo

    out = io.BytesIO()
    write_mo(out, read_catalog(lang, text), use_fuzzy=False)
    return out.getvalue()


def compile_all() -> None:
    for lang in LANGUAGES:
        mo_path(lang).write_bytes(compile_po(po_path(lang).read_text(encoding="utf-8"), lang))


def update() -> None:
    """Add new message ids to both catalogs (English: the id itself) and drop unused ones;
    every translation is kept, and nothing is matched fuzzily (a guess is not a translation)."""
    import io

    from babel.messages.pofile import write_po

    where = extract()
    for lang in LANGUAGES:
        catalog = read_catalog(lang)
        used = {_singular(key) for key in where}
        for message in list(catalog):
            if message.id and _singular(message.id) not in used:
                catalog.delete(message.id, message.context)
        for key, refs in where.items():
            locations = [(ref.rsplit(":", 1)[0], int(ref.rsplit(":", 1)[1])) for ref in refs[:3]]
            old = catalog.get(_singular(key))
            if old is not None and old.string:
                old.locations = locations
                continue
            string = key if lang == "en" else ("" if isinstance(key, str) else ("",))
            catalog.add(key, string, locations=locations)
        out = io.BytesIO()
        write_po(out, catalog, width=0, ignore_obsolete=True)
        po_path(lang).write_bytes(out.getvalue())


def problems(lang: str) -> list[str]:
    """What keeps the `lang` catalog from showing every used message properly."""
    catalog = read_catalog(lang)
    found = []
    if catalog.plural_forms != PLURAL_FORMS[lang]:
        found.append(
            f"{lang}: Plural-Forms is {catalog.plural_forms!r}, not {PLURAL_FORMS[lang]!r}"
        )
    for key in extract():
        msgid = _singular(key)
        message = catalog.get(msgid)
        strings = () if message is None else _strings(message.string)
        if message is not None and message.fuzzy:
            found.append(f"{lang}: fuzzy: {msgid!r}")
        elif not strings or not all(strings):
            found.append(f"{lang}: untranslated: {msgid!r}")
        elif not isinstance(key, str) and len(strings) != catalog.num_plurals:
            found.append(
                f"{lang}: {len(strings)} plural forms, not {catalog.num_plurals}: {msgid!r}"
            )
    return found


def _hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


def stale(lang: str) -> bool:
    """Whether the committed `.mo` of `lang` differs from what its `.po` compiles to."""
    import io

    from babel.messages.mofile import read_mo

    fresh = read_mo(io.BytesIO(compile_po(po_path(lang).read_text(encoding="utf-8"), lang)))
    with mo_path(lang).open("rb") as fh:
        shipped = read_mo(fh)

    def content(catalog: Catalog) -> set[tuple[object, object, object]]:
        rows = {(_hashable(m.id), _hashable(m.string), m.context) for m in catalog if m.id}
        return rows | {("Plural-Forms", catalog.plural_forms, None)}

    return content(fresh) != content(shipped)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["update"]:
        update()
    elif argv[:1] == ["compile"]:
        compile_all()
    elif argv[:1] == ["check"]:
        found = [p for lang in LANGUAGES for p in problems(lang)]
        found += [f"{lang}: {mo_path(lang).name} is stale" for lang in LANGUAGES if stale(lang)]
        for line in found:
            print(line)
        return 1 if found else 0
    else:
        print("usage: python -m cs_tui.i18n update|compile|check", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
