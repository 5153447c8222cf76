"""The notes the e-mail channel writes into a conversation, stored in English, shown translated.

A note (an automatic mail filed, a quarantined mail, a mail over the size limit, the list of a
mail's attachments, the quoted text left out of the transcript) is stored as a plain English
sentence, so `cs-tui export` and every other reader of the store get readable text. Each
sentence comes from one template here; `localize` recognises the templates in a mail message's
body and renders them with the interface's catalog (the message ids are the templates), leaving
everything else, the customer's own words above all, as stored. A body that matches no template
is shown as it is: a note from an older version, or a customer's text that merely looks like one,
loses nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from cs_tui.i18n import N_

MAIL_PREFIX = "mail:"
"""The external id prefix of every message that came by e-mail (cs_tui.data.mail_store.mail_key)."""

AUTOMATIC = N_("Automatic mail from {sender} ({why})")
AUTOMATIC_REASON = N_("Automatic mail from {sender} ({why}): {reason}")
QUARANTINED = N_("A mail could not be read ({why}); it is saved whole as {path}")
TOO_BIG = N_(
    "A mail of {size} was not fetched (the limit is {limit}); it stays on the mail server."
)
ATTACHMENTS = N_("Attachments:")
QUOTED = N_("(quoted text not shown)")
QUOTED_SHOWN = N_("(quoted text not shown: {key} shows the whole mail)")
"""How the transcript shows QUOTED: with the key that opens the whole mail."""

WHY = {
    "delivery report": N_("delivery report"),
    "our own reply came back": N_("our own reply came back"),
}
"""Reasons of AUTOMATIC that are words of ours (the others name a header, as it came)."""

_LEADS: tuple[tuple[str, re.Pattern[str], bool], ...] = (
    # (template, pattern of its first line, only in a system message)
    (
        AUTOMATIC_REASON,
        re.compile(r"Automatic mail from (?P<sender>\S*) \((?P<why>[^\n]*?)\): (?P<reason>[^\n]*)"),
        True,
    ),
    (AUTOMATIC, re.compile(r"Automatic mail from (?P<sender>\S*) \((?P<why>[^\n]*)\)"), True),
    (
        QUARANTINED,
        re.compile(
            r"A mail could not be read \((?P<why>[^\n]*)\); it is saved whole as (?P<path>.*)"
        ),
        True,
    ),
    (
        TOO_BIG,
        re.compile(
            r"A mail of (?P<size>[0-9.]+ [KM]?B) was not fetched \(the limit is "
            r"(?P<limit>[0-9.]+ [KM]?B)\); it stays on the mail server\."
        ),
        False,
    ),
)


def one_line(text: str) -> str:
    """A parameter of a note's first line: the note is recognised line by line."""
    return " ".join(text.split())


def automatic(sender: str, why: str, reason: str | None) -> str:
    """The first line of an automatic mail's note (an absence reply, a bounce, a list)."""
    if reason:
        return AUTOMATIC_REASON.format(
            sender=one_line(sender), why=one_line(why), reason=one_line(reason)
        )
    return AUTOMATIC.format(sender=one_line(sender), why=one_line(why))


def quarantined(why: str, path: str) -> str:
    return QUARANTINED.format(why=one_line(why), path=one_line(path))


def too_big(size: str, limit: str) -> str:
    return TOO_BIG.format(size=size, limit=limit)


def attachments_block(lines: list[str]) -> str:
    """The list of a mail's attachments under its text: a heading and one `- ` line each."""
    return ATTACHMENTS + "\n" + "\n".join(f"- {one_line(line)}" for line in lines)


def is_mail(external_id: str | None) -> bool:
    return bool(external_id) and str(external_id).startswith(MAIL_PREFIX)


def localize(body: str, system: bool, tr: Callable[[str], str], key: str = "v") -> str:
    """A mail message's body with the channel's notes in the interface's language (`tr` is
    the catalog's `_`); `key` is the key that opens the whole mail."""
    lines = body.split("\n")
    first = lines[0] if lines else ""
    for template, pattern, system_only in _LEADS:
        if system_only and not system:
            continue
        found = pattern.fullmatch(first)
        if found:
            params = found.groupdict()
            if "why" in params and template in (AUTOMATIC, AUTOMATIC_REASON):
                params["why"] = tr(WHY[params["why"]]) if params["why"] in WHY else params["why"]
            lines[0] = tr(template).format(**params)
            break
    # The trailers: the attachments' heading (only where `- ` lines follow it to the end)
    # and the quoted-text line.
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if line == ATTACHMENTS and all(rest.startswith("- ") for rest in lines[index + 1 :]):
            lines[index] = tr(ATTACHMENTS)
        elif line == QUOTED:
            lines[index] = tr(QUOTED_SHOWN).format(key=key)
    return "\n".join(lines)
