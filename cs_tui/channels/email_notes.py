"""The notes the e-mail channel writes into a conversation: stored as codes and parameters, shown
in the agent's language.

A note (an automatic mail filed, a quarantined mail, a mail over the size limit, the list of a
mail's attachments, the quoted text left out of the transcript) is written twice: as a plain
English sentence in the message's body, so `cs-tui export` and every other reader of the store
get readable text, and as a code with its parameters in the mail's row (`mail_message.note`,
built by `Note`), which is what the workstation translates: `localize` replaces exactly the lines
the note says it wrote (the first line for the lead note, the trailing lines for the quoted-text
line and the attachments' list), whatever the rest of the body says. A customer's text that
merely looks like a note is never touched, and a template whose English changes still shows
old notes translated.

Mails stored before the codes existed (no note in their row) are still shown translated by
recognising the English templates (`localize` without a note), as before; a body that matches
no template is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

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
DELIVERY_REPORT = "delivery report"
OWN_REPLY = "our own reply came back"
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


class Note:
    """Builds a mail's note record (stored as JSON beside the mail) while its body is written:
    {"lead": {"code": ..., params}, "stub": {...}, "quoted": true, "attachments": n}, each part
    only when the body has it. The body's lines are laid out so the record locates them: the
    lead note is the first line, then (after a blank line) the stub's sentence; the quoted-text
    line and the attachments' heading with its n lines are the last ones, in that order."""

    def __init__(self) -> None:
        self.record: dict[str, Any] = {}

    def automatic(self, sender: str, why: str, reason: str | None) -> str:
        lead: dict[str, Any] = {"code": "automatic", "sender": one_line(sender)}
        if why in WHY:
            lead["why_code"] = why
        else:
            lead["why"] = one_line(why)
        if reason:
            lead["reason"] = one_line(reason)
        self.record["lead"] = lead
        return automatic(sender, why, reason)

    def quarantined(self, why: str, path: str) -> str:
        self.record["lead"] = {"code": "quarantined", "why": one_line(why), "path": one_line(path)}
        return quarantined(why, path)

    def too_big(self, size: str, limit: str) -> str:
        """The stub's sentence: the text of a mail that was not fetched (the first line after
        the lead note, when the mail is an automatic one too)."""
        self.record["stub"] = {"code": "too_big", "size": size, "limit": limit}
        return too_big(size, limit)

    def quoted(self) -> str:
        self.record["quoted"] = True
        return QUOTED

    def attachments(self, lines: list[str]) -> str:
        self.record["attachments"] = len(lines)
        return attachments_block(lines)

    def get(self) -> dict[str, Any]:
        """The record; empty when the body holds no note (which says so: a mail stored
        before the codes has none at all, and its notes are recognised by their words)."""
        return dict(self.record)


def _lead_text(lead: Mapping[str, Any], tr: Callable[[str], str]) -> str | None:
    """A lead note from its code, in the catalog's language; None for a code this version
    does not know (a newer one wrote it): the stored English stays."""
    code = lead.get("code")
    if code == "automatic":
        why_code = lead.get("why_code")
        why = tr(WHY[why_code]) if why_code in WHY else str(lead.get("why", ""))
        template = AUTOMATIC_REASON if lead.get("reason") else AUTOMATIC
        return tr(template).format(
            sender=lead.get("sender", ""), why=why, reason=lead.get("reason", "")
        )
    if code == "quarantined":
        return tr(QUARANTINED).format(why=lead.get("why", ""), path=lead.get("path", ""))
    if code == "too_big":
        return tr(TOO_BIG).format(size=lead.get("size", ""), limit=lead.get("limit", ""))
    return None


def _localize_coded(body: str, note: Mapping[str, Any], tr: Callable[[str], str], key: str) -> str:
    lines = body.split("\n")
    lead = note.get("lead")
    if isinstance(lead, Mapping) and lines:
        text = _lead_text(lead, tr)
        if text is not None:
            lines[0] = text
    stub = note.get("stub")
    at = 2 if isinstance(lead, Mapping) else 0
    if isinstance(stub, Mapping) and at < len(lines):
        lines[at] = _lead_text(stub, tr) or lines[at]
    # The trailers, found by their place (the record says they are there), not their words.
    count = note.get("attachments")
    tail = len(lines)
    if isinstance(count, int) and not isinstance(count, bool) and 0 < count < len(lines):
        heading = len(lines) - count - 1
        lines[heading] = tr(ATTACHMENTS)
        tail = heading - 1  # the blank line before the heading
    if note.get("quoted") is True and 0 < tail <= len(lines):
        lines[tail - 1] = tr(QUOTED_SHOWN).format(key=key)
    return "\n".join(lines)


def whole_text(
    full_text: str, note: Mapping[str, Any] | None, system: bool, tr: Callable[[str], str]
) -> str:
    """A mail's whole text (what `v` shows) in the interface's language: it holds no note of
    ours but the size-limit stub's sentence, which stands for the mail that was not fetched."""
    if note is None:
        return localize(full_text, system, tr)
    stub = note.get("stub")
    if isinstance(stub, Mapping):
        return _localize_coded(full_text, {"stub": stub}, tr, "v")
    return full_text


def is_mail(external_id: str | None) -> bool:
    return bool(external_id) and str(external_id).startswith(MAIL_PREFIX)


def localize(
    body: str,
    system: bool,
    tr: Callable[[str], str],
    key: str = "v",
    note: Mapping[str, Any] | None = None,
) -> str:
    """A mail message's body with the channel's notes in the interface's language (`tr` is
    the catalog's `_`); `key` is the key that opens the whole mail. With the mail's `note`
    record the lines it names are translated from their codes; without one (a mail stored
    before the codes) the English templates are recognised."""
    if note is not None:
        return _localize_coded(body, note, tr, key)
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
