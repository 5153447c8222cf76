"""The error a command raises for a problem the user can fix.

Its own module because both sides use it: the commands raise it and `cs_tui.cli` prints it, so
neither has to import the other for it.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; printed as `cs-tui: message` with exit status 2."""
