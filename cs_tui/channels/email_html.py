"""HTML mail as readable plain text, with the standard library's html.parser.

Small on purpose: an agent needs the words, the paragraphs, list items and where links point,
not the layout. Scripts, styles and the head are dropped; block elements start new lines;
`<br>` breaks a line; links keep their address after the text when it differs from it; images
show their alt text. Nothing is fetched and nothing is executed.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "div",
        "dl",
        "dt",
        "dd",
        "fieldset",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tr",
        "ul",
    ]
)
_SKIPPED = frozenset({"script", "style", "head", "title", "template", "noscript"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.pre = 0
        self.links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skip += 1
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")
            if tag == "pre":
                self.pre += 1
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt and not self.skip:
                self.parts.append(f"[{alt}]")
        if tag == "a":
            self.links.append(dict(attrs).get("href"))
            self._link_start = len(self.parts)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "a":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skip = max(0, self.skip - 1)
            return
        if tag in _BLOCKS:
            self.parts.append("\n")
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
        if tag == "a" and self.links:
            href = self.links.pop()
            shown = "".join(self.parts[getattr(self, "_link_start", len(self.parts)) :]).strip()
            if href and href.startswith(("http://", "https://", "mailto:")) and href != shown:
                address = href.removeprefix("mailto:")
                if address != shown:
                    self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self.parts.append(data if self.pre else _SPACES.sub(" ", data.replace("\n", " ")))


def html_to_text(html: str) -> str:
    """The readable text of an HTML document or fragment."""
    parser = _Text()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # a very broken document: keep what was read
        pass
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
