"""The role-play panels: the trainee's bar (scenario, time left), the brief, and the trainer's
live rubric.

Widgets like the workstation's own, so the screens in `cs_tui.screens.roleplay` only compose
them. Scenario and customer text reaches the terminal only through `cs_tui.safe_text`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from cs_tui.clock import Clock
from cs_tui.durations import format_countdown
from cs_tui.i18n import _
from cs_tui.roleplay import Scenario, Scorecard, time_left
from cs_tui.roleplay.scenario import criterion_label
from cs_tui.safe_text import clean, one_line, safe

if TYPE_CHECKING:
    from cs_tui.data.training_store import TrainingSessionView

__all__ = [
    "BriefPanel",
    "RolePlayBar",
    "RubricPanel",
    "cut",
    "reflow",
    "rubric_label",
    "wrap_cells",
]


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


def _wide(char: str) -> bool:
    return cell_len(char) == 2


def reflow(text: str) -> str:
    """A scenario file's brief as paragraphs: the line breaks of the TOML source are joined
    (with nothing next to a Chinese character, else a space), blank lines kept, so the
    panel wraps the text to its own width."""
    paragraphs = []
    for block in str(text).split("\n\n"):
        joined = ""
        for line in (part.strip() for part in block.splitlines()):
            if not line:
                continue
            if joined and not (_wide(joined[-1]) or _wide(line[0])):
                joined += " "
            joined += line
        if joined:
            paragraphs.append(joined)
    return "\n\n".join(paragraphs)


def _tokens(paragraph: str) -> list[str]:
    """Where a line may break: around each Chinese character (punctuation stays with the
    character before it), between words, at spaces."""
    tokens: list[str] = []
    for char in paragraph:
        if char.isspace():
            if tokens and tokens[-1].isspace():
                tokens[-1] += char
            else:
                tokens.append(char)
        elif _wide(char) or not tokens or tokens[-1].isspace():
            tokens.append(char)
        elif _wide(tokens[-1][-1]) and (char.isalnum() or len(tokens[-1]) > 1):
            tokens.append(char)  # a word after a Chinese character (its punctuation joined it)
        else:
            tokens[-1] += char
    return tokens


def wrap_cells(text: str, width: int) -> list[str]:
    """Lines of at most `width` cells. Rich and Textual break lines only at spaces, so a run of
    Chinese after a short English word ("VIP 顾客要求…") moved whole to the next line; here a
    line breaks between any two Chinese characters, and between words elsewhere."""
    width = max(1, width)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used = "", 0
        for token in _tokens(paragraph):
            size = cell_len(token)
            if token.isspace():
                if line and used + size <= width:
                    line, used = line + token, used + size
                elif line:
                    lines.append(line.rstrip())
                    line, used = "", 0
                continue
            if used + size > width and line:
                lines.append(line.rstrip())
                line, used = "", 0
            while size > width:  # a word wider than the panel: folded
                head = cut_cells(token, width)
                lines.append(head)
                token = token[len(head) :]
                size = cell_len(token)
            line, used = line + token, used + size
        lines.append(line.rstrip())
    return lines


def cut_cells(text: str, width: int) -> str:
    """The longest start of `text` that fits `width` cells (at least one character)."""
    used = 0
    for index, char in enumerate(text):
        used += cell_len(char)
        if used > width:
            return text[: max(1, index)]
    return text


class BriefPanel(Widget):
    """The scenario's brief, across the whole width of the screen, until F1 hides it.

    It is a panel of the layout rather than a toast: a toast floats over the panes, and where a
    pane's edge runs under it the compositor cuts each line of the toast at that column; a
    Chinese character (two cells) straddling the cut is replaced by blanks, which is how 天, 给
    and 以 went missing from the brief. A full-width panel has no other widget's edge inside it,
    and it stays readable for the whole session."""

    DEFAULT_CSS = """
    BriefPanel {
        height: auto;
        max-height: 8;
        padding: 0 1;
        background: $accent 12%;
        border-bottom: solid $accent 40%;
        overflow-y: auto;
    }
    """

    def __init__(self, brief: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.brief = clean(reflow(brief))
        self.waiting = ""
        """Set on the trainer's console while the trainee has not joined: how they join."""

    def _lines(self, width: int) -> list[str]:
        return wrap_cells(self.brief, width)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 1 + bool(self.waiting) + len(self._lines(width))

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="crop")
        text.append(_("Brief") + "  ", style="bold")
        text.append(_("F1 hides it"), style="dim")
        if self.waiting:
            text.append("\n")
            text.append(cut(self.waiting, self.content_size.width), style="bold yellow")
        for line in self._lines(self.content_size.width):
            text.append("\n" + line)
        return text


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
        text.append(_("F1 brief") + "  " + _("F8 ends it") + "  ", style="dim")
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
