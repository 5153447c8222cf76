"""A store error as the agent reads it: by its code, in the interface language.

The store's errors carry a code and the parameters of their message (`cs_tui.data.errors`); the
English templates there are the catalog's message ids. Translating by code rather than by the
English text means the parameters (a handle, a limit, a conversation number) are filled in after
translation, and an error raised with a free text (a path, a server's words) is shown as it is.
"""

from __future__ import annotations

from cs_tui.data.errors import MESSAGES, StoreError
from cs_tui.i18n import _


def store_message(error: StoreError) -> str:
    """The error's message in the interface language, parameters filled in."""
    template = MESSAGES.get(error.code)
    if template is None:
        return str(error)
    try:
        return _(template).format(**error.params)
    except (KeyError, IndexError, ValueError):  # a translation that names another parameter
        return str(error)
