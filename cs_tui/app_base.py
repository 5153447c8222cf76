"""CsAppBase: what every cs-tui application shares.

The workstation (`CsApp`), the trainee's role-play workstation and the trainer's console are
all one kind of app: they hold an open store, the acting agent, a clock, the settings and the
interface language, apply the configured key map, and follow the two rules about what reaches
the terminal: toasts are never markup and never carry control characters (their text often
quotes stored values), and a crash ends in a report file and one line, never in a traceback
full of locals. Keeping these in one base means a new app cannot forget one of them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from textual.app import App
from textual.notifications import SeverityLevel

from cs_tui.clock import Clock
from cs_tui.config import Settings
from cs_tui.data.views import AgentInfo
from cs_tui.i18n import _, set_language
from cs_tui.safe_text import clean
from cs_tui.widgets import styles_cache_fix, wide_cells
from cs_tui.widgets.side_sources import KnowledgeSource

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from cs_tui.data.store import Store

NOTIFY_LIMIT = 1000
"""Characters of a toast; the rest of a long error or quote is cut."""


class AppOptions(TypedDict, total=False):
    """What every app takes besides its store, agent and clock (and, for role-play, its
    session and scenario): one list, so the subclasses do not repeat the signature."""

    lang: str
    """The interface language (default "en")."""
    settings: Settings | None
    live: bool
    """Follow the store's events (default True)."""


class CsAppBase(App):
    """An app over one store for one agent, whose toasts and crashes never put stored text
    on the terminal raw."""

    crash_report: Path | None = None
    """The report written for the crash that ended this app, if one did."""
    crash_line: str | None = None

    def __init__(
        self,
        store: Store,
        agent: AgentInfo,
        clock: Clock | None = None,
        **options: Unpack[AppOptions],
    ) -> None:
        settings = options.get("settings")
        self.store = store
        self.agent = agent
        self.clock = clock or store.clock
        self.lang = lang = options.get("lang", "en")
        self.settings = settings
        self.live = options.get("live", True)
        self.keymap: dict[str, str] = dict(settings.keymap) if settings else {}
        self.knowledge = KnowledgeSource(store)
        """The knowledge index, once per app: built by the first search, kept across screens."""
        set_language(lang)
        wide_cells.install()  # no Chinese character cut in half at a toast's or a panel's edge
        styles_cache_fix.install()  # removed widgets' drawn lines are let go
        super().__init__()

    def apply_keymap(self) -> None:
        """The configured key map, once the app runs (Textual refuses it before)."""
        if self.keymap:
            self.set_keymap(self.keymap)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast is literal text: most quote an id, a handle or an error from the store.

        No caller relies on markup here, so it is never interpreted (a `[/]` in an external id
        would otherwise crash the app), and control characters are made visible.
        """
        del markup
        message = clean(str(message))
        if len(message) > NOTIFY_LIMIT:
            message = message[: NOTIFY_LIMIT - 1] + "…"
        super().notify(
            message,
            title=clean(str(title), single_line=True),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def action_command_palette(self) -> None:
        """Textual's palette, with its search field's hint in the interface language."""
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(
                CommandPalette(id="--command-palette", placeholder=_("Search for commands…"))
            )

    def search_themes(self) -> None:
        """Textual's theme picker (the palette's Theme command), its hint translated."""
        from textual.command import CommandPalette
        from textual.theme import ThemeProvider

        self.push_screen(
            CommandPalette(providers=[ThemeProvider], placeholder=_("Search for themes…"))
        )

    def action_help_quit(self) -> None:
        """ctrl+c (a reflex to quit) says which key quits, in the interface language; Textual's
        own toast is English and uses markup, which toasts here never interpret."""
        for active in self.active_bindings.values():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(
                    _("Press {key} to quit.").format(key=self.get_key_display(active.binding)),
                    title=_("Do you want to quit?"),
                )
                return

    def _handle_exception(self, error: Exception) -> None:
        """An unexpected exception: a report file without locals, then a calm exit.

        Textual's own handler renders a traceback with the local variables of every frame,
        which hold customer text. The first error is reported; later ones are its echoes. The
        bookkeeping is Textual's (return code 1, and run_test re-raises the first error).
        """
        from textual.css.stylesheet import StylesheetErrors

        if isinstance(error, StylesheetErrors):
            super()._handle_exception(error)  # our own .tcss files, never customer data
            return
        self._return_code = 1
        if self._exception is None:
            self._exception = error
            self._exception_event.set()
            self._report_crash(error)
        self._close_messages_no_wait()

    def _report_crash(self, error: BaseException) -> None:
        from cs_tui import crash

        try:
            self.crash_report = crash.write_report(error, where=type(self).__name__)
        except OSError as exc:
            self.crash_line = crash.one_line(error, None, crash.describe_os_error(exc))
        else:
            self.crash_line = crash.one_line(error, self.crash_report)

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Run, then say in one line on stderr where the crash report is, if there was one.

        The line is printed here, after Textual has given the terminal back, so it is seen
        instead of being drawn into the application screen that is about to vanish.
        """
        try:
            return super().run(*args, **kwargs)
        finally:
            if self.crash_line:
                print(self.crash_line, file=sys.stderr, flush=True)
