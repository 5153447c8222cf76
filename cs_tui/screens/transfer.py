"""Transfer a conversation to another agent, picked with a fuzzy filter over handle and name."""

from __future__ import annotations

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


class TransferScreen(CsModal[str]):
    """Returns the chosen agent's handle, or None when cancelled."""

    CSS_PATH = ["modal.tcss", "transfer.tcss"]
    BINDINGS = [Binding("down", "focus_list", N_("Results"), show=False)]

    def __init__(
        self, agents: list[AgentInfo], online: set[str], me: str, target: str = ""
    ) -> None:
        super().__init__()
        self.target = target
        self.agents = [a for a in agents if a.active and a.handle != me]
        self.agents.sort(key=lambda a: (a.handle not in online, a.role != "agent", a.handle))
        self.online = online

    def compose(self) -> ComposeResult:
        with Vertical(classes="box") as box:
            box.border_title = safe(
                _("Transfer {target} to an agent").format(target=self.target)
                if self.target
                else _("Transfer to an agent"),
                single_line=True,
            )
            yield Input(placeholder=_("Type a name or handle"), id="agent-filter")
            yield OptionList(id="agents")
            yield Static(_("Enter transfers · Esc cancels"), classes="hint")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#agent-filter", Input).focus()

    def _fill(self, query: str) -> None:
        listing = self.query_one("#agents", OptionList)
        listing.clear_options()
        for agent in rank_agents(self.agents, query):
            text = Text()
            text.append("+ " if agent.handle in self.online else "  ", style="green")
            text.append_text(safe(agent.handle, single_line=True, style="bold"))
            text.append(" ")
            text.append_text(safe(agent.display_name, single_line=True, limit=30))
            role = ROLES.get(agent.role)
            text.append(" · " + (_(role) if role else agent.role), style="dim")
            listing.add_option(Option(text, id=agent.handle))
        if listing.option_count:
            listing.highlighted = 0

    @on(Input.Changed, "#agent-filter")
    def _changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#agent-filter")
    def _submitted(self, event: Input.Submitted) -> None:
        listing = self.query_one("#agents", OptionList)
        if listing.highlighted is not None:
            self.dismiss(listing.get_option_at_index(listing.highlighted).id)

    def action_focus_list(self) -> None:
        self.query_one("#agents", OptionList).focus()

    @on(OptionList.OptionSelected, "#agents")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
