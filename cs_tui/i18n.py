"""The interface language: a standard gettext catalog with `.po` sources in cs_tui/locale.

Message ids are the English texts. `_()` translates at call time, so one process can switch
language (the app rebuilds its screens after `set_language`). `N_()` only marks a string for
extraction; it is translated where it is shown (binding descriptions, for example).

The catalogs are compiled from the `.po` sources in memory on first use (no build step to forget);
`python -m cs_tui.i18n compile` writes `.mo` files for packagers who ship compiled catalogs only.
`python -m cs_tui.i18n update` adds new message ids found in the code to both `.po` files.
"""

from __future__ import annotations

import ast
import gettext
import io
import struct
import sys
from pathlib import Path

DOMAIN = "cs_tui"
LANGUAGES = ("zh", "en")

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


def current_language() -> str:
    return _language


def load(lang: str) -> gettext.NullTranslations:
    """The catalog for `lang`, compiled from its `.po` source (about a millisecond).

    The `.po` is the source of truth; a compiled `.mo` is used only when the `.po` is absent
    (a package that ships compiled catalogs only), so a stale `.mo` can never hide a fix.
    """
    po, mo = po_path(lang), mo_path(lang)
    if po.exists():
        return gettext.GNUTranslations(io.BytesIO(compile_po(po.read_text(encoding="utf-8"))))
    if mo.exists():
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    return gettext.NullTranslations()


def set_language(lang: str) -> None:
    global _translation, _language
    lang = lang if lang in LANGUAGES else "en"
    _translation = load(lang)
    _language = lang


# -- .po reading and .mo writing (what msgfmt does, for the subset we use) ----------------


def _unquote(text: str) -> str:
    # Most lines hold no escapes: slicing them keeps loading a catalog, which every start
    # does, well under a millisecond (literal_eval on every line cost about three).
    if "\\" not in text and len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return ast.literal_eval(text)


def parse_po(text: str) -> dict[str, str]:
    """msgid -> msgstr for every entry (the header has msgid "")."""
    entries: dict[str, str] = {}
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    current: list[str] | None = None

    def flush() -> None:
        if msgid is not None and msgstr is not None:
            entries["".join(msgid)] = "".join(msgstr)

    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            flush()
            msgid, msgstr = [_unquote(line[6:])], None
            current = msgid
        elif line.startswith("msgstr "):
            msgstr = [_unquote(line[7:])]
            current = msgstr
        elif line.startswith('"') and current is not None:
            current.append(_unquote(line))
    flush()
    return entries


def compile_po(text: str) -> bytes:
    """The GNU .mo bytes for a .po text; untranslated entries are left out (fall back to id)."""
    entries = {k: v for k, v in parse_po(text).items() if v}
    keys = sorted(entries)
    ids = [k.encode("utf-8") for k in keys]
    strs = [entries[k].encode("utf-8") for k in keys]
    count = len(keys)
    header_size = 7 * 4
    ids_table = header_size
    strs_table = ids_table + count * 8
    data_start = strs_table + count * 8
    offsets: list[tuple[int, int]] = []
    data = b""
    for blob in ids:
        offsets.append((len(blob), data_start + len(data)))
        data += blob + b"\0"
    str_offsets: list[tuple[int, int]] = []
    for blob in strs:
        str_offsets.append((len(blob), data_start + len(data)))
        data += blob + b"\0"
    out = struct.pack("<7I", 0x950412DE, 0, count, ids_table, strs_table, 0, 0)
    out += b"".join(struct.pack("<2I", n, o) for n, o in offsets)
    out += b"".join(struct.pack("<2I", n, o) for n, o in str_offsets)
    return out + data


# -- extraction -----------------------------------------------------------------------------


def extract(root: Path | None = None) -> dict[str, list[str]]:
    """Every literal passed to `_()` or `N_()` under cs_tui, with where it is used."""
    root = root or Path(__file__).parent
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "N_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                where = f"{path.relative_to(root.parent)}:{node.lineno}"
                found.setdefault(node.args[0].value, []).append(where)
    return found


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    escaped = escaped.replace("\t", "\\t")
    return f'"{escaped}"'


def write_po(lang: str, entries: dict[str, str], where: dict[str, list[str]]) -> None:
    lines = [
        f"# cs-tui interface messages ({lang}).",
        'msgid ""',
        'msgstr ""',
        '"Content-Type: text/plain; charset=UTF-8\\n"',
        f'"Language: {lang}\\n"',
        "",
    ]
    for msgid in sorted(entries, key=lambda k: (where.get(k, ["~"])[0], k)):
        if not msgid:
            continue
        for ref in where.get(msgid, [])[:3]:
            lines.append(f"#: {ref}")
        lines.append(f"msgid {_quote(msgid)}")
        lines.append(f"msgstr {_quote(entries[msgid])}")
        lines.append("")
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


def update() -> None:
    """Add new message ids to both catalogs (English: the id itself); keep every translation."""
    where = extract()
    for lang in LANGUAGES:
        path = po_path(lang)
        old = parse_po(path.read_text(encoding="utf-8")) if path.exists() else {}
        entries = {}
        for msgid in where:
            entries[msgid] = old.get(msgid) or (msgid if lang == "en" else "")
        write_po(lang, entries, where)


def compile_all() -> None:
    for lang in LANGUAGES:
        mo_path(lang).write_bytes(compile_po(po_path(lang).read_text(encoding="utf-8")))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["update"]:
        update()
    elif argv[:1] == ["compile"]:
        compile_all()
    elif argv[:1] == ["missing"]:
        for lang in LANGUAGES:
            entries = parse_po(po_path(lang).read_text(encoding="utf-8"))
            for msgid in extract():
                if not entries.get(msgid):
                    print(f"{lang}: {msgid}")
    else:
        print("usage: python -m cs_tui.i18n update|compile|missing", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
