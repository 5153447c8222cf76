"""Errors the store raises. Each carries a stable `code` and the `params` its message needs.

The message (`str(error)`) is English, for the command line and logs. The workstation shows the
error in the agent's language by its code (`cs_tui.widgets.store_messages`), never by reading the
English text, so a reworded message cannot silently lose its translation. Messages marked `N_`
have an entry in the interface's catalog; the others are shown as written here.
"""

from __future__ import annotations

from typing import Any

from cs_tui.i18n import N_

MESSAGES: dict[str, str] = {
    # who may act
    "needs_agent": N_("this action needs an agent"),
    "disabled": N_(
        "your agent account is disabled: only your own audit log stays readable until a "
        "supervisor makes it active again"
    ),
    "not_in_team": N_(
        "{handle!r} is not in this team: a supervisor adds agents with `cs-tui agents add {handle}`"
    ),
    "not_assigned": N_("this conversation is not assigned to you: claim it first"),
    "belongs_to_another": N_("this conversation belongs to another agent"),
    "supervisor_reassigns": N_("only a supervisor may reassign another agent's conversation"),
    "supervisor_deletes": N_("only a supervisor may delete a conversation"),
    "supervisor_manages": N_("only a supervisor may change the team"),
    "supervisor_only": "only a supervisor may {what}",
    "last_supervisor": "{handle} is the last active supervisor: make someone else one first",
    "csat_from_customer": N_("CSAT comes from the customer: an agent cannot set it"),
    # what the store keeps
    "empty_message": N_("an empty message is not sent"),
    "empty_customer_message": "an empty message is not stored",
    "reply_too_long": N_("a reply has at most {limit} characters"),
    "escalation_reason": N_("an escalation needs a reason"),
    "handover_too_long": N_("a handover note has at most {limit} characters"),
    "snooze_past": N_("snooze until a time in the future"),
    "snooze_too_long": N_("a snooze cannot be longer than the service policy's maximum"),
    "snooze_resolved": N_("a resolved conversation cannot be snoozed"),
    "wait_resolved": N_("a resolved conversation cannot wait on the customer"),
    "already_resolved": N_("this conversation is already resolved"),
    "reopen_unresolved": N_("only a resolved or closed conversation can be reopened"),
    "follow_up_unresolved": "only a resolved conversation has a follow-up",
    "csat_range": N_("CSAT is a score from 1 to 5"),
    "tag_empty": N_("a tag cannot be empty"),
    "tag_too_long": N_("a tag has at most {limit} characters"),
    "tag_control": N_("a tag cannot hold control characters"),
    "unknown_category": "unknown category {category!r}",
    "unknown_priority": "unknown priority {priority!r}",
    "unknown_choice": "unknown {field} {value!r} (known: {known})",
    "unknown_channel": "unknown channel {channel!r}",
    "conversation_exists": "conversation {external_id!r} already exists",
    # personal phrases
    "phrase_title_empty": N_("a phrase needs a title"),
    "phrase_title_line": N_("a phrase's title is one line without control characters"),
    "phrase_title_too_long": N_("a phrase's title has at most {limit} characters"),
    "phrase_body_empty": N_("a phrase needs a text"),
    "phrase_control": N_("a phrase's text cannot hold control characters"),
    "phrase_body_too_long": N_("a phrase's text has at most {limit} characters"),
    "phrase_shortcut": N_("a shortcut is one word of at most {limit} characters"),
    "phrase_shortcut_taken": N_("you already have a phrase with the shortcut {shortcut}"),
    "no_personal_phrase": N_("you have no phrase #{phrase_id}"),
    # agents
    "bad_handle": (
        "{handle!r} is not a usable agent handle: letters, digits, '.', '_', '-', '@', "
        "at most 64 characters"
    ),
    "unknown_role": "unknown role {role!r} (known: {known})",
    "agent_exists": "agent {handle!r} already exists",
    "agent_disabled": N_("agent {handle} is disabled"),
    # what is not there
    "no_conversation": N_("no conversation #{conversation_id}"),
    "no_conversation_named": "no conversation {external_id!r}",
    "no_customer": "no customer #{customer_id}",
    "no_customer_named": "no customer {handle!r}",
    "no_agent": N_("no agent {handle!r}"),
    "no_agent_id": "no agent #{agent_id}",
    "no_session": "no role-play session #{session_id}",
    # role-play
    "unknown_mode": "unknown mode {mode!r} (solo or live)",
    "live_needs_trainer": "a live session needs a trainer",
    "trainer_runs_live": "only a trainer or a supervisor may run a live role-play",
    "trainer_not_trainee": "the trainer and the trainee must be different agents",
    "scripted_training_only": "scripted turns go to training conversations only",
    "trainer_speaks": "only a trainer or a supervisor may speak as the customer",
    "trainer_speaks_training_only": (
        "a trainer speaks as the customer in training conversations only"
    ),
    "session_not_yours": "this role-play session belongs to another agent",
    "session_end_not_allowed": (
        "only the trainee, the trainer or a supervisor may end this session"
    ),
    # gateway channels and deliveries
    "bad_channel_name": (
        "{name!r} is not a usable channel name: lowercase letters, digits, '_' and '-', "
        "starting with a letter or digit, at most 64 characters"
    ),
    "unknown_channel_kind": "unknown channel kind {kind!r} (known: {known})",
    "bad_webhook_url": (
        "the webhook URL must be an http:// or https:// address with a host, "
        "without spaces, at most 2000 characters"
    ),
    "channel_exists": "channel {name!r} already exists",
    "channel_disabled": "channel {name!r} is disabled",
    "no_channel": "no channel {name!r}",
    "no_channel_id": "no channel #{channel_id}",
    "no_delivery": N_("no delivery #{delivery_id}"),
    "no_delivery_for_message": "no delivery of message {message_id!r} on this channel",
    "delivery_not_yours": N_("this delivery is of another agent's conversation"),
    "delivery_not_retryable": N_(
        "delivery #{delivery_id} is {status}: only a failed or still queued delivery is sent again"
    ),
    "unknown_delivery_status": "unknown delivery status {status!r} (known: {known})",
    "receipt_status": "a receipt's status is delivered, read or failed",
}


class StoreError(Exception):
    """A store error; `code` says which (see MESSAGES), `params` fill in its message.

    Raised with a code (`NotAllowed(code="not_assigned")`) the message comes from MESSAGES; raised
    with a text (a path, a server's own words) the code is the class's and the text is shown as
    it is.
    """

    code = "store"

    def __init__(self, message: str | None = None, *, code: str | None = None, **params: Any):
        if code is not None:
            self.code = code
            message = MESSAGES[code].format(**params)
        self.params = params
        super().__init__(message if message is not None else self.code)


class NotAllowed(StoreError):
    """The actor's role or assignment does not permit this action."""

    code = "not_allowed"


class NotFound(StoreError):
    """No such conversation, agent or customer."""

    code = "not_found"


class InvalidInput(StoreError):
    """A value the store will not keep (unknown channel, empty reply, bad CSAT...)."""

    code = "invalid_input"


class StoreUnavailable(StoreError):
    """The store could not be reached or stayed locked; the action may be retried."""

    code = "unavailable"


__all__ = ["MESSAGES", "StoreError", "NotAllowed", "NotFound", "InvalidInput", "StoreUnavailable"]
