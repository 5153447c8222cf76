"""Knowledge-base articles: read Markdown folders and JSONL files into records for the store.

A Markdown article starts with a front matter block::

    ---
    title: 七天无理由退货规则
    category: platform_rules        # product | platform_rules | after_sales | faq | case
    tags: [退货, 七天无理由]          # or: tags: 退货, 七天无理由
    lang: zh                        # optional: guessed from the text
    slug: return-7day               # optional: the file's path without .md
    ---
    Body in Markdown...

    > 内部: a note for agents (what the policy allows, who approves an exception): shown in
    > the preview, never inserted into a reply (``> Internal:`` in English; cs_tui.kb_markdown).

The block is YAML, read with the safe loader: quote a value that holds ``": "`` or ``" #"`` (a
``#`` after a space starts a comment) or starts with ``[``, ``{``, ``*`` or ``&``
(``title: "Case: order #12345"``).

A JSONL file holds one article per line: ``{"slug", "title", "body", "category", "tags", "lang"}``.

Every file or line that cannot be used is named with the reason (no title, not UTF-8, a binary
file, larger than MAX_ARTICLE_BYTES, bad JSON, ...) and the others still load. Pinyin search keys
are computed here, when an article is written, so the app never has to compute them at start-up.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cs_tui import pinyin_keys
from cs_tui.content import Problem
from cs_tui.i18n import N_, _
from cs_tui.safe_text import one_line

if TYPE_CHECKING:
    from cs_tui.search import Entry

__all__ = [
    "KB_CATEGORIES",
    "KB_CATEGORY_NAMES",
    "MAX_ARTICLE_BYTES",
    "ArticleRecord",
    "ImportResult",
    "article_entries",
    "category_name",
    "load_path",
    "parse_markdown",
    "sample_articles",
]

KB_CATEGORY_NAMES = {
    "product": N_("Product knowledge"),
    "platform_rules": N_("Platform rules"),
    "after_sales": N_("After-sales policy"),
    "faq": N_("FAQ"),
    "case": N_("Case library"),
}
"""Knowledge-base categories of the service standards: the code an article file names -> the
name people read (a catalog msgid). "case" is the case library."""
KB_CATEGORIES = tuple(KB_CATEGORY_NAMES)


def category_name(code: str, *, translate: bool = True) -> str:
    """A category's name in the interface language (English with translate=False, for the
    command line); an unknown code, as stored, made safe for one line."""
    msgid = KB_CATEGORY_NAMES.get(code)
    if msgid is None:
        return one_line(code, limit=32)
    return _(msgid) if translate else msgid


MAX_ARTICLE_BYTES = 256 * 1024
"""Bigger files are refused: an article an agent reads mid-conversation is a few pages at most."""

MARKDOWN_SUFFIXES = (".md", ".markdown")
_SLUG_RE = re.compile(r"[^a-z0-9\u4e00-\u9fff]+")
_HEADING_RE = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass(frozen=True)
class ArticleRecord:
    """One article ready for ``Store.upsert_articles``."""

    slug: str
    title: str
    body: str
    category: str = "faq"
    tags: tuple[str, ...] = ()
    lang: str = "zh"
    search_keys: str = ""

    def as_row(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "title": self.title,
            "body": self.body,
            "category": self.category,
            "tags": list(self.tags),
            "lang": self.lang,
            "search_keys": self.search_keys,
        }


@dataclass
class ImportResult:
    records: list[ArticleRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """``file: reason`` or ``file:line: reason`` for everything left out."""


class ArticleError(ValueError):
    """An article that cannot be used; ``line`` is where in its file, when one line is to blame."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def make_record(
    *,
    slug: str,
    title: Any,
    body: Any,
    category: Any = None,
    tags: Any = None,
    lang: Any = None,
) -> ArticleRecord:
    """Validate and complete one article (lang guessed, pinyin keys computed)."""
    if not isinstance(title, str) or not title.strip():
        raise ArticleError("no title")
    if body is None:
        body = ""
    if not isinstance(body, str):
        raise ArticleError("body must be text")
    title = " ".join(title.split())
    if len(title) > 300:
        raise ArticleError("title longer than 300 characters")
    category = (category or "faq").strip() if isinstance(category, str) else "faq"
    if category not in KB_CATEGORIES:
        raise ArticleError(f"unknown category {category!r} (one of: {', '.join(KB_CATEGORIES)})")
    if tags is None:
        tags = ()
    elif isinstance(tags, str):
        tags = tuple(t.strip() for t in tags.split(",") if t.strip())
    elif isinstance(tags, list | tuple) and all(isinstance(t, str | int) for t in tags):
        tags = tuple(str(t).strip() for t in tags if str(t).strip())
    else:
        raise ArticleError("tags must be a list of words")
    if lang is None or lang == "":
        lang = "zh" if pinyin_keys.has_han(title + body[:500]) else "en"
    if lang not in ("zh", "en"):
        raise ArticleError(f"unknown lang {lang!r} (zh or en)")
    slug = slug.strip().lower()
    if not slug or len(slug) > 200:
        raise ArticleError("no usable slug")
    return ArticleRecord(
        slug=slug,
        title=title,
        body=body.strip(),
        category=category,
        tags=tags,
        lang=lang,
        search_keys=pinyin_keys.make_keys([title, *tags]),
    )


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    """The ``---`` block read as YAML with the safe loader, and the body after it.

    A real YAML reader, not a line splitter: ``title: "order #12345"`` keeps its ``#12345`` and a
    quoted ``"b, c"`` stays one tag. Nothing in the block can build a Python object.
    """
    if not text.startswith("---"):
        return {}, text
    import yaml  # here, not at the top: ~20 ms that only an import of articles should pay

    lines = text.splitlines()
    if lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        raise ArticleError("front matter is not closed with ---", line=1)
    try:
        meta = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or "cannot be read"
        if reason == "mapping values are not allowed here":
            reason += ' (quote a value that holds ": ", e.g. title: "Case: a late parcel")'
        line = mark.line + 2 if mark is not None else None  # the block starts on line 2
        raise ArticleError(f"front matter is not valid YAML: {reason}", line=line) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ArticleError("front matter must be 'key: value' lines", line=2)
    _refuse_cut_title(lines[1:end])
    fields = {
        str(key).strip().lower(): _field(str(key), value)
        for key, value in meta.items()
        if isinstance(key, str | int)
    }
    return fields, "\n".join(lines[end + 1 :])


_CUT_TITLE_RE = re.compile(r"title\s*:\s*[^\s\"'|>].*?\s#")


def _refuse_cut_title(block: list[str]) -> None:
    """An unquoted title with `` #`` in it: YAML reads the rest as a comment, so the article
    would be titled "How to find order" instead of "How to find order #12345". A title is
    what agents search and customers may read, so it is refused with the fix, never cut."""
    for number, line in enumerate(block, start=2):  # the block starts on line 2
        if _CUT_TITLE_RE.match(line):
            raise ArticleError(
                "front matter: the title's text after ' #' would be dropped as a YAML comment;"
                ' quote the title, e.g. title: "How to find order #12345"',
                line=number,
            )


_SCALARS = (str, int, float, bool, datetime.date)


def _field(key: str, value: Any) -> Any:
    """A front-matter value as text, a flat list of text, or None.

    Anything deeper is refused before it is walked or printed: YAML aliases let a few lines
    stand for a structure too big to visit. Numbers and dates come back as the author wrote
    them (``slug: 2024``); YAML's yes/no stay booleans, which the checks refuse rather than
    turning ``title: no`` into "False".
    """
    if value is None or isinstance(value, _SCALARS):
        return _text(value)
    if isinstance(value, list) and all(v is None or isinstance(v, _SCALARS) for v in value):
        return [_text(v) for v in value if v is not None]
    raise ArticleError(f"front matter: {key[:40]} must be text or a list of words")


def _text(value: Any) -> Any:
    if isinstance(value, int | float | datetime.date) and not isinstance(value, bool):
        return str(value)
    return value


def parse_markdown(text: str, default_slug: str) -> ArticleRecord:
    """One Markdown article; raises ArticleError with the reason when it cannot be used."""
    meta, body = _front_matter(text.lstrip("\ufeff"))
    title = meta.get("title")
    if isinstance(title, list):
        title = None
    if not title:  # no title in the front matter: the first "# heading" will do
        heading = _HEADING_RE.search(body)
        if heading:
            title = heading.group(1)
            body = body[: heading.start()] + body[heading.end() :]
    slug = meta.get("slug") or meta.get("id") or default_slug
    return make_record(
        slug=str(slug),
        title=title,
        body=body,
        category=meta.get("category"),
        tags=meta.get("tags"),
        lang=meta.get("lang"),
    )


def _read_text(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_ARTICLE_BYTES:
        raise ArticleError(
            f"too large ({size // 1024} KB; articles are limited to {MAX_ARTICLE_BYTES // 1024} KB)"
        )
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise ArticleError("a binary file, not text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ArticleError("not UTF-8 text") from None


def _slug_for(path: Path, root: Path) -> str:
    try:
        rel = path.relative_to(root)
    except ValueError:
        rel = Path(path.name)
    stem = str(rel.with_suffix("")).replace("\\", "/").lower()
    return "/".join(
        p for p in (_SLUG_RE.sub("-", part).strip("-") for part in stem.split("/")) if p
    )


def load_jsonl(path: Path, result: ImportResult) -> None:
    try:
        handle = path.open("rb")
    except OSError as exc:
        result.problems.append(f"{path}: cannot read: {exc.strerror or exc}")
        return
    with handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{path}:{number}"
            if not raw.strip():
                continue
            if len(raw) > MAX_ARTICLE_BYTES:
                result.problems.append(f"{where}: too large ({len(raw) // 1024} KB)")
                continue
            try:
                data = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                result.problems.append(f"{where}: not UTF-8 text")
                continue
            except json.JSONDecodeError as exc:
                result.problems.append(f"{where}: not valid JSON: {exc.msg}")
                continue
            if not isinstance(data, dict):
                result.problems.append(f"{where}: expected a JSON object")
                continue
            slug = data.get("slug") or data.get("id")
            if not isinstance(slug, str | int) or isinstance(slug, bool):
                slug = f"{path.stem}-{number}"
            try:
                result.records.append(
                    make_record(
                        slug=str(slug),
                        title=data.get("title"),
                        body=data.get("body"),
                        category=data.get("category"),
                        tags=data.get("tags"),
                        lang=data.get("lang"),
                    )
                )
            except ArticleError as exc:
                result.problems.append(f"{where}: {exc}")


def load_path(path: str | Path) -> ImportResult:
    """Articles from a folder of Markdown files (searched recursively), one .md file, or a
    .jsonl file. Other files in a folder are named and left out."""
    root = Path(path).expanduser()
    result = ImportResult()
    if not root.exists():
        result.problems.append(f"{root}: no such file or folder")
        return result
    if root.is_file():
        files = [root]
        base = root.parent
    else:
        files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
        base = root
    for file in files:
        suffix = file.suffix.lower()
        if suffix == ".jsonl":
            load_jsonl(file, result)
            continue
        if suffix not in MARKDOWN_SUFFIXES:
            kind = "a binary file" if _looks_binary(file) else "not a Markdown (.md) or .jsonl file"
            result.problems.append(f"{file}: skipped: {kind}")
            continue
        try:
            text = _read_text(file)
            result.records.append(parse_markdown(text, _slug_for(file, base)))
        except ArticleError as exc:
            result.problems.append(str(Problem(str(file), exc.line, str(exc))))
        except OSError as exc:
            result.problems.append(f"{file}: cannot read: {exc.strerror or exc}")
    seen: dict[str, int] = {}
    unique: list[ArticleRecord] = []
    for record in result.records:
        if record.slug in seen:
            result.problems.append(f"{record.slug}: the same slug appears twice; the last one wins")
            unique[seen[record.slug]] = record
            continue
        seen[record.slug] = len(unique)
        unique.append(record)
    result.records = unique
    return result


def _looks_binary(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return b"\x00" in handle.read(8192)
    except OSError:
        return False


def sample_articles() -> list[ArticleRecord]:
    """The sample knowledge base shipped with cs-tui (zh and en), for demos and new teams:
    ``store.upsert_articles(sample_articles())``."""
    folder = resources.files("cs_tui") / "kb_sample"
    records = []
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".md"):
            slug = "sample/" + item.name[: -len(".md")]
            records.append(parse_markdown(item.read_text(encoding="utf-8"), slug))
    return records


def article_entries(articles: Iterable[Any]) -> list[Entry]:
    """Search entries for ``cs_tui.search.SearchIndex`` from ArticleViews (or ArticleRecords);
    each hit's ``entry.payload`` is the article it came from."""
    from cs_tui.search import Entry

    return [
        Entry(
            id=getattr(a, "id", None) if getattr(a, "id", None) is not None else a.slug,
            kind="article",
            title=a.title,
            body=a.body,
            category=a.category,
            tags=tuple(a.tags),
            lang=a.lang,
            keys=a.search_keys,
            payload=a,
        )
        for a in articles
    ]
