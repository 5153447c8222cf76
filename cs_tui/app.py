"""CsApp: the agent's workstation application.

Thin on purpose: it holds the store, the agent, the clock and the settings, installs the
workstation screen, and owns the few global keys (quit, help, command palette, language).
Nothing slow happens in __init__; the store was opened by the caller and every read after that
runs in a screen's worker.

What every cs-tui app shares (store, agent, clock, settings, language, key map, literal toasts,
crash reports) lives in `cs_tui.app_base.CsAppBase`.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from typing import TYPE_CHECKING, TypedDict

from textual import work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen

from cs_tui.app_base import AppOptions, CsAppBase
from cs_tui.clock import Clock, SystemClock
from cs_tui.config import Settings
from cs_tui.data.views import AgentInfo
from cs_tui.i18n import N_, _, set_language

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from cs_tui.data.opening import OpeningStore
    from cs_tui.data.store import Store
    from cs_tui.widgets.side_sources import KnowledgeSource


class WorkstationOptions(TypedDict):
    lang: str
    locked: bool
    settings: Settings | None
    open_id: int | None
    live: bool
    knowledge: KnowledgeSource


class CsAppOptions(AppOptions, total=False):
    locked: bool
    """A kiosk (SSH) login: no shell, no theme changes (default False)."""


STARTUP_COLLECTOR_PAUSE_S = 3.0
"""The longest the garbage collector stays paused at start, if no first frame is reported."""


class CsApp(CsAppBase):
    _first_frame_frozen = False
    """Whether a workstation in this process has frozen its first frame's objects."""

    TITLE = "cs-tui"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("ctrl+q", "quit", N_("Quit"), priority=True, id="app.quit"),
        Binding("f1,question_mark", "help", N_("Help"), id="app.help"),
        Binding("f9", "switch_language", N_("中文/English"), show=False, id="app.language"),
        Binding("f7", "dashboard", N_("Dashboard"), id="app.dashboard"),
        # The same key for everyone else, never shown: it says why there is no dashboard
        # instead of doing nothing (check_action lets exactly one of the two run).
        Binding("f7", "dashboard_refused", "", show=False, id="app.dashboard"),
    ]

    def __init__(
        self,
        store: Store,
        agent: AgentInfo,
        clock: Clock | None = None,
        *,
        locked: bool = False,
        **options: Unpack[AppOptions],
    ) -> None:
        self.locked = locked
        self._collector_paused = False
        self._opening_watched = False
        super().__init__(store, agent, clock or SystemClock(), **options)

    def on_load(self) -> None:
        # Until the first queue rows are drawn, nearly every object made is one that stays
        # (screens, widgets, styles, rows): the collector's passes found almost nothing and
        # took about a twentieth of the time from here to that frame. The workstation calls
        # first_frame_shown(); the timer and on_unmount make sure it is never left off.
        if gc.isenabled():
            gc.disable()
            self._collector_paused = True
        # Whatever becomes of the first frame, the collector and a store still opening are
        # not left waiting for it.
        self.set_timer(STARTUP_COLLECTOR_PAUSE_S, self.first_frame_shown)

    def first_frame_shown(self) -> None:
        """The workstation's first rows are on screen: the garbage collector runs again, and
        a store that is still opening (`cs_tui.data.opening`) opens now."""
        self._collector_back_on()
        self._finish_opening()

    def _collector_back_on(self) -> None:
        if self._collector_paused:
            self._collector_paused = False
            if not CsApp._first_frame_frozen:
                # What the first frame made (screens, widgets, styles) stays for the whole
                # run: frozen, the collections that follow (the side panel, the phrase index)
                # do not walk it again and again; frozen before the collector is back on, or
                # its first pass walks all of it at once. Once a process: a frozen object is
                # never freed, so a process that starts app after app (the tests) must not
                # freeze the garbage of the previous ones.
                CsApp._first_frame_frozen = True
                gc.freeze()
            gc.enable()

    def on_unmount(self) -> None:
        # An app that ends before its first frame still opens a store that was opening:
        # workers may be waiting for it, and what was typed is saved as a draft.
        self.first_frame_shown()

    def _finish_opening(self) -> None:
        from cs_tui.data.opening import OpeningStore

        if isinstance(self.store, OpeningStore) and not self._opening_watched:
            self._opening_watched = True
            self.store.start()
            self._wait_for_store(self.store)

    @work(thread=True, group="open-store", exit_on_error=False)
    def _wait_for_store(self, store: OpeningStore) -> None:
        """A store that cannot be opened after all ends the app: the command then says why
        (`app_cmd`), as it would have before the app started."""
        try:
            store.opened()
        except BaseException:  # noqa: BLE001 - reported by the command once the app has ended
            self.call_from_thread(self.exit, None, 1)

    def on_mount(self) -> None:
        self.apply_keymap()
        self.push_screen(self._workstation())

    def _workstation(self, open_id: int | None = None) -> Screen:
        from cs_tui.screens.workstation import WorkstationScreen

        return WorkstationScreen(
            self.store, self.agent, self.clock, **self.workstation_options(open_id)
        )

    def workstation_options(self, open_id: int | None) -> WorkstationOptions:
        """What this app's workstation screen is built with (the role-play one's too)."""
        return WorkstationOptions(
            lang=self.lang,
            locked=self.locked,
            settings=self.settings,
            open_id=open_id,
            live=self.live,
            knowledge=self.knowledge,
        )

    # -- global actions ------------------------------------------------------------------

    def action_help(self) -> None:
        from cs_tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.help_sections(), self.keymap))

    def help_sections(self) -> list[tuple[str, list[Binding]]]:
        from cs_tui.screens.modal import CsModal
        from cs_tui.screens.workstation import WorkstationScreen
        from cs_tui.widgets.composer import Composer
        from cs_tui.widgets.kb_preview import ArticlePreview
        from cs_tui.widgets.queue_list import QueueList
        from cs_tui.widgets.side_panel import TagList

        def bindings(cls: type[DOMNode]) -> list[Binding]:
            return [b for b in cls.BINDINGS if isinstance(b, Binding)]

        sections = [
            (_("Queue"), bindings(QueueList)),
            (_("Conversation actions"), bindings(WorkstationScreen)),
            (_("Composer"), bindings(Composer)),
            (_("Side panel: customer tags"), bindings(TagList)),
            (_("Side panel: knowledge article"), bindings(ArticlePreview)),
            (_("Everywhere"), bindings(CsApp) + bindings(CsModal)),
        ]
        focused = self.screen.focused if self.screen else None
        if isinstance(focused, Composer):
            sections.insert(0, sections.pop(2))
        elif isinstance(focused, ArticlePreview):
            sections.insert(0, sections.pop(4))
        return sections

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The dashboard key shows (and works) only for supervisors; for anyone else F7
        reaches dashboard_refused, which answers with the reason."""
        if action == "dashboard":
            return self.agent.is_supervisor
        if action == "dashboard_refused":
            return not self.agent.is_supervisor
        return True

    def action_dashboard_refused(self) -> None:
        self.notify(_("The dashboard is for supervisors."), severity="warning")

    def action_dashboard(self) -> None:
        """The supervisors' view of the shift: breaches, agents, KPIs, early warnings."""
        from cs_tui.metrics import WarningConfigError, warning_config
        from cs_tui.screens.dashboard import DashboardScreen

        if not self.agent.is_supervisor:
            self.notify(_("The dashboard is for supervisors."), severity="warning")
            return
        if isinstance(self.screen, DashboardScreen):
            return
        try:
            settings = self.settings or Settings()
            warnings = warning_config(settings.warnings, settings.source)
        except WarningConfigError as exc:
            self.notify(str(exc), severity="error", markup=False)
            warnings = None

        def opened(conversation_id: int | None) -> None:
            if conversation_id is not None and hasattr(self.screen, "open_conversation"):
                self.screen.open_conversation(conversation_id)

        self.push_screen(
            DashboardScreen(self.store, self.agent, self.clock, warnings=warnings), opened
        )

    def action_switch_language(self) -> None:
        """Switch 中文/English; the workstation is rebuilt with the same conversation open."""
        self.set_language("en" if self.lang == "zh" else "zh")

    def set_language(self, lang: str) -> None:
        from cs_tui.screens.workstation import WorkstationScreen

        self.lang = lang
        set_language(lang)
        screen = self.screen
        open_id = None
        if isinstance(screen, WorkstationScreen) and screen.detail is not None:
            open_id = screen.detail.row.id
        self.switch_screen(self._workstation(open_id))

    def action_find_conversation(self) -> None:
        from cs_tui.screens.find import find_palette

        self.push_screen(find_palette())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from cs_tui.screens.workstation import WorkstationScreen

        if isinstance(screen, WorkstationScreen):
            yield SystemCommand(
                _("Find conversation"),
                _("By id, order number, customer name or handle, or words of a message"),
                self.action_find_conversation,
            )
            for title, key, action in screen.palette_commands():
                yield SystemCommand(
                    title,
                    _("Key: {key}").format(key=key) if key else _("From the palette"),
                    lambda action=action, screen=screen: screen.run_action(action),
                )
        if self.agent.is_supervisor:
            yield SystemCommand(
                _("Dashboard"), _("Breaches, agents and KPIs (F7)"), self.action_dashboard
            )
        yield SystemCommand(_("Help"), _("Every key of the workstation"), self.action_help)
        yield SystemCommand(
            _("Switch language 中文/English"), _("Interface language"), self.action_switch_language
        )
        if not self.locked:
            yield SystemCommand(_("Theme"), _("Change the colours"), self.action_change_theme)
        yield SystemCommand(_("Quit"), _("Leave the workstation"), self.action_quit)

    def action_suspend_process(self) -> None:
        """No shell is ever started from the workstation (SSH kiosk logins depend on it)."""
        if not self.locked:
            super().action_suspend_process()


def make_app(
    store: Store,
    agent_handle: str = "alice",
    *,
    clock: Clock | None = None,
    lang: str = "en",
    locked: bool = False,
    settings: Settings | None = None,
    live: bool = True,
) -> CsApp:
    """The app for tests and benchmarks: an open store, an agent handle, a clock, a language."""
    agent = store.get_agent(agent_handle) or store.ensure_agent(agent_handle)
    return CsApp(
        store, agent, clock or store.clock, lang=lang, settings=settings, locked=locked, live=live
    )
