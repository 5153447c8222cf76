"""A knowledge-base article's Markdown as paragraphs an agent reads and puts into a reply.

The preview and the reply must agree: what the agent inserts is exactly the text the preview
showed, so both come from one rendering. Each `Paragraph` is a run of styled text (`runs`); the
preview draws the runs with their styles and the composer receives `Paragraph.text`, the same
characters without the styles. Markdown syntax goes the way it goes on screen: ``**bold**`` loses
its asterisks, a heading its ``#``, a link shows its text and its address; a list stays a list,
each item written ``- `` or ``1. `` (nested items indented two spaces), and a table's cells are
joined by `` | `` one row a line.

What a paragraph is: a heading, a plain paragraph, a whole list, a blockquote, a table or a code
block. Headings are shown but are never inserted (they title a part of the article, they are not
something to tell a customer), and neither is an internal note: a blockquote that starts with
``内部:`` / ``内部：`` / ``Internal:`` is for the team (what the policy allows, who approves an
exception) and is shown to the agent with a label instead of the marker.

Article text is untrusted: escape sequences and control characters are dropped before parsing
(``safe_text.for_composer``, so the preview cannot show one thing and insert another), Rich or
Textual markup in it is just text (the runs are never parsed as markup), and raw HTML stays
literal. Nothing here imports Rich or Textual: the widget turns runs into Rich text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from cs_tui.safe_text import for_composer

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

__all__ = [
    "MAX_SOURCE_CHARS",
    "Paragraph",
    "chosen_text",
    "paragraphs",
    "suggested_index",
]

MAX_SOURCE_CHARS = 40_000
"""Longer bodies are read up to here (and the cut is said): an article read mid-conversation is a
few pages, and parsing runs on the UI thread when a search result is highlighted."""

INTERNAL_RE = re.compile(r"^\s*(?:内部|internal)\s*[:：]\s*", re.IGNORECASE)
"""The marker that opens an internal note (at the start of a blockquote)."""

Run = tuple[str, str]
"""A piece of text and its style names, space-separated ("bold italic", "" for plain)."""


@dataclass(frozen=True)
class Paragraph:
    """One block of an article as the preview shows it.

    `kind` is heading, text, list, quote, table, code, internal, or more (the note that a very
    long article was cut). `runs` joined are `text`.
    """

    kind: str
    runs: tuple[Run, ...]
    level: int = 0
    """A heading's level (1 for ``#``)."""

    @property
    def text(self) -> str:
        return "".join(text for text, _style in self.runs)

    @property
    def insertable(self) -> bool:
        """Whether this paragraph may go into a reply (headings and internal notes never do)."""
        return self.kind not in ("heading", "internal", "more")


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # html off: a tag in an article is text to show, never structure.
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def paragraphs(body: str, *, limit: int = MAX_SOURCE_CHARS) -> list[Paragraph]:
    """The article's paragraphs in order; an empty body gives none.

    A body longer than `limit` characters is cut (at a line end when there is one) and a last
    paragraph says how much is left out; that note is not insertable.
    """
    source = for_composer(body or "")
    hidden = 0
    if len(source) > limit:
        cut = source.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        source, hidden = source[:cut], len(source) - cut
    tokens = _parser().parse(source)
    result = _blocks(tokens, 0, len(tokens))
    if hidden:
        result.append(Paragraph("more", ((f"… (+{hidden:,})", "dim"),)))
    return result


def chosen_text(paras: Sequence[Paragraph]) -> str:
    """What inserting `paras` puts into a reply: the insertable ones, a blank line between them
    (as the preview separates them); headings and internal notes are left out."""
    return "\n\n".join(p.text for p in paras if p.insertable and p.text.strip())


_QUOTE_RE = re.compile(r"[“\"]([^”\"\n]{6,300})[”\"]")
_ADDRESSED_RE = re.compile(r"您|\b(?:you|your)\b", re.IGNORECASE)


def suggested_index(paras: Sequence[Paragraph]) -> int | None:
    """The paragraph to start on: the first that quotes a model answer to the customer
    (“您的退款已经成功，会在24小时内到账”), else the first insertable one; None if none is."""
    first = None
    for index, paragraph in enumerate(paras):
        if not paragraph.insertable:
            continue
        if first is None:
            first = index
        for match in _QUOTE_RE.finditer(paragraph.text):
            if _ADDRESSED_RE.search(match.group(1)):
                return index
    return first


# -- blocks -----------------------------------------------------------------------------------


def _close(tokens: Sequence[Token], start: int, end: int) -> int:
    """The index of the token that closes the one at `start`."""
    opener = tokens[start]
    closing = opener.type.removesuffix("_open") + "_close"
    for index in range(start + 1, end):
        token = tokens[index]
        if token.type == closing and token.level == opener.level:
            return index
    return end - 1


def _blocks(tokens: Sequence[Token], start: int, end: int) -> list[Paragraph]:
    out: list[Paragraph] = []
    index = start
    while index < end:
        token = tokens[index]
        kind = token.type
        if kind == "heading_open":
            level = int(token.tag[1:]) if token.tag[1:].isdigit() else 1
            runs = _inline(tokens[index + 1], ("heading",))
            out.append(Paragraph("heading", runs, level=level))
            index = _close(tokens, index, end) + 1
        elif kind == "paragraph_open":
            out.append(Paragraph("text", _inline(tokens[index + 1])))
            index = _close(tokens, index, end) + 1
        elif kind in ("bullet_list_open", "ordered_list_open"):
            stop = _close(tokens, index, end)
            notes: list[Paragraph] = []
            out.append(Paragraph("list", tuple(_list(tokens, index, stop, 0, notes))))
            out.extend(notes)  # an internal note inside an item: after the list, never in it
            index = stop + 1
        elif kind == "blockquote_open":
            stop = _close(tokens, index, end)
            out.extend(_quote(_blocks(tokens, index + 1, stop)))
            index = stop + 1
        elif kind == "table_open":
            stop = _close(tokens, index, end)
            out.append(Paragraph("table", tuple(_table(tokens, index, stop))))
            index = stop + 1
        elif kind in ("fence", "code_block"):
            code = token.content.rstrip("\n")
            if code.strip():
                out.append(Paragraph("code", ((code, "code"),)))
            index += 1
        elif kind == "html_block":  # only with html on; kept literal all the same
            if token.content.strip():
                out.append(Paragraph("text", ((token.content.strip("\n"), ""),)))
            index += 1
        else:  # hr, and anything a later markdown-it adds: nothing to read
            index += 1
    return [p for p in out if p.text.strip() or p.kind == "internal"]


def _quote(inner: list[Paragraph]) -> list[Paragraph]:
    """A blockquote as one paragraph, its blocks one after another; an internal note when it
    opens with the marker (which the label in the preview replaces). An internal note quoted
    inside an ordinary quote stays a note of its own, so it can never ride along."""
    runs: list[Run] = []
    for number, paragraph in enumerate(inner):
        if number:
            runs.append(("\n", ""))
        runs.extend(paragraph.runs)
    marker = INTERNAL_RE.match("".join(t for t, _s in runs))
    if marker:
        return [Paragraph("internal", tuple(_drop(runs, marker.end())))]
    out: list[Paragraph] = []
    group: list[Run] = []
    for paragraph in inner:
        if paragraph.kind == "internal":
            if group:
                out.append(Paragraph("quote", tuple(group)))
                group = []
            out.append(paragraph)
            continue
        if group:
            group.append(("\n", ""))
        group.extend((t, _join(s, "quote")) for t, s in paragraph.runs)
    if group:
        out.append(Paragraph("quote", tuple(group)))
    return out


def _drop(runs: list[Run], count: int) -> list[Run]:
    """`runs` without their first `count` characters."""
    out: list[Run] = []
    for text, style in runs:
        if count >= len(text):
            count -= len(text)
            continue
        out.append((text[count:], style))
        count = 0
    return out


def _list(
    tokens: Sequence[Token], start: int, stop: int, depth: int, notes: list[Paragraph]
) -> list[Run]:
    """A list's items one a line: ``- item`` or ``3. item``, nested lists two spaces further in,
    an item's later lines lined up under its first. Internal notes found in items go to
    `notes` instead of into the list's text."""
    ordered = tokens[start].type == "ordered_list_open"
    number = int(tokens[start].attrGet("start") or 1) if ordered else 0
    runs: list[Run] = []
    index = start + 1
    while index < stop:
        if tokens[index].type != "list_item_open":
            index += 1
            continue
        item_end = _close(tokens, index, stop)
        marker = f"{number}. " if ordered else "- "
        number += 1
        if runs:
            runs.append(("\n", ""))
        runs.append(("  " * depth + marker, "marker"))
        pad = "  " * depth + " " * len(marker)
        first = True
        inner = index + 1
        while inner < item_end:
            token = tokens[inner]
            if token.type in ("bullet_list_open", "ordered_list_open"):
                sub_stop = _close(tokens, inner, item_end)
                runs.append(("\n", ""))
                runs.extend(_list(tokens, inner, sub_stop, depth + 1, notes))
                inner = sub_stop + 1
                first = False
                continue
            if token.type.endswith("_open") and token.nesting == 1:
                block_stop = _close(tokens, inner, item_end)
                blocks = _blocks(tokens, inner, block_stop + 1)
                inner = block_stop + 1
            elif token.type in ("fence", "code_block", "html_block"):
                blocks = _blocks(tokens, inner, inner + 1)
                inner += 1
            else:
                inner += 1
                continue
            for block in blocks:
                if block.kind == "internal":
                    notes.append(block)
                    continue
                if not first:
                    runs.append(("\n" + pad, ""))
                runs.extend(_indent(block.runs, pad))
                first = False
        index = item_end + 1
    return runs


def _indent(runs: Sequence[Run], pad: str) -> list[Run]:
    """Every line after the first starts with `pad`."""
    return [(text.replace("\n", "\n" + pad), style) for text, style in runs]


def _table(tokens: Sequence[Token], start: int, stop: int) -> list[Run]:
    """One row a line, cells joined by `` | ``; the header row in bold."""
    runs: list[Run] = []
    cells = 0
    for index in range(start, stop):
        token = tokens[index]
        if token.type == "tr_open":
            if runs:
                runs.append(("\n", ""))
            cells = 0
        elif token.type == "inline" and index > start:
            cell = tokens[index - 1].type
            if cells:
                runs.append((" | ", "dim"))
            cells += 1
            extra = ("bold",) if cell == "th_open" else ()
            runs.extend(_inline(token, extra) or [("", "")])
    return runs


# -- inline -----------------------------------------------------------------------------------

_INLINE_STYLES = {"strong": "bold", "em": "italic", "s": "strike"}


def _join(*names: str) -> str:
    return " ".join(n for n in names if n)


def _inline(token: Token, base: tuple[str, ...] = ()) -> tuple[Run, ...]:
    """An inline token's children as styled runs, the way they read on screen."""
    runs: list[Run] = []
    styles: list[str] = list(base)
    links: list[tuple[str, int]] = []
    for child in token.children or ():
        kind = child.type
        if kind == "text":
            runs.append((child.content, _join(*styles)))
        elif kind in ("softbreak", "hardbreak"):
            runs.append(("\n", ""))
        elif kind == "code_inline":
            runs.append((child.content, _join(*styles, "code")))
        elif kind.endswith("_open") and kind.removesuffix("_open") in _INLINE_STYLES:
            styles.append(_INLINE_STYLES[kind.removesuffix("_open")])
        elif kind.endswith("_close") and kind.removesuffix("_close") in _INLINE_STYLES:
            name = _INLINE_STYLES[kind.removesuffix("_close")]
            if name in styles:
                styles.reverse()
                styles.remove(name)
                styles.reverse()
        elif kind == "link_open":
            links.append((str(child.attrGet("href") or ""), len(runs)))
            styles.append("link")
        elif kind == "link_close":
            if "link" in styles:
                styles.remove("link")
            if links:
                href, first = links.pop()
                label = "".join(t for t, _s in runs[first:])
                if href and href != label and not href.startswith("#"):
                    runs.append((f" ({href})", _join(*styles, "dim")))
        elif kind == "image":
            alt = "".join(c.content for c in child.children or ()) or child.content
            if alt:
                runs.append((alt, _join(*styles)))
        elif child.content:  # html_inline and the like: literal
            runs.append((child.content, _join(*styles)))
    return tuple(runs)
