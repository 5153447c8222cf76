"""The role-play panels: the trainee's bar (scenario, time left) and the trainer's live rubric.

Widgets like the workstation's own, so the screens in `cs_tui.screens.roleplay` only compose
them. Scenario and customer text reaches the terminal only through `cs_tui.safe_text`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget

from cs_tui.clock import Clock
from cs_tui.durations import format_countdown
from cs_tui.i18n import _
from cs_tui.roleplay import Scenario, Scorecard, time_left
from cs_tui.roleplay.scenario import criterion_label
from cs_tui.safe_text import one_line, safe

if TYPE_CHECKING:
    from cs_tui.data.training_store import TrainingSessionView

__all__ = ["RolePlayBar", "RubricPanel", "rubric_label", "cut"]


def cut(text: str, limit: int) -> str:
    """One line at most `limit` cells wide (Chinese characters take two), the rest elided."""
    flat = " ".join(str(text).split())
    if cell_len(flat) <= limit:
        return flat
    width = 0
    for index, char in enumerate(flat):
        width += cell_len(char)
        if width > limit - 1:
            return flat[:index] + "…"
    return flat


def rubric_label(criterion: str, lang: str) -> str:
    """A rubric item's name; an unknown one (from a stored scorecard or a scenario file) is
    drawn as plain text."""
    label = criterion_label(criterion, lang)
    return label if label is not None else one_line(criterion, limit=40)


class RolePlayBar(Widget):
    """Scenario, customer, time left; repainted each second without a layout pass."""

    DEFAULT_CSS = """
    RolePlayBar { height: 1; padding: 0 1; background: $accent 30%; }
    """

    def __init__(
        self, scenario: Scenario, session: TrainingSessionView, clock: Clock, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.session = session
        self.clock = clock
        self.note = ""

    def render(self) -> Text:
        s = self.scenario
        left = time_left(s, self.session.started_at, self.clock.now())
        text = Text(no_wrap=True, overflow="ellipsis")
        mode = _("Role-play (live)") if self.session.mode == "live" else _("Role-play")
        text.append(mode, style="bold")
        text.append(
            f"  ⏱ {format_countdown(max(0.0, left))}  ", style="bold red" if left < 60 else ""
        )
        if self.note:
            text.append(self.note + "  ", style="italic")
        text.append(_("F8 ends it") + "  ", style="dim")
        text.append_text(safe(cut(s.title, 40), single_line=True))
        return text


class RubricPanel(Widget):
    """The scorecard as it stands, redrawn when the transcript or the second changes."""

    DEFAULT_CSS = """
    RubricPanel { height: auto; padding: 0 1; }
    """

    def __init__(self, lang: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lang = lang
        self.card: Scorecard | None = None

    def show(self, card: Scorecard) -> None:
        self.card = card
        self.refresh(layout=True)

    def render(self) -> Text:
        card = self.card
        text = Text()
        if card is None:
            return Text(_("Loading…"), style="dim")
        text.append(
            _("Rubric now: {total} / {max}").format(
                total=f"{card.total:g}", max=f"{card.max_points:g}"
            )
            + "\n",
            style="bold",
        )
        width = 1 + max(
            (cell_len(rubric_label(i.criterion, self.lang)) for i in card.items), default=0
        )
        for item in card.items:
            if not item.applicable:
                mark, style = "–", "dim"
            elif item.passed:
                mark, style = "✓", "green"
            else:
                mark, style = "·", "yellow"
            text.append(f"{mark} ", style=f"bold {style}")
            label = rubric_label(item.criterion, self.lang)
            text.append(label + " " * (width - cell_len(label)))
            if item.applicable:
                text.append(f"{item.points:g}/{item.max_points:g}\n", style="dim")
            else:
                text.append("–\n", style="dim")
        if card.compliant_rate is not None:
            text.append(
                _("Compliant language {rate} %").format(rate=f"{card.compliant_rate * 100:.0f}"),
                style="dim",
            )
        return text
