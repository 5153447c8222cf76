"""How a reply's delivery to the customer's channel reads on screen: a mark and a word.

A reply in a conversation opened by a channel with a webhook is handed to the `serve` worker through
the store's outbox; its status (queued, sent, delivered, read, failed) is drawn beside the reply in
the transcript, and a conversation whose delivery failed is marked in the queue. The word carries
the meaning, so it reads without colour (16-colour SSH, a colour-blind agent); the colour is only
an extra. Marks are single-cell characters (East Asian width "neutral"), so a Chinese terminal does
not draw them two cells wide.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from cs_tui.channels.web_give_up import reason_seconds, span
from cs_tui.i18n import N_, _
from cs_tui.safe_text import safe

MARKS = {
    "queued": "-",
    "sent": "✓",
    "delivered": "✓✓",
    "read": "✓✓",
    "failed": "✗",
}
WORDS = {
    "queued": N_("queued"),
    "sent": N_("sent"),
    "delivered": N_("delivered"),
    "read": N_("read"),
    "failed": N_("failed"),
}
STYLES = {
    "queued": Style(dim=True),
    "sent": Style(color="cyan"),
    "delivered": Style(color="green"),
    "read": Style(color="green", bold=True),
    "failed": Style(color="bright_white", bgcolor="red", bold=True),
}
UNDELIVERED = N_("undelivered")
"""The queue row's state for a conversation with a reply that never reached the customer."""
UNDELIVERED_MARK = "✗"
REASON_LIMIT = 300
"""The store keeps at most 300 characters of a failure's reason."""


def status_word(status: str) -> str:
    """The status in the interface language (an unknown code is drawn as it is, made safe)."""
    msgid = WORDS.get(status)
    return _(msgid) if msgid else safe(status, single_line=True, limit=16).plain


def status_text(status: str) -> Text:
    """Mark and word, e.g. "✓✓ delivered", styled by status."""
    style = STYLES.get(status, Style(dim=True))
    return Text(f"{MARKS.get(status, '?')} {status_word(status)}", style=style)


def undelivered_label() -> str:
    """The queue row's state word with its mark: "✗ undelivered"."""
    return f"{UNDELIVERED_MARK} {_(UNDELIVERED)}"


SPANS = {"d": N_("{count} d"), "h": N_("{count} h"), "min": N_("{count} min"), "s": N_("{count} s")}


def reason_text(reason: str | None) -> Text:
    """Why a delivery failed. The reason can hold a receiver's response bytes, so it is drawn
    through safe_text: one line, no markup, controls made visible. A web chat reply given up on
    says so in the agent's language, with what to do about it."""
    if not reason:
        return Text(_("no reason was recorded"), style="dim")
    waited = reason_seconds(reason)
    if waited is not None:
        count, unit = span(waited)
        within = _(SPANS[unit]).format(count=count)
        return Text(
            _("visitor did not return within {time}: reach the customer another way").format(
                time=within
            )
        )
    return safe(reason, single_line=True, limit=REASON_LIMIT)


def undelivered_notice() -> Text:
    """The conversation header's word for a conversation with a reply that did not arrive."""
    return Text(
        f"{UNDELIVERED_MARK} " + _("a reply did not reach the customer: reach them another way"),
        style=STYLES["failed"],
    )
