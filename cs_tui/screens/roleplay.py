"""Role-play on screen: the trainee's workstation, the trainer's console, and the scorecard.

- ``TraineeApp`` is the normal workstation (``CsApp``) showing the one training conversation. In
  a solo session the scripted customer runs on the app's clock: once a second a worker asks the
  engine what is due and posts it through the store. F8 ends the session and shows the scorecard;
  so does the time limit, and, in a live session, the trainer ending it.
- ``TrainerApp`` is the trainer's console for a live session: the transcript as it arrives (the
  store's change watcher, polled in a worker), a line to type as the customer, the rubric filling
  in, and the scripted turns with their state; keys 1-9 say a turn, F2 lets the script run by
  itself, F8 ends the session.
- ``ScorecardScreen`` shows a scorecard (the dict a session stores) to both.

Customer and trainee text reaches the screen only through ``cs_tui.safe_text``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from cs_tui.app import CsApp, CsAppOptions
from cs_tui.app_base import AppOptions, CsAppBase
from cs_tui.clock import Clock
from cs_tui.data.errors import StoreError
from cs_tui.data.training_store import TrainingSessionView, turn_of
from cs_tui.data.views import AgentInfo, ConversationDetail, EventView, QueueFilter
from cs_tui.durations import format_countdown
from cs_tui.i18n import N_, _
from cs_tui.roleplay import (
    Rubric,
    Scenario,
    Turn,
    due_turn,
    lines_from_messages,
    play,
    score,
    time_left,
    turn_states,
)
from cs_tui.roleplay.scenario import Pattern
from cs_tui.safe_text import one_line, safe
from cs_tui.screens.workstation import WorkstationScreen
from cs_tui.widgets.footer import CsFooter
from cs_tui.widgets.live import LivePoller
from cs_tui.widgets.message_view import Transcript
from cs_tui.widgets.roleplay_panels import (
    BriefPanel,
    RolePlayBar,
    RubricPanel,
    cut,
    rubric_label,
)
from cs_tui.widgets.store_messages import store_message

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from cs_tui.data.store import Store

MARKS = {True: ("✓", "green"), False: ("✗", "red"), None: ("–", "dim")}
EMOTION_WORDS = {
    "angry": N_("angry"),
    "anxious": N_("anxious"),
    "satisfied": N_("satisfied"),
    "neutral": N_("calm"),
}


def _finished_in(events: Iterable[EventView], conversation_id: int | None) -> bool:
    return any(
        e.kind == "training_finished" and e.conversation_id == conversation_id for e in events
    )


# -- the scorecard ----------------------------------------------------------------------------


def render_card(card: dict, lang: str) -> Text:
    """A stored scorecard as text: total, each item with its mark, evidence, response times."""
    out = Text()
    title = card.get("title") or card.get("scenario") or ""
    out.append_text(safe(cut(title, 80), single_line=True, style="bold"))
    out.append("\n")
    percent = card.get("percent", 0)
    out.append(
        _("Total {total} / {max}  ({percent} %)").format(
            total=f"{card.get('total', 0):g}", max=f"{card.get('max', 0):g}", percent=f"{percent:g}"
        ),
        style="bold green" if percent >= 80 else "bold yellow" if percent >= 60 else "bold red",
    )
    rate = card.get("compliant_rate")
    if rate is not None:
        out.append("   " + _("Compliant language {rate} %").format(rate=f"{rate * 100:.0f}"))
    out.append("\n\n")
    width = 1 + max(
        (cell_len(rubric_label(i["criterion"], lang)) for i in card.get("items", [])), default=0
    )
    for item in card.get("items", []):
        applicable = item.get("applicable", True)
        mark, style = MARKS[item.get("passed") if applicable else None]
        out.append(f" {mark} ", style=f"bold {style}")
        label = rubric_label(item["criterion"], lang)
        out.append(label + " " * (width - cell_len(label)))
        if applicable:
            out.append(f" {item.get('points', 0):>4g}/{item.get('max', 0):<3g}")
        else:
            out.append("    –    ", style="dim")
        if item.get("note"):
            out.append("  ")
            out.append_text(safe(cut(item["note"], 70), single_line=True, style="dim"))
        out.append("\n")
        for ev in item.get("evidence", [])[:4]:
            out.append("      ")
            if ev.get("message") is not None:
                out.append(f"#{ev['message'] + 1} ", style="dim")
            note = ""
            if ev.get("note") and ev.get("note") != item.get("note"):
                note = cut(ev["note"], 60)
            if ev.get("text"):  # shortened so that the note fits on the line at 80 columns
                room = max(20, 60 - cell_len(note)) if note else 60
                out.append_text(safe(cut(f"“{ev['text']}”", room), single_line=True))
            if note:
                out.append("  ")
                out.append_text(safe(note, single_line=True, style="italic"))
            out.append("\n")
    times = card.get("response_times") or []
    if times:
        out.append("\n" + _("Response times") + ": ", style="bold")
        for t in times:
            good = t.get("in_time")
            waiting = "+" if not t.get("answered", True) else ""  # still unanswered at the end
            out.append(
                f"{t['seconds']:g}s{waiting}/{t['target_s']:g}s ",
                style="green" if good else "bold red",
            )
    return out


class ScorecardScreen(Screen[None]):
    """The end of a session: the scorecard, then back to the shell (or the trainer's console)."""

    CSS_PATH = "roleplay.tcss"
    BINDINGS = [
        Binding("escape,q,enter", "close", N_("Close"), id="rp.card.close"),
    ]

    def __init__(self, card: dict, lang: str) -> None:
        super().__init__()
        self.card = card
        self.lang = lang

    def compose(self) -> ComposeResult:
        with Vertical(id="card-box"):
            yield Static(Text(_("Role-play scorecard"), style="bold"), id="card-title")
            with VerticalScroll(id="card-scroll"):
                yield Static(render_card(self.card, self.lang), id="card-body")
            yield Static(
                Text(_("`cs-tui roleplay report {id}` exports it").format(id=self._session())),
                id="card-hint",
            )
        yield CsFooter()

    def _session(self) -> str:
        return str((self.card.get("info") or {}).get("session", "?"))

    def action_close(self) -> None:
        self.dismiss(None)


# -- messages from workers --------------------------------------------------------------------


@dataclass
class ScriptTicked(Message):
    result: play.TickResult


@dataclass
class SessionEnded(Message):
    card: dict


@dataclass
class TranscriptLoaded(Message):
    detail: ConversationDetail
    finished: bool
    session: TrainingSessionView | None = None


@dataclass
class RolePlayFailed(Message):
    text: str


# -- ending a session (both sides) ------------------------------------------------------------


class SessionScreen(Screen[None]):
    """What the trainee's workstation and the trainer's console do alike at the end: score the
    session in a thread, then show the scorecard and close the app when it is closed; a store
    refusal is told, and the session goes on (it can be ended again)."""

    store: Store
    session: TrainingSessionView
    scenario: Scenario
    lang: str
    ended = False
    """The session has ended here or elsewhere, or its ending is under way."""

    def action_toggle_brief(self) -> None:
        """F1: hide the brief, or show it again."""
        for panel in self.query(BriefPanel):
            panel.display = not panel.display

    def end_session(self, actor: AgentInfo) -> None:
        if not self.ended:
            self.ended = True
            self._end_worker(actor)

    @work(thread=True, group="rp-end", exit_on_error=False)
    def _end_worker(self, actor: AgentInfo) -> None:
        try:
            _view, card = play.finish(self.store, self.session, self.scenario, actor=actor)
        except StoreError as exc:
            self.ended = False
            self.post_message(RolePlayFailed(store_message(exc)))
            return
        self.post_message(SessionEnded(card))

    @on(SessionEnded)
    def _session_ended(self, message: SessionEnded) -> None:
        self.app.push_screen(ScorecardScreen(message.card, self.lang), lambda _r: self.app.exit())

    @on(RolePlayFailed)
    def _failed(self, message: RolePlayFailed) -> None:
        self.notify(message.text, severity="error", markup=False, timeout=8)


# -- the trainee's side -----------------------------------------------------------------------


class RolePlayWorkstation(WorkstationScreen, SessionScreen):
    """The workstation showing only the session's training conversation."""

    CSS_PATH = ["workstation.tcss", "roleplay.tcss"]
    BINDINGS = [
        Binding("f8", "end_roleplay", N_("End role-play"), id="rp.end"),
        Binding("f1", "toggle_brief", N_("Brief"), id="rp.brief"),
    ]

    def __init__(
        self,
        store: Store,
        agent: AgentInfo,
        clock: Clock,
        *,
        session: TrainingSessionView,
        scenario: Scenario,
        **kwargs: Any,
    ) -> None:
        super().__init__(store, agent, clock, **kwargs)
        self.session = session
        self.scenario = scenario
        self.scripted = session.mode == "solo"
        self.filter = QueueFilter(scope="mine", training=True)
        self._rp_ticking = False
        self._rp_told_done = False

    def compose(self) -> ComposeResult:
        yield RolePlayBar(self.scenario, self.session, self.clock, id="rp-bar")
        if self.scenario.brief:
            yield BriefPanel(self.scenario.brief, id="rp-brief")
        yield from super().compose()

    def on_mount(self) -> None:
        # WorkstationScreen.on_mount runs as well (Textual calls each class's handler).
        self.set_interval(1.0, self.roleplay_tick, name="roleplay")

    def roleplay_tick(self) -> None:
        """Once a second on the app clock: the bar, and in solo mode the scripted customer."""
        self.query_one(RolePlayBar).refresh()
        if self.ended or self._rp_ticking:
            return
        if not self.scripted:
            return
        self._rp_ticking = True
        self._rp_tick_worker()

    @work(thread=True, group="roleplay-tick", exit_on_error=False)
    def _rp_tick_worker(self) -> None:
        try:
            result = play.tick(self.store, self.session, self.scenario)
        finally:
            self._rp_ticking = False
        self.post_message(ScriptTicked(result))

    @on(ScriptTicked)
    def _rp_script_ticked(self, message: ScriptTicked) -> None:
        result = message.result
        if result.said:
            self.reload_queue()
            self.refresh_open()
        if result.expired and not self.ended:
            self.notify(_("Time is up."), markup=False)
            self.action_end_roleplay()
        elif result.done and not self._rp_told_done:
            self._rp_told_done = True
            bar = self.query_one(RolePlayBar)
            bar.note = _("the customer is done")
            bar.refresh()
            self.notify(
                _("The customer has finished. Send your closing, then press F8 for the scorecard."),
                markup=False,
                timeout=8,
            )

    def action_end_roleplay(self) -> None:
        self.end_session(self.agent)

    @on(LivePoller.Changed)
    def _rp_changed(self, message: LivePoller.Changed) -> None:
        if not self.ended and _finished_in(message.events, self.session.conversation_id):
            self.check_session()

    def check_session(self) -> None:
        """Show the scorecard if the session was ended elsewhere (the trainer, the other app)."""
        self._rp_check_worker()

    @work(thread=True, group="roleplay-check", exit_on_error=False)
    def _rp_check_worker(self) -> None:
        current = self.store.session(self.session.id)
        if current.finished and not self.ended:
            self.ended = True
            self.post_message(SessionEnded(current.scorecard))


class TraineeApp(CsApp):
    """The trainee's workstation for one role-play session (solo or live)."""

    def __init__(
        self,
        store: Store,
        agent: AgentInfo,
        session: TrainingSessionView,
        scenario: Scenario,
        clock: Clock | None = None,
        **options: Unpack[CsAppOptions],
    ) -> None:
        self.session = session
        self.scenario = scenario
        super().__init__(store, agent, clock or store.clock, **options)
        self.title = f"cs-tui · {one_line(scenario.title, limit=80)}"

    def _workstation(self, open_id: int | None = None) -> Screen:
        return RolePlayWorkstation(
            self.store,
            self.agent,
            self.clock,
            session=self.session,
            scenario=self.scenario,
            **self.workstation_options(open_id or self.session.conversation_id),
        )


# -- the trainer's side -----------------------------------------------------------------------


STATE_WORDS = {
    "said": N_("said"),
    "ready": N_("due now"),
    "soon": N_("in {s}s"),
    "waiting": N_("waiting"),
    "blocked": N_("after {turn}"),
    "skipped": N_("no longer"),
    "done": N_("customer done"),
}


def _patterns(patterns: Iterable[Pattern]) -> str:
    return " | ".join(p.source if len(p.source) <= 24 else p.source[:23] + "…" for p in patterns)


def join_waiting(session: TrainingSessionView) -> str:
    """What the console says until the trainee joins: who, and the command they run."""
    return _("Waiting for {trainee}: they join with `cs-tui roleplay join {id}`").format(
        trainee=one_line(session.trainee, limit=64), id=session.id
    )


def describe_turn(turn: Turn) -> str:
    """When a scripted turn is said, in a line the trainer reads at a glance."""
    if turn.when == "silence":
        text = _("after {s}s unanswered").format(s=f"{turn.seconds:g}")
    else:
        parts = []
        if turn.contains:
            parts.append(_("reply has {p}").format(p=_patterns(turn.contains)))
        if turn.lacks:
            parts.append(_("reply lacks {p}").format(p=_patterns(turn.lacks)))
        text = "; ".join(parts) or _("after any reply")
    if turn.ends:
        text += " · " + _("ends")
    return text


class TrainerScreen(SessionScreen):
    CSS_PATH = "roleplay.tcss"
    AUTO_FOCUS = "#rp-say"
    BINDINGS = [
        Binding("f8", "end_session", N_("End and score"), id="rp.trainer.end"),
        Binding("f2", "toggle_auto", N_("Auto script"), id="rp.trainer.auto"),
        Binding("f3", "focus_turns", N_("Scripted turns"), id="rp.trainer.turns"),
        Binding("f4", "focus_say", N_("Type as customer"), show=False, id="rp.trainer.say"),
        Binding("f1", "toggle_brief", N_("Brief"), id="rp.trainer.brief"),
        *[
            Binding(str(n), f"say_turn('{n}')", N_("Say turn"), show=False, id=f"rp.turn{n}")
            for n in range(1, 10)
        ],
    ]

    def __init__(
        self,
        store: Store,
        trainer: AgentInfo,
        session: TrainingSessionView,
        scenario: Scenario,
        clock: Clock,
        *,
        lang: str,
        live: bool = True,
    ) -> None:
        super().__init__()
        self.store = store
        self.trainer = trainer
        self.session = session
        self.scenario = scenario
        self.clock = clock
        self.lang = lang
        self.live_enabled = live
        self.auto = False
        self.lines: list = []
        self.detail: ConversationDetail | None = None
        self._live: LivePoller | None = None
        self._busy_turn = False
        self._told_time_up = False
        self._state_key: tuple = ()

    def compose(self) -> ComposeResult:
        yield Static(self._head(), id="rp-head")
        if self.scenario.brief:
            yield BriefPanel(self.scenario.brief, id="rp-brief")
        with Horizontal(id="rp-panes"):
            with Vertical(id="rp-left"):
                yield Transcript(self.clock, id="rp-transcript")
                yield Input(placeholder=_("Type as the customer; Enter sends"), id="rp-say")
            with Vertical(id="rp-right"):
                yield RubricPanel(self.lang, id="rp-rubric")
                yield Static(Text(_("Scripted turns (1-9)"), style="bold"), id="rp-turns-title")
                yield OptionList(id="rp-turns")
        yield CsFooter()

    def _head(self) -> Text:
        s = self.scenario
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(_("Live role-play") + f" #{self.session.id}", style="bold")
        if self.joined:
            left = time_left(s, self.session.started_at, self.clock.now())
            text.append(
                f"  ⏱ {format_countdown(max(0.0, left))}", style="bold red" if left < 60 else ""
            )
        else:  # the clock starts when the trainee joins
            text.append(f"  ⏱ {format_countdown(s.time_limit_s)}  ", style="dim")
            text.append(_("waiting for the trainee"), style="bold yellow")
        if self.auto:
            text.append("  " + _("auto script on"), style="bold magenta")
        text.append("  " + _("trainee") + f": {one_line(self.session.trainee, limit=64)}  ")
        text.append(_("customer") + ": ")
        text.append_text(safe(cut(s.persona.name, 20), single_line=True, style="bold"))
        text.append(f" ({_(EMOTION_WORDS.get(s.persona.emotion, s.persona.emotion))}")
        text.append(", VIP)  " if s.persona.tier == "vip" else ")  ")
        text.append_text(safe(cut(s.title, 40), single_line=True))
        return text

    def on_mount(self) -> None:
        self.reload()
        self.set_interval(1.0, self.tick, name="rp-trainer-tick")
        if self.live_enabled:
            self._live = LivePoller(self, self.store)
            self._live.start()

    def on_unmount(self) -> None:
        if self._live is not None:
            self._live.stop()

    # -- reading ---------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the transcript again (after a change in the store)."""
        self._load_worker()

    @property
    def joined(self) -> bool:
        """The trainee has opened the session (the customer's opening is said on joining)."""
        return any(line.turn == "opening" for line in self.lines)

    @work(thread=True, exclusive=True, group="rp-load", exit_on_error=False)
    def _load_worker(self) -> None:
        conversation_id = play.session_conversation(self.session)
        detail = self.store.conversation(conversation_id, message_limit=5000)
        session = self.store.session(self.session.id)
        self.post_message(TranscriptLoaded(detail, session.finished, session))

    @on(TranscriptLoaded)
    def _loaded(self, message: TranscriptLoaded) -> None:
        self.detail = message.detail
        if message.session is not None:
            self.session = message.session  # joining moves its start
        self.lines = lines_from_messages(message.detail.messages, turn_of)
        for panel in self.query(BriefPanel):
            panel.waiting = "" if self.joined else join_waiting(self.session)
            panel.refresh(layout=True)
        self.query_one("#rp-head", Static).update(self._head())
        self.query_one(Transcript).show(message.detail)
        self.query_one(Transcript).scroll_end(animate=False)
        self._redraw()
        if message.finished and not self.ended:
            self.ended = True
            self._show_stored_card()

    @on(LivePoller.Changed)
    def _changed(self, message: LivePoller.Changed) -> None:
        if self.session.conversation_id in message.conversation_ids:
            self.reload()

    def tick(self) -> None:
        """Once a second: time left, turn countdowns, the rubric; in auto mode, the script."""
        self.query_one("#rp-head", Static).update(self._head())
        self._redraw()
        if self.ended or not self.joined:
            return
        now = self.clock.now()
        if not self._told_time_up and time_left(self.scenario, self.session.started_at, now) <= 0:
            self._told_time_up = True  # live: the trainer decides when to end and score
            self.notify(_("Time is up."), markup=False, timeout=10)
        if self.auto and self.lines and not self._busy_turn:
            turn = due_turn(self.scenario, self.lines, now)
            if turn is not None:
                self._say(turn.id, turn.say)

    def _redraw(self) -> None:
        now = self.clock.now()
        card = score(self.lines, Rubric.for_scenario(self.scenario), ended_at=now)
        self.query_one(RubricPanel).show(card)
        states = turn_states(self.scenario, self.lines, now)
        key = tuple((st.turn.id, st.state, int(st.due_in_s or 0)) for st in states)
        if key == self._state_key:
            return
        self._state_key = key
        turns = self.query_one("#rp-turns", OptionList)
        highlighted = turns.highlighted
        turns.clear_options()
        for st in states:
            line = Text(no_wrap=True, overflow="ellipsis")
            style = {
                "said": "dim",
                "skipped": "dim",
                "ready": "bold green",
                "soon": "yellow",
                "done": "dim",
            }.get(st.state, "")
            line.append(f"{st.turn.key} ", style="bold")
            word = _(STATE_WORDS[st.state]).format(
                s=f"{st.due_in_s or 0:.0f}", turn=st.turn.after or ""
            )
            line.append(f"[{word}] ", style=style)
            line.append_text(safe(cut(st.turn.say, 60), single_line=True))
            line.append("\n   ")
            line.append_text(safe(cut(describe_turn(st.turn), 40), single_line=True, style="dim"))
            turns.add_option(Option(line, id=st.turn.id))
        if highlighted is not None and states:
            turns.highlighted = min(highlighted, len(states) - 1)

    # -- speaking --------------------------------------------------------------------------

    @on(Input.Submitted, "#rp-say")
    def _typed(self, event: Input.Submitted) -> None:
        text = event.value
        if not text.strip() or self.ended:
            return
        if not self._tell_if_waiting():
            self._type_worker(text)

    @work(thread=True, group="rp-say", exit_on_error=False)
    def _type_worker(self, text: str) -> None:
        try:
            conversation_id = play.session_conversation(self.session)
            self.store.post_as_customer(self.trainer, conversation_id, text)
        except StoreError as exc:
            self.post_message(RolePlayFailed(store_message(exc)))
            return
        self.app.call_from_thread(self._typed_done)

    def _typed_done(self) -> None:
        self.query_one("#rp-say", Input).value = ""
        self.reload()

    def action_say_turn(self, key: str) -> None:
        turn = self.scenario.turn_by_key(key)
        if turn is None or self.ended or self._tell_if_waiting():
            return
        if any(line.turn == turn.id for line in self.lines):
            self.notify(_("Turn {key} was said already.").format(key=key), markup=False)
            return
        self._say(turn.id, turn.say)

    @on(OptionList.OptionSelected, "#rp-turns")
    def _turn_selected(self, event: OptionList.OptionSelected) -> None:
        turn = self.scenario.turn(event.option.id or "")
        if turn is not None:
            self.action_say_turn(turn.key)

    def _tell_if_waiting(self) -> bool:
        """Before the trainee joins, the customer says nothing (the opening comes first)."""
        if self.joined:
            return False
        self.notify(join_waiting(self.session), markup=False)
        return True

    def _say(self, turn_id: str, body: str) -> None:
        self._busy_turn = True
        self._turn_worker(turn_id, body)

    @work(thread=True, group="rp-turn", exit_on_error=False)
    def _turn_worker(self, turn_id: str, body: str) -> None:
        try:
            conversation_id = play.session_conversation(self.session)
            self.store.post_turn(conversation_id, turn_id, body, actor=self.trainer)
        except StoreError as exc:
            self.post_message(RolePlayFailed(store_message(exc)))
        finally:
            self._busy_turn = False
        self.app.call_from_thread(self.reload)

    def action_toggle_auto(self) -> None:
        self.auto = not self.auto
        self.query_one("#rp-head", Static).update(self._head())
        self.notify(
            _("The script now runs by itself.") if self.auto else _("You say every turn."),
            markup=False,
        )

    def action_focus_turns(self) -> None:
        self.query_one("#rp-turns", OptionList).focus()

    def action_focus_say(self) -> None:
        self.query_one("#rp-say", Input).focus()

    # -- ending ----------------------------------------------------------------------------

    def action_end_session(self) -> None:
        self.end_session(self.trainer)

    def _show_stored_card(self) -> None:
        self._stored_card_worker()

    @work(thread=True, group="rp-end", exit_on_error=False)
    def _stored_card_worker(self) -> None:
        self.post_message(SessionEnded(self.store.session(self.session.id).scorecard))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            text = (
                store_message(error)
                if isinstance(error, StoreError)
                else f"{type(error).__name__}: {error}"
            )
            self.notify(text, severity="error", markup=False, timeout=8)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Digits typed as the customer stay in the line.
        return not (action == "say_turn" and isinstance(self.focused, Input))


class TrainerApp(CsAppBase):
    """The trainer's console for one live session."""

    TITLE = "cs-tui · role-play"
    BINDINGS = [Binding("ctrl+q", "quit", N_("Quit"), priority=True, id="app.quit")]

    def __init__(
        self,
        store: Store,
        trainer: AgentInfo,
        session: TrainingSessionView,
        scenario: Scenario,
        clock: Clock | None = None,
        **options: Unpack[AppOptions],
    ) -> None:
        self.session = session
        self.scenario = scenario
        super().__init__(store, trainer, clock, **options)

    def on_mount(self) -> None:
        self.apply_keymap()
        self.push_screen(
            TrainerScreen(
                self.store,
                self.agent,
                self.session,
                self.scenario,
                self.clock,
                lang=self.lang,
                live=self.live,
            )
        )
