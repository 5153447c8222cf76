"""The status line: who is logged in, their role, the store, the queue size, the clock, and which
channels are outside their service hours."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual.widget import Widget

from cs_tui.clock import Clock
from cs_tui.data.views import AgentInfo
from cs_tui.i18n import N_, _
from cs_tui.safe_text import clean, one_line
from cs_tui.sla import CHANNELS, SlaPolicy
from cs_tui.widgets import labels
from cs_tui.widgets.sla_badge import resume_text

ROLES = {"agent": N_("agent"), "supervisor": N_("supervisor"), "trainer": N_("trainer")}


class StatusLine(Widget):
    """Drawn by render() so the per-second tick is a repaint of one line, never a layout."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def __init__(
        self,
        agent: AgentInfo,
        store_location: str,
        clock: Clock,
        *,
        locked: bool,
        policy: SlaPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.policy = policy
        self.agent = agent
        self.store_location = store_location
        self.clock = clock
        self.locked = locked
        self.queue_total: int | None = None
        self.problem: str | None = None
        self._minute: datetime | None = None

    def tick(self) -> None:
        """Repaint when the minute changes (the clock shows HH:MM, so most ticks cost nothing)."""
        minute = self.clock.now().replace(second=0, microsecond=0)
        if minute != self._minute:
            self._minute = minute
            self.refresh()

    def render(self) -> Text:
        return self.build()

    def build(self) -> Text:
        agent = self.agent
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(one_line(agent.handle), style="bold")
        if agent.display_name and agent.display_name != agent.handle:
            text.append(" (")
            text.append(clean(agent.display_name, single_line=True))
            text.append(")")
        text.append(" · ")
        role = ROLES.get(agent.role)
        text.append(_(role) if role else one_line(agent.role), style="bold cyan")
        if self.locked:
            text.append(" · " + _("locked"), style="dim")
        if self.problem:
            text.append(" · ")
            text.append(one_line(self.problem), style="bold red")
        if self.queue_total is not None:
            text.append(" · " + _("queue {count}").format(count=f"{self.queue_total:,}"))
        text.append(" · ")
        text.append(self.clock.now().astimezone().strftime("%H:%M"), style="bold")
        for notice in self.closed_channels():  # after the clock: at 80 columns both fit
            text.append(" · ")
            text.append(notice, style="bold")
        text.append(" · ")
        text.append(clean(self.store_location, single_line=True), style="dim")
        return text

    def closed_channels(self) -> list[str]:
        """One notice per calendar outside its service hours now, naming its channels and when
        it opens ("ticket, email closed until Mon 09:00"). A channel's calendar is the one its
        channel rule (or a channel-wide override) names. Drawn after the clock, so at 80
        columns the clock stays in view."""
        if self.policy is None or not self.policy.calendars:
            return []
        now = self.clock.now()
        closed: dict[str, list[str]] = {}
        for channel in CHANNELS:
            calendar = self.policy.calendar_for(channel, "", "")
            if calendar is None:
                continue
            when = resume_text(calendar, now)
            if when:
                closed.setdefault(when, []).append(labels.label(labels.CHANNELS, channel))
        return [
            _("{channels} closed until {when}").format(channels=", ".join(names), when=when)
            for when, names in closed.items()
        ]
