"""The palette's "Find conversation": type an id, an order number, a name, a handle or words of a
message, pick a result, and it opens on the workstation.

A palette of its own (Textual's CommandPalette with one provider), so what the agent types
searches the store, not the list of commands. Each keystroke's search runs in a thread (the
palette cancels a search when the next keystroke starts one); the store decides what this agent
may find (see data/find.py). Results show customer text: drawn through safe_text.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.command import CommandPalette, Hit, Hits, Provider

from cs_tui.data.errors import StoreError
from cs_tui.i18n import N_, _
from cs_tui.safe_text import one_line, safe
from cs_tui.widgets import labels

if TYPE_CHECKING:
    from cs_tui.data.find import Found

MATCHED = {
    "id": N_("conversation id"),
    "order": N_("order number"),
    "customer": N_("customer"),
    "message": N_("message"),
}


def find_palette() -> CommandPalette:
    return CommandPalette(
        providers=[FindProvider],
        placeholder=_("Find a conversation: id, order number, customer, words of a message…"),
    )


def hit_line(found: Found) -> Text:
    """One result: id, customer, status, and for a message match the message itself."""
    row = found.row
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(one_line(row.external_id, 24), style="bold")
    line.append("  ")
    line.append(one_line(row.customer_name, 20))
    line.append(f"  {labels.label(labels.STATUSES, row.status)}", style="dim")
    if found.text:
        line.append("  ")
        line.append_text(safe(found.text, single_line=True, limit=80, style="italic"))
    return line


class FindProvider(Provider):
    """Searches the store for what is typed; a chosen hit opens its conversation."""

    async def search(self, query: str) -> Hits:
        async for hit in self._hits(query):
            yield hit

    async def _hits(self, query: str) -> AsyncIterator[Hit]:
        text = query.strip()
        if not text:
            return
        app: Any = self.app
        try:
            found = await asyncio.to_thread(app.store.find, app.agent, text)
        except StoreError:
            return
        for rank, item in enumerate(found):
            matched = MATCHED.get(item.matched, item.matched)
            yield Hit(
                1.0 - rank / 1000,
                hit_line(item),
                lambda cid=item.row.id: self._open(cid),
                text=one_line(f"{item.row.external_id} {item.row.customer_name}"),
                help=_("Found by its {what}").format(what=_(matched)),
            )

    def _open(self, conversation_id: int) -> None:
        from cs_tui.screens.workstation import WorkstationScreen

        if isinstance(self.screen, WorkstationScreen):
            self.screen.open_conversation(conversation_id)
