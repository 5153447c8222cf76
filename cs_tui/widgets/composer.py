"""The composer: where the agent writes a reply or a private note.

Enter sends. A newline is ctrl+j (the terminal's own line-feed key: it reaches the app unchanged
over SSH and in tmux, unlike shift+enter or ctrl+enter which arrive as plain Enter); alt+enter
works too where the terminal sends it. Escape or Tab leave the composer (Escape arrives ~100 ms
late over SSH, so it is never the only way out). `ctrl+/` opens the phrase picker wherever the
cursor is (and `/` does in an empty composer); the chosen phrase goes in at the cursor, so
several stack up.

A phrase's unfilled placeholders (`{amount}`) are blanks: drawn highlighted, and while the reply
has one, `tab` / `shift+tab` select the next / previous blank whole, so typing the value replaces
it (the phrase's amount takes its digits plus one key). With no blank left, Tab leaves the
composer as before.

The composer does not talk to the store. It posts `DraftChanged` (debounced) so the screen saves
the draft, and `Submitted`; the text stays in the composer until the screen says the message is
stored (`sent()`), so a failed send leaves it there to retry.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import TextArea
from textual.widgets.text_area import Document, Selection

from cs_tui.i18n import N_, _
from cs_tui.safe_text import for_composer
from cs_tui.widgets.blanks import Span, blank_spans, next_blank, previous_blank

DRAFT_DEBOUNCE_S = 0.4
CHECK_DEBOUNCE_S = 0.3


HINTS = (
    N_("Enter send · ctrl+j newline · ctrl+/ phrase · ctrl+n note/reply"),
    N_("Enter send · ctrl+j newline · ctrl+/ phrase"),
    N_("Enter send · ctrl+/ phrase"),
    N_("Enter send"),
)
"""The key hint under the composer, longest first: the longest that fits is shown whole,
never one cut in the middle of a word."""

BLANK_HINTS = (
    N_("tab next blank · shift+tab previous · Enter send"),
    N_("tab next blank · Enter send"),
    N_("Enter send"),
)
"""The hint while a phrase's blank is left to fill: tab is the key that matters then, and
Enter would send the blank as it stands."""


def fitting_hint(width: int, blanks: bool = False) -> str:
    """The longest hint that fits a border `width` cells wide (its corners and the spaces
    around the subtitle take 6), or none; width 0 (not laid out yet) takes the longest."""
    hints = [_(hint) for hint in (BLANK_HINTS if blanks else HINTS)]
    if width <= 0:
        return hints[0]
    return next((hint for hint in hints if cell_len(hint) + 6 <= width), "")


class Composer(TextArea):
    COMPONENT_CLASSES = TextArea.COMPONENT_CLASSES | {"composer--blank"}
    DEFAULT_CSS = """
    Composer > .composer--blank {
        background: $warning 35%;
        text-style: bold underline;
    }
    """
    BINDINGS = [
        Binding("ctrl+j,alt+enter", "newline", N_("Newline"), id="composer.newline"),
        Binding("tab", "next_blank", N_("Next blank"), show=False, id="composer.next_blank"),
        Binding(
            "shift+tab",
            "previous_blank",
            N_("Previous blank"),
            show=False,
            id="composer.previous_blank",
        ),
        Binding("escape", "leave", N_("Leave"), id="composer.leave"),
        Binding("ctrl+n", "toggle_mode", N_("Reply/note"), id="composer.mode"),
        Binding("ctrl+k", "screen.knowledge", N_("Knowledge"), id="composer.knowledge"),
    ]

    mode: reactive[str] = reactive("reply")
    sending: reactive[bool] = reactive(False)

    class Submitted(Message):
        def __init__(self, composer: Composer, text: str, mode: str) -> None:
            super().__init__()
            self.composer = composer
            self.text = text
            self.mode = mode

    class DraftChanged(Message):
        """The text settled for a moment: time to save the draft and check it."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class CheckWanted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Left(Message):
        pass

    class PhrasesWanted(Message):
        pass

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            "", soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs
        )
        self._draft_timer: Timer | None = None
        self._check_timer: Timer | None = None
        self._baseline = ""
        self._has_blanks = False
        self.conversation_id: int | None = None

    def on_mount(self) -> None:
        self._update_title()

    def load(self, conversation_id: int | None, text: str) -> None:
        """Show a conversation's saved draft without treating it as typing.

        A stored draft is untrusted like everything stored: a control character in it would
        reach the agent's terminal when drawn, and the customer when sent.
        """
        text = for_composer(text)
        self.conversation_id = conversation_id
        self._cancel_timers()
        self._baseline = text
        self.text = text
        self.move_cursor(self.document.end)
        self.sending = False
        self.post_message(self.CheckWanted(text))

    def sent(self) -> None:
        """The message is stored: clear the composer (its draft is gone from the store too).

        A note is a one-off aside: the next thing typed is a reply again, so a reply meant for
        the customer is never filed as a note by a mode left over from the last message.
        """
        self.sending = False
        self.mode = "reply"
        self._cancel_timers()
        self._baseline = ""
        self.clear()
        self.post_message(self.CheckWanted(""))

    def insert_text(self, text: str) -> None:
        """Insert a phrase or an answer at the cursor (over the selection, if any) and take
        focus, the cursor after it: the next phrase chosen goes on from there."""
        start, end = self.selection
        result = self.replace(for_composer(text), start, end, maintain_selection_offset=False)
        self.move_cursor(result.end_location)
        self.focus()

    # -- blanks ----------------------------------------------------------------------------

    def get_line(self, line_index: int) -> Text:
        """The line as TextArea draws it, with its blanks highlighted (TextArea's documented
        hook for extra styling; a blank never spans lines)."""
        line = super().get_line(line_index)
        spans = blank_spans(line.plain)
        if spans:
            style = self.get_component_rich_style("composer--blank", partial=True)
            for start, end in spans:
                line.stylize(style, start, end)
        return line

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Tab is the blank jump only while a blank is left; otherwise it falls through to
        the app's focus keys and leaves the composer."""
        if action in ("next_blank", "previous_blank"):
            return not self.read_only and bool(blank_spans(self.text))
        return super().check_action(action, parameters)

    def action_next_blank(self) -> None:
        self._select_blank(next_blank(self.text, self._selection_offsets()))

    def action_previous_blank(self) -> None:
        self._select_blank(previous_blank(self.text, self._selection_offsets()))

    @property
    def _text_document(self) -> Document:
        document = self.document
        assert isinstance(document, Document), "a TextArea's document is always a Document"
        return document

    def _selection_offsets(self) -> Span:
        document = self._text_document
        start, end = self.selection
        return document.get_index_from_location(start), document.get_index_from_location(end)

    def _select_blank(self, span: Span | None) -> None:
        if span is None:
            return
        document = self._text_document
        self.selection = Selection(
            document.get_location_from_index(span[0]), document.get_location_from_index(span[1])
        )

    async def on_paste(self, event: events.Paste) -> None:
        """Pasted text arrives from anywhere (a web page, another customer's message): it goes
        in without escape sequences or control characters, as a phrase does."""
        event.stop()
        event.prevent_default()  # TextArea's own handler would insert it as it came
        if not self.read_only:
            start, end = self.selection
            result = self.replace(for_composer(event.text), start, end)
            self.move_cursor(result.end_location)
            self.focus()

    async def on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            if self.sending:
                return
            text = self.text
            if text.strip():
                # A draft save still waiting must not land after the send (it would resurrect
                # the sent text as a draft); if the send fails the text is still here anyway.
                self._cancel_timers()
                self._baseline = text
                self.post_message(self.Submitted(self, text, self.mode))
        elif event.key == "slash" and not self.text:
            event.stop()
            event.prevent_default()
            self.post_message(self.PhrasesWanted())

    def action_newline(self) -> None:
        start, end = self.selection
        self.replace("\n", start, end, maintain_selection_offset=False)

    def action_leave(self) -> None:
        self.post_message(self.Left())

    def action_toggle_mode(self) -> None:
        self.mode = "note" if self.mode == "reply" else "reply"

    def watch_mode(self) -> None:
        self.set_class(self.mode == "note", "-note")
        self._update_title()

    def watch_sending(self) -> None:
        self.read_only = self.sending
        self._update_title()

    def _update_title(self) -> None:
        if self.sending:
            self.border_title = _("Sending…")
        elif self.mode == "note":
            self.border_title = _("Private note (team only)")
        else:
            self.border_title = _("Reply")
        self.border_subtitle = fitting_hint(self.outer_size.width, self._has_blanks)

    def on_resize(self) -> None:
        self._update_title()

    def _follow_blanks(self) -> None:
        """Swap the hint when the first blank arrives or the last one is filled (every change
        of the text comes through here: typing, a loaded draft, the clear after sending)."""
        blanks = bool(blank_spans(self.text))
        if blanks != self._has_blanks:
            self._has_blanks = blanks
            self._update_title()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._follow_blanks()
        if self.text == self._baseline and self._draft_timer is None:
            return
        self._cancel_timers()
        self._draft_timer = self.set_timer(DRAFT_DEBOUNCE_S, self._emit_draft)
        self._check_timer = self.set_timer(CHECK_DEBOUNCE_S, self._emit_check)

    def _cancel_timers(self) -> None:
        for timer in (self._draft_timer, self._check_timer):
            if timer is not None:
                timer.stop()
        self._draft_timer = self._check_timer = None

    def _emit_draft(self) -> None:
        self._draft_timer = None
        self._baseline = self.text
        self.post_message(self.DraftChanged(self.text))

    def _emit_check(self) -> None:
        self._check_timer = None
        self.post_message(self.CheckWanted(self.text))

    def flush_draft(self) -> str | None:
        """The unsaved text if a draft save is still waiting (switching conversation, quitting)."""
        if self._draft_timer is None:
            return None
        self._draft_timer.stop()
        self._draft_timer = None
        self._baseline = self.text
        return self.text
