"""Errors the store raises; each message is written for the person at the keyboard."""

from __future__ import annotations

from cs_tui.data.db import StoreError


class NotAllowed(StoreError):
    """The actor's role or assignment does not permit this action."""


class NotFound(StoreError):
    """No such conversation, agent or customer."""


class InvalidInput(StoreError):
    """A value the store will not keep (unknown channel, empty reply, bad CSAT...)."""


class StoreUnavailable(StoreError):
    """The store could not be reached or stayed locked; the action may be retried."""


__all__ = ["StoreError", "NotAllowed", "NotFound", "InvalidInput", "StoreUnavailable"]
