"""Transfer a conversation: pick who takes it (fuzzy over handle and name), then say why.

The picker shows what a good choice needs: who is online now and how many open conversations
each one already holds, the least loaded online colleagues first. From the workstation the
transfer also asks for a handover note (what the customer needs, what was done), which the new
owner reads above the transcript; a supervisor moving work from the dashboard may leave it out.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from cs_tui.data.views import AgentInfo
from cs_tui.i18n import N_, _
from cs_tui.safe_text import safe
from cs_tui.screens.modal import CsModal
from cs_tui.widgets.status_line import ROLES

NOTE_MAX = 2000
"""The store's limit for a handover note (data.actions.MAX_HANDOVER_CHARS)."""


@dataclass(frozen=True)
class TransferChoice:
    handle: str
    note: str = ""


def rank_agents(agents: list[AgentInfo], query: str) -> list[AgentInfo]:
    """Agents matching `query` best first; all of them (online first) for an empty query."""
    query = query.strip().casefold()
    if not query:
        return agents
    scored = []
    for agent in agents:
        hay = f"{agent.handle} {agent.display_name}".casefold()
        score = 100.0 if hay.startswith(query) else fuzz.partial_ratio(query, hay)
        if score >= 60:
            scored.append((-score, agent.handle, agent))
    return [a for _s, _h, a in sorted(scored, key=lambda t: (t[0], t[1]))]


class TransferScreen(CsModal[TransferChoice]):
    """Returns the chosen agent and the handover note, or None when cancelled."""

    CSS_PATH = ["modal.tcss", "transfer.tcss"]
    BINDINGS = [Binding("down", "focus_list", N_("Results"), show=False)]

    def __init__(
        self,
        agents: list[AgentInfo],
        online: set[str],
        me: str,
        target: str = "",
        *,
        loads: dict[str, int] | None = None,
        ask_note: bool = False,
    ) -> None:
        super().__init__()
        self.target = target
        self.online = online
        self.loads = loads or {}
        self.ask_note = ask_note
        self.agents = [a for a in agents if a.active and a.handle != me]
        self.agents.sort(
            key=lambda a: (
                a.handle not in online,
                a.role != "agent",
                self.loads.get(a.handle, 0),
                a.handle,
            )
        )

    def compose(self) -> ComposeResult:
        with Vertical(classes="box") as box:
            box.border_title = self.target_title(
                _("Transfer {target} to an agent"), _("Transfer to an agent")
            )
            yield Input(placeholder=_("Type a name or handle"), id="agent-filter")
            yield OptionList(id="agents")
            if self.ask_note:
                yield Input(
                    placeholder=_("Handover note: what they need, what you did"),
                    id="handover-note",
                    max_length=NOTE_MAX,
                )
                yield Static("", id="transfer-problem", classes="problem")
                hint = _("Enter: to the note, then Enter transfers · Esc cancels")
            else:
                hint = _("Enter transfers · Esc cancels")
            yield Static(hint, classes="hint")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#agent-filter", Input).focus()

    def agent_line(self, agent: AgentInfo) -> Text:
        online = agent.handle in self.online
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("● " if online else "○ ", style="green" if online else "dim")
        text.append_text(safe(agent.handle, single_line=True, style="bold"))
        text.append(" ")
        text.append_text(safe(agent.display_name, single_line=True, limit=20))
        role = ROLES.get(agent.role)
        text.append(" · " + (_(role) if role else agent.role), style="dim")
        text.append(" · ")
        text.append(_("online") if online else _("away"), style="green" if online else "dim")
        count = self.loads.get(agent.handle, 0)
        text.append(" · " + _("{count} open").format(count=count))
        return text

    def _fill(self, query: str) -> None:
        listing = self.query_one("#agents", OptionList)
        listing.clear_options()
        for agent in rank_agents(self.agents, query):
            listing.add_option(Option(self.agent_line(agent), id=agent.handle))
        if listing.option_count:
            listing.highlighted = 0

    def _highlighted(self) -> str | None:
        listing = self.query_one("#agents", OptionList)
        if listing.highlighted is None:
            return None
        return listing.get_option_at_index(listing.highlighted).id

    def _problem(self, text: str) -> None:
        self.query_one("#transfer-problem", Static).update(Text(text))

    def _chosen_agent(self, handle: str | None) -> None:
        if handle is None:
            return
        if not self.ask_note:
            self.dismiss(TransferChoice(handle))
            return
        note = self.query_one("#handover-note", Input)
        self._problem("")
        note.border_title = safe(_("Note for {agent}").format(agent=handle), single_line=True)
        note.focus()

    @on(Input.Changed, "#agent-filter")
    def _changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#agent-filter")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._chosen_agent(self._highlighted())

    def action_focus_list(self) -> None:
        self.query_one("#agents", OptionList).focus()

    @on(OptionList.OptionSelected, "#agents")
    def _option_chosen(self, event: OptionList.OptionSelected) -> None:
        listing = self.query_one("#agents", OptionList)
        listing.highlighted = event.option_index
        self._chosen_agent(event.option.id)

    @on(Input.Submitted, "#handover-note")
    def _note_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        handle = self._highlighted()
        if handle is None:
            self._problem(_("Pick who takes it first: no agent matches the filter."))
            self.query_one("#agent-filter", Input).focus()
            return
        note = event.value.strip()
        if not note:
            self._problem(
                _(
                    "Write a handover note: {agent} reads it first, so the customer need not repeat."
                ).format(agent=handle)
            )
            return
        self.dismiss(TransferChoice(handle, note))
