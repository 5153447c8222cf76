"""The e-mail channel's automatic acknowledgement: a new conversation's first mail is answered
at once with when someone will take it up.

Said from the SLA policy the conversation's clocks run on (one definition of the team's promise):
the target of the clock that starts when a mail arrives (for ticket channels such as e-mail: an
agent owns it within `assignment`, 24 h by default; else the first response), counted on the
channel's calendar, so the acknowledgement names the instant in the calendar's own time zone.
Outside service hours it also says when the team is back, as the web chat's offline note does
(both read cs_tui.calendars.reopening). Without a calendar the team works around the clock and
only the target is named.

Written in the channel's `ack_language`, or with "auto" in the language of the customer's mail
(Chinese when its subject or text holds Chinese, else English). Sent through the outbox like a
reply (cs_tui.data.mail_store.queue_mail_ack: at most one per conversation, one per address a
day), marked `Auto-Submitted: auto-replied` and threaded under the customer's mail. Never for
automatic mail (absence notes, bounces, lists, `Auto-Submitted`): those are system messages and
open no conversation that is owed an answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from cs_tui.calendars import add_open_time, reopening
from cs_tui.i18n import N_, translate
from cs_tui.sla import TICKET_CHANNELS, SlaClock, SlaPolicy

ACK_EVERY_S = 24 * 3600.0
"""One acknowledgement per customer address and channel in this time: the loop-breaker for a
robot that answers without saying it is one."""

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))

RECEIVED = N_("Thank you for your mail. We have received it and filed it as #{id}.")
CLOSED = N_(
    "We are outside our service hours right now. We are back on {back} ({zone} time), and "
    "a member of our team will take up your message by {due}."
)
OPEN = N_(
    "A member of our team will take up your message within {target} of service time, "
    "by {due} ({zone} time)."
)
AROUND_THE_CLOCK = N_("A member of our team will take up your message within {target}.")
AUTOMATIC = N_(
    "This is an automatic reply: there is no need to answer it. To add anything, simply "
    "reply to this mail."
)
WHEN = N_("{weekday} {date} {time}")
HOURS = (N_("1 hour"), N_("{n} hours"))
MINUTES = (N_("1 minute"), N_("{n} minutes"))
DAYS = (N_("1 day"), N_("{n} days"))


def language_of(subject: str, text: str, setting: str) -> str:
    """The acknowledgement's language: the channel's setting, or the mail's with "auto"."""
    if setting in ("zh", "en"):
        return setting
    return "zh" if _HAN.search(subject or "") or _HAN.search((text or "")[:2000]) else "en"


def acknowledgement(
    policy: SlaPolicy, channel_type: str, conversation_id: int, now: datetime, lang: str
) -> str:
    """The acknowledgement's text in `lang` (zh or en)."""

    def tr(msgid: str) -> str:
        return translate(lang, msgid)

    clock = SlaClock.ASSIGNMENT if channel_type in TICKET_CHANNELS else SlaClock.FIRST_RESPONSE
    target = policy.target(clock, channel_type, "", "")
    calendar = policy.calendar_for(channel_type, "", "")
    lines = [tr(RECEIVED).format(id=conversation_id)]
    if calendar is None:
        lines.append(tr(AROUND_THE_CLOCK).format(target=_duration(target, tr)))
    else:
        due = add_open_time(calendar, now, target).astimezone(calendar.zone)
        back = reopening(calendar, now)
        zone = calendar.timezone
        if back is not None:
            lines.append(
                tr(CLOSED).format(back=_when(back.local, tr), zone=zone, due=_when(due, tr))
            )
        else:
            lines.append(
                tr(OPEN).format(target=_duration(target, tr), due=_when(due, tr), zone=zone)
            )
    lines.append(tr(AUTOMATIC))
    return "\n\n".join(lines)


def _when(local: datetime, tr: Callable[[str], str]) -> str:
    return tr(WHEN).format(
        weekday=tr(WEEKDAYS[local.weekday()]),
        date=local.strftime("%Y-%m-%d"),
        time=local.strftime("%H:%M"),
    )


def _duration(seconds: float, tr: Callable[[str], str]) -> str:
    """A target in whole days (from three), hours or minutes ("24 hours", "30 minutes")."""
    whole = int(round(seconds))
    for size, (one, many) in ((86400, DAYS), (3600, HOURS), (60, MINUTES)):
        if whole >= size and whole % size == 0 and not (size == 86400 and whole < 3 * 86400):
            n = whole // size
            return tr(one) if n == 1 else tr(many).format(n=n)
    n = max(1, round(seconds / 60))
    return tr(MINUTES[0]) if n == 1 else tr(MINUTES[1]).format(n=n)
