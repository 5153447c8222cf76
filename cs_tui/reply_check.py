"""What stands between a draft reply and the customer: the one check the workstation and
`cs-tui reply` share, so a reply that the composer would stop is stopped on the command line too.

Three kinds of finding, in the order they appear in the text:

- ``placeholder``: a quick reply's blank (``{order_id}``) still unfilled. It *blocks*: nothing
  sends it, not even a forced send, because the customer would read the raw blank.
- ``language``: a phrase to avoid (compliance rules), with what to say instead.
- ``mismatch``: the reply is in another language than the customer writes in.

The last two are warnings: the agent may send anyway, but only by an explicit choice.
"""

from __future__ import annotations

from dataclasses import dataclass

from cs_tui import compliance
from cs_tui.i18n import _
from cs_tui.phrases import placeholder_spans


@dataclass(frozen=True)
class ReplyFinding:
    kind: str
    """``placeholder`` | ``language`` | ``mismatch``."""
    start: int
    """Offset in the draft where the problem begins (the composer puts its cursor there)."""
    end: int
    phrase: str
    why: str
    suggestion: str

    @property
    def blocks(self) -> bool:
        """True when no key may send the draft as it is."""
        return self.kind == "placeholder"

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "phrase": self.phrase,
            "why": self.why,
            "suggestion": self.suggestion,
            "blocks": self.blocks,
        }


def reply_findings(text: str, customer_lang: str | None = None) -> list[ReplyFinding]:
    """Every finding for `text`, ordered by position; `customer_lang` ('zh' | 'en') is the
    language the customer writes in, None when unknown (no mismatch check then)."""
    if not text.strip():
        return []
    items: list[ReplyFinding] = []
    for start, end, name in placeholder_spans(text):
        items.append(
            ReplyFinding(
                "placeholder",
                start,
                end,
                "{" + name + "}",
                _("a blank from the quick reply is still empty"),
                _("fill it in before sending"),
            )
        )
    for f in compliance.check(text):
        items.append(ReplyFinding("language", f.start, f.end, f.text, f.reason, f.suggestion))
    written = compliance.written_lang(text)
    if customer_lang in ("zh", "en") and written is not None and written != customer_lang:
        items.append(
            ReplyFinding(
                "mismatch",
                0,
                0,
                _("reply in English") if written == "en" else _("reply in Chinese"),
                _("the customer writes in Chinese")
                if customer_lang == "zh"
                else _("the customer writes in English"),
                _("answer in the customer's language"),
            )
        )
    items.sort(key=lambda f: (f.start, f.end, f.kind))
    return items


def blocking(findings: list[ReplyFinding]) -> list[ReplyFinding]:
    return [f for f in findings if f.blocks]
