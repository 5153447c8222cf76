"""The store's fixed messages, listed for the message catalog so the workstation can show them
in the agent's language. The data layer stays free of the UI's catalog; a message not listed
here (one carrying a name or a number) is shown as the store wrote it."""

from __future__ import annotations

from cs_tui.i18n import N_, _

STORE_MESSAGES = (
    N_("this conversation is not assigned to you: claim it first"),
    N_("this conversation belongs to another agent"),
    N_("only a supervisor may reassign another agent's conversation"),
    N_("only a supervisor may delete a conversation"),
    N_("this action needs an active agent"),
    N_("an empty message is not sent"),
    N_("an escalation needs a reason"),
    N_("snooze until a time in the future"),
    N_("a resolved conversation cannot be snoozed"),
    N_("a resolved conversation cannot wait on the customer"),
    N_("this conversation is already resolved"),
    N_("only a resolved or closed conversation can be reopened"),
    N_("a tag cannot be empty"),
    N_("a tag cannot hold control characters"),
    N_("CSAT is a score from 1 to 5"),
    N_(
        "your agent account is disabled: only your own audit log stays readable until a "
        "supervisor makes it active again"
    ),
    N_("this action needs an agent"),
    N_("only a supervisor may change the team"),
    N_("CSAT comes from the customer: an agent cannot set it"),
    N_("a snooze cannot be longer than the service policy's maximum"),
)
_KNOWN = frozenset(STORE_MESSAGES)


def store_message(text: str) -> str:
    """A store error in the interface language when it is one of the fixed messages."""
    return _(text) if text in _KNOWN else text
