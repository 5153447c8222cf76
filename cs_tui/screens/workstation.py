"""The workstation: queue pane | conversation pane | side panel, all by keyboard.

State lives here (the filter, the open conversation) and flows down into the panes; the panes
post messages up. Every store call runs in a thread worker and posts its result back as a
message, so no handler waits on the database. Actions that fail (not allowed, already taken,
store away) end in one calm notification; a reply that fails stays in the composer to retry.

The target of every conversation action is the conversation open in the conversation pane; the
queue cursor only picks one while nothing is open. A flow that asks something (transfer to whom,
send anyway, resolve while the customer waits) is one `@dialog_flow` coroutine worker (the
"dialog" group) that reads top to bottom, awaiting each dialog with `push_screen_wait`; every
dialog names its target in its title. A key that cannot act says why; it never does nothing.

Width: from 120 columns the side panel is always shown; below that it is toggled (`b`, or
opened by `/` in an empty composer, ctrl+k, `i`) and takes the queue's place while open, so
nothing is ever cut off.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, CSSPathType
from textual.binding import ActiveBinding, Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static, TextArea
from textual.widgets.text_area import Document
from textual.worker import Worker, WorkerFailed, WorkerState

from cs_tui.data.errors import NotAllowed, StoreError
from cs_tui.data.opening import OpeningStore
from cs_tui.data.views import AgentInfo, ConversationDetail, MessageView, QueueFilter, QueueRow
from cs_tui.i18n import N_, _, _n
from cs_tui.safe_text import clean, safe
from cs_tui.screens.modal import DIALOG_GROUP, CsModal, target_label
from cs_tui.widgets import labels
from cs_tui.widgets.composer import Composer
from cs_tui.widgets.findings import FindingsBar
from cs_tui.widgets.footer import CsFooter
from cs_tui.widgets.handover import HandoverBanner
from cs_tui.widgets.live import LivePoller
from cs_tui.widgets.message_view import ConversationHeader, Transcript
from cs_tui.widgets.queue_empty import QueueEmpty
from cs_tui.widgets.queue_list import WINDOW, QueueList
from cs_tui.widgets.side_panel import SidePanel
from cs_tui.widgets.side_sources import (
    KnowledgeSource,
    PhraseSource,
    check_draft,
    customer_emotion,
    load_phrases,
)
from cs_tui.widgets.status_line import StatusLine
from cs_tui.widgets.store_messages import store_message

if TYPE_CHECKING:
    from cs_tui.clock import Clock
    from cs_tui.config import Settings
    from cs_tui.data.store import Store

WIDE_LAYOUT = 120
TEXT_DEBOUNCE_S = 0.25
ORDER_RE = re.compile(r"(?<!\d)(\d{10,20})(?!\d)")
T = TypeVar("T")


dialog_flow = work(exclusive=False, group=DIALOG_GROUP, exit_on_error=False)
"""A coroutine that awaits dialogs (`_ask`) becomes a flow started by a call, as a Textual
worker the screen's end cancels. Not exclusive: a flow may hold state until its dialog closes
(the send check's "asking" flag), and cancelling it before it runs would leave that set. Store
calls inside a flow run in thread workers of their own (`_fetch`, `_act`)."""


# Actions on a conversation, shown in the footer only when they apply and hidden while typing.
CONVERSATION_ACTIONS = {
    "claim",
    "reply",
    "note",
    "resolve",
    "reopen",
    "transfer",
    "escalate",
    "snooze",
    "tag",
    "category",
    "priority",
    "history",
    "full_message",
    "resend",
}
TYPING_HIDDEN = CONVERSATION_ACTIONS | {
    "take_next",
    "filter_text",
    "filter",
    "scope",
    "clear_filters",
    "toggle_side",
    "customer_tab",
}


def short_location(store: Store) -> str:
    """The store as the status line shows it: an SQLite file's name, or the server URL."""
    location = store.location
    if "://" not in location and "/" in location:
        return location.rsplit("/", 1)[-1]
    return location


def content_language(texts: list[str], default: str) -> str:
    """The language the customer writes in (replies and phrases follow it), else `default`."""
    if not texts:
        return default
    from cs_tui.compliance import detect_lang

    return detect_lang(" ".join(texts))


def unanswered_for(detail: ConversationDetail, now: datetime) -> float | None:
    """Seconds the customer has waited on their last message, None when it was answered (or
    they never wrote). Notes and system lines answer nobody."""
    facts = detail.facts
    if facts is not None:
        last_in, last_out = facts.last_customer_at, facts.last_agent_at
    else:
        seen = [m for m in detail.messages if m.author_kind in ("customer", "agent")]
        last_in = next((m.sent_at for m in reversed(seen) if m.author_kind == "customer"), None)
        last_out = next((m.sent_at for m in reversed(seen) if m.author_kind == "agent"), None)
    if last_in is None or (last_out is not None and last_out >= last_in):
        return None
    return max(0.0, (now - last_in).total_seconds())


def findings_body(findings: list) -> Text:
    """The findings as the send dialog lists them: the words, why, and what to say instead."""
    body = Text()
    for finding in findings[:5]:
        body.append("! ", style="bold yellow")
        body.append_text(safe(finding.phrase, single_line=True, limit=40, style="bold"))
        if finding.why:
            body.append(" — ")
            body.append_text(safe(finding.why, single_line=True, limit=60))
        if finding.suggestion:
            body.append(" → ", style="green")
            body.append_text(safe(finding.suggestion, single_line=True, limit=80, style="green"))
        body.append("\n")
    if len(findings) > 5:
        body.append(_("… and {count} more").format(count=len(findings) - 5), style="dim")
    body.rstrip()
    return body


def _binding_state(row: QueueRow | None) -> tuple:
    """What of a row decides which actions the footer offers."""
    if row is None:
        return ()
    return (row.assignee is None, row.status in ("resolved", "closed"), row.undelivered)


# -- messages from workers -------------------------------------------------------------------


@dataclass
class QueueWindow(Message):
    generation: int
    offset: int
    rows: list[QueueRow]
    total: int | None


def _window_message(generation: int, offset: int, rows: list[QueueRow]) -> QueueWindow:
    """A window read from the top that is not full is the whole queue: its total is known."""
    total = len(rows) if offset == 0 and len(rows) < WINDOW else None
    return QueueWindow(generation, offset, rows, total)


@dataclass
class QueueTotal(Message):
    generation: int
    total: int


@dataclass
class RowsRefreshed(Message):
    rows: list[QueueRow]


@dataclass
class ConversationLoaded(Message):
    detail: ConversationDetail
    draft: str | None
    emotion: str | None
    history: list[QueueRow]
    focus_composer: bool
    content_lang: str
    customer_lang: str | None


@dataclass
class ActionDone(Message):
    conversation_id: int | None
    text: str
    open_after: bool = False
    focus_composer: bool = False
    follow: str = "keep"
    """Where the queue cursor goes: "keep" stays on its row, "onto" moves onto this
    conversation, "settle" moves onto it if it is still listed and otherwise clears the pane."""


@dataclass
class ActionFailed(Message):
    text: str


@dataclass
class Notice(Message):
    """A key that found nothing to do, and why; or news the agent must not miss (a warning,
    not an error)."""

    text: str
    timeout: float = 5


@dataclass
class Sent(Message):
    conversation_id: int
    message: MessageView


@dataclass
class SendFailed(Message):
    conversation_id: int
    text: str


@dataclass
class Unclaimed(Message):
    """A reply the store refused because nobody has claimed the conversation yet."""

    row: QueueRow
    text: str


@dataclass
class NotYours(Message):
    """A reply the store refused (or a claim that lost) because another agent has it."""

    row: QueueRow
    holder: str
    lost_race: bool = False


@dataclass
class PhrasesLoaded(Message):
    source: PhraseSource


@dataclass
class Findings(Message):
    text: str
    findings: list


# -- the screen -------------------------------------------------------------------------------


class WorkstationScreen(Screen):
    CSS_PATH: ClassVar[CSSPathType | None] = "workstation.tcss"
    AUTO_FOCUS = "#queue"

    BINDINGS = [
        Binding("c", "claim", N_("Claim"), id="ws.claim"),
        Binding("r", "reply", N_("Reply"), id="ws.reply"),
        # Early in the list: the footer is cut at 80 columns, and this key shows only when a
        # reply failed to reach the customer, which is when it matters most.
        Binding("u", "resend", N_("Resend"), id="ws.resend"),
        Binding("x", "resolve", N_("Resolve"), id="ws.resolve"),
        Binding("o", "reopen", N_("Reopen"), id="ws.reopen"),
        Binding("t", "transfer", N_("Transfer"), id="ws.transfer"),
        Binding("e", "escalate", N_("Escalate"), id="ws.escalate"),
        Binding("s", "snooze", N_("Snooze"), id="ws.snooze"),
        Binding("m", "note", N_("Note"), id="ws.note"),
        Binding("l", "tag", N_("Tag"), id="ws.tag"),
        Binding("y", "category", N_("Category"), show=False, id="ws.category"),
        Binding("p", "priority", N_("Priority"), show=False, id="ws.priority"),
        Binding("n", "take_next", N_("Next"), id="ws.next"),
        Binding("h", "history", N_("Customer's other conversations"), show=False, id="ws.history"),
        Binding("slash", "filter_text", N_("Filter"), id="ws.filter_text"),
        Binding("f", "filter", N_("Filter by…"), show=False, id="ws.filter"),
        Binding("1", "scope('mine')", N_("Mine"), show=False, id="ws.scope_mine"),
        Binding("2", "scope('unassigned')", N_("Unassigned"), show=False, id="ws.scope_unassigned"),
        Binding("3", "scope('all')", N_("All I may see"), show=False, id="ws.scope_all"),
        Binding("4", "scope('handed')", N_("Handed over"), show=False, id="ws.scope_handed"),
        Binding("0", "clear_filters", N_("Clear all filters"), show=False, id="ws.clear_filters"),
        Binding("b,f4", "toggle_side", N_("Side panel"), id="ws.side"),
        Binding("i", "customer_tab", N_("Customer"), show=False, id="ws.customer"),
        Binding("ctrl+k", "knowledge", N_("Knowledge"), id="ws.knowledge"),
        # ctrl+/ reaches the app as ctrl+_ (0x1f) in most terminals, as ctrl+/ where the
        # terminal reports keys in full.
        Binding(
            "ctrl+slash,ctrl+underscore",
            "phrases",
            N_("Phrases at the cursor"),
            show=False,
            id="ws.phrases",
        ),
        Binding("v", "full_message", N_("Whole message"), show=False, id="ws.full_message"),
        Binding("f6", "cycle_pane", N_("Next pane"), show=False, id="ws.next_pane"),
    ]

    def __init__(
        self,
        store: Store,
        agent: AgentInfo,
        clock: Clock,
        *,
        lang: str,
        locked: bool = False,
        settings: Settings | None = None,
        open_id: int | None = None,
        live: bool = True,
        knowledge: KnowledgeSource | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.knowledge = knowledge or KnowledgeSource(store)
        """The app's knowledge index: kept across language switches, shared with the panel."""
        self.agent = agent
        self._send_ids: dict[tuple[int, str, str], str] = {}
        self.clock = clock
        self.lang = lang
        self.locked = locked
        self.settings = settings
        self.live_enabled = live
        self.filter = QueueFilter()
        self.detail: ConversationDetail | None = None
        self.highlighted: QueueRow | None = None
        self.findings: list = []
        self.customer_lang: str | None = None
        """The language the open conversation's customer writes in (None: not known yet)."""
        self._want_open: int | None = None
        """The conversation last asked to open; a late load of another one is dropped."""
        self._settle_on: tuple[int, bool] | None = None
        """(conversation, clear the pane if it left the queue) to settle on the next window."""
        self._submitting = False
        self._generation = 0
        self._open_id = open_id
        self._text_timer: Timer | None = None
        self._live: LivePoller | None = None
        self._composer = Composer(id="composer")
        self._phrases_started = False
        self._bindings_timer: Timer | None = None

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusLine(
            self.agent,
            short_location(self.store),
            self.clock,
            locked=self.locked,
            policy=self.store.policy,
            id="status",
        )
        with Horizontal(id="panes"):
            with Vertical(id="queue-pane"):
                yield Static("", id="queue-title")
                yield Input(placeholder=_("Filter: name, text, order…"), id="queue-filter")
                yield QueueEmpty(id="queue-empty")
                yield QueueList(self.clock, self.store.policy, id="queue")
            with Vertical(id="conversation-pane"):
                yield ConversationHeader(self.clock, self.store.policy, id="conv-header")
                yield HandoverBanner(self.clock, id="handover")
                yield Transcript(self.clock, id="transcript")
                yield FindingsBar(id="findings")
                yield self._composer
            yield SidePanel(self.store, self.lang, knowledge=self.knowledge, id="side")
        yield CsFooter()

    def on_mount(self) -> None:
        keymap: dict[str, str] = getattr(self.app, "keymap", {})
        self.query_one(Transcript).resend_key = keymap.get("ws.resend", "u").split(",")[0]
        self.query_one(Transcript).full_key = keymap.get("ws.full_message", "v").split(",")[0]
        self.query_one("#queue-filter", Input).display = False
        self._update_queue_title()
        self.query_one(ConversationHeader).show(None)
        self.reload_queue()
        self.set_interval(1.0, self.tick, name="countdown")
        if self.live_enabled:
            self._live = LivePoller(self, self.store, agent_id=self.agent.id)
            self._live.start()
        if self._open_id is not None:
            self.open_conversation(self._open_id)

    def on_unmount(self) -> None:
        if self._live is not None:
            self._live.stop()
        # Quitting (or switching language) must not lose what was typed in the last moments.
        composer = self._composer
        text = composer.flush_draft()
        if text is not None and composer.conversation_id is not None:
            with contextlib.suppress(StoreError):
                self.store.save_draft(self.agent.id, composer.conversation_id, text)

    def on_resize(self, event: Resize) -> None:
        narrow = event.size.width < WIDE_LAYOUT
        self.set_class(narrow, "-narrow")
        if not narrow:
            self.remove_class("-side-open")

    @property
    def narrow(self) -> bool:
        return self.has_class("-narrow")

    def tick(self) -> None:
        """Once a second: countdowns and clocks are redrawn; nothing is read from the store.

        Not while a dialog covers the screen: repainting single cells underneath an overlay
        blanked double-width characters in the dialog. Countdowns catch up on return.
        """
        if self.app.screen is not self:
            return
        self.query_one(QueueList).tick()
        self.query_one(ConversationHeader).tick()
        self.query_one(StatusLine).tick()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.tick()

    # -- queue -------------------------------------------------------------------------------

    def reload_queue(self, *, reset: bool = False) -> None:
        queue = self.query_one(QueueList)
        self._generation += 1
        if reset:
            queue.reset()
            offset = 0
        else:
            start, _rows = queue.window
            offset = max(0, min(start, queue.cursor - WINDOW // 2)) if queue.loaded else 0
        at_hand = self._first_window_at_hand(offset)
        if at_hand is not None:
            self._window_arrived(at_hand)
        else:
            self._load_window(self._generation, self.filter, offset)
        self._load_total(self._generation, self.filter)

    def _first_window_at_hand(self, offset: int) -> QueueWindow | None:
        """The first window of a store still opening (`cs_tui.data.opening`), read here and
        now: a few milliseconds of SQLite, and the first frame shows rows instead of being
        drawn empty and again once a worker brings them."""
        if self._generation != 1 or offset != 0 or not isinstance(self.store, OpeningStore):
            return None
        rows = self.store.first_window_now(self.agent, self.filter, WINDOW)
        if rows is None:
            return None
        return _window_message(self._generation, offset, rows)

    @work(thread=True, exclusive=True, group="queue-window", exit_on_error=False)
    def _load_window(self, generation: int, flt: QueueFilter, offset: int) -> None:
        rows = self.store.queue(self.agent, flt, offset=offset, limit=WINDOW)
        self.post_message(_window_message(generation, offset, rows))

    @work(thread=True, exclusive=True, group="queue-total", exit_on_error=False)
    def _load_total(self, generation: int, flt: QueueFilter) -> None:
        self.post_message(QueueTotal(generation, self.store.queue_count(self.agent, flt)))

    @on(QueueWindow)
    def _window_arrived(self, message: QueueWindow) -> None:
        if message.generation != self._generation:
            return
        self.query_one(QueueList).set_window(message.offset, message.rows, message.total)
        if message.total is not None:
            self._explain_empty()
        self._settle_pane()
        if not self._phrases_started:
            # Phrase packs (and their pinyin keys) load after the queue is on screen, so the
            # first frame does not share the interpreter with them.
            self._phrases_started = True
            self.query_one(SidePanel).build_soon()
            self.set_timer(0.3, self._load_phrases)
            shown = getattr(self.app, "first_frame_shown", None)
            if shown is not None:
                self.call_after_refresh(shown)

    @on(QueueTotal)
    def _total_arrived(self, message: QueueTotal) -> None:
        if message.generation != self._generation:
            return
        queue = self.query_one(QueueList)
        queue.set_total(message.total)
        status = self.query_one(StatusLine)
        status.queue_total = message.total
        status.refresh()
        self._update_queue_title()
        self._explain_empty()

    def _explain_empty(self) -> None:
        """An empty queue names the filters that hide its rows and the key that clears them."""
        queue = self.query_one(QueueList)
        key = getattr(self.app, "keymap", {}).get("ws.clear_filters", "0").split(",")[0]
        empty = self.filter if queue.loaded and queue.total == 0 else None
        self.query_one(QueueEmpty).show(empty, self.agent.is_supervisor, key)

    @on(QueueList.WindowWanted)
    def _window_wanted(self, message: QueueList.WindowWanted) -> None:
        self._load_window(self._generation, self.filter, message.offset)

    @on(QueueList.Highlighted)
    def _highlighted(self, message: QueueList.Highlighted) -> None:
        previous = self.highlighted
        self.highlighted = message.row
        if _binding_state(previous) != _binding_state(message.row):
            # The footer follows the cursor once it rests: recomposing the footer on every
            # key of a fast j/j/j would cost more than drawing the queue.
            if self._bindings_timer is not None:
                self._bindings_timer.stop()
            self._bindings_timer = self.set_timer(0.15, self.refresh_bindings)

    @on(QueueList.Opened)
    def _queue_opened(self, message: QueueList.Opened) -> None:
        self.open_conversation(message.row.id)

    def _update_queue_title(self) -> None:
        flt = self.filter
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(labels.scope_label(flt.scope, self.agent.is_supervisor), style="bold")
        for value, table in ((flt.channel, labels.CHANNELS), (flt.status, labels.STATUSES)):
            if value:
                text.append(" · " + labels.label(table, value))
        if flt.tag:
            text.append(" · ")
            text.append_text(safe("#" + flt.tag, single_line=True))
        if flt.text:
            text.append(" · ")
            text.append_text(safe(f"“{flt.text}”", single_line=True, limit=30))
        total = self.query_one(QueueList).total
        text.append(f"  ({total:,})", style="dim")
        self.query_one("#queue-title", Static).update(text)

    def set_filter(self, flt: QueueFilter) -> None:
        if flt == self.filter:
            return
        self.filter = flt
        self._update_queue_title()
        self.reload_queue(reset=True)

    # -- opening a conversation -------------------------------------------------------------

    def open_conversation(self, conversation_id: int, *, focus_composer: bool = False) -> None:
        self._flush_draft()
        self._want_open = conversation_id
        self._open_worker(conversation_id, focus_composer)

    def close_conversation(self) -> None:
        """Empty the conversation pane: actions go back to the queue cursor's row."""
        self._flush_draft()
        self._want_open = None
        self.detail = None
        self.customer_lang = None
        self.query_one(ConversationHeader).show(None)
        self.query_one(HandoverBanner).show(None)
        self.query_one(Transcript).show(None)
        self.query_one(FindingsBar).show([])
        side = self.query_one(SidePanel)
        side.set_context(None, {}, None)
        side.set_history([], None)
        composer = self.query_one(Composer)
        composer.load(None, "")
        if composer.has_focus:
            self.query_one(QueueList).focus()
        self.refresh_bindings()

    @work(thread=True, exclusive=True, group="open", exit_on_error=False)
    def _open_worker(self, conversation_id: int, focus_composer: bool) -> None:
        detail = self.store.conversation(conversation_id, viewer=self.agent)
        draft = self.store.load_draft(self.agent.id, conversation_id)
        texts = [m.body for m in detail.messages if m.author_kind == "customer"][-3:]
        try:
            emotion = customer_emotion(texts, self.lang)
        except Exception:  # emotion cues are a hint; never block opening a conversation
            emotion = None
        history = self.store.customer_history(detail.customer.id, viewer=self.agent, limit=30)
        lang = content_language(texts, self.lang)
        self.post_message(
            ConversationLoaded(
                detail, draft, emotion, history, focus_composer, lang, lang if texts else None
            )
        )

    @on(ConversationLoaded)
    def _conversation_loaded(self, message: ConversationLoaded) -> None:
        detail = message.detail
        if detail.row.id != self._want_open:
            return  # the agent opened another one (or closed the pane) meanwhile
        same = self.detail is not None and self.detail.row.id == detail.row.id
        self.detail = detail
        self.customer_lang = message.customer_lang
        self.query_one(ConversationHeader).show(detail, message.emotion)
        self.query_one(HandoverBanner).show(detail.handover)
        self.query_one(Transcript).show(detail)
        composer = self.query_one(Composer)
        if composer.conversation_id != detail.row.id:
            composer.load(detail.row.id, message.draft or "")
        elif not same:
            # The agent started typing while the conversation was loading: keep every key.
            typed = composer.text
            draft = message.draft or ""
            if draft and not typed.startswith(draft):
                composer.load(detail.row.id, draft + typed)
            elif not typed:
                composer.load(detail.row.id, draft)
        side = self.query_one(SidePanel)
        side.set_context(detail, self._variables(detail), message.emotion, message.content_lang)
        side.set_history(message.history, detail.row.id)
        self.refresh_bindings()
        if message.focus_composer:
            self.focus_composer()

    def _variables(self, detail: ConversationDetail) -> dict[str, str]:
        variables = {
            "customer_name": detail.customer.name,
            "agent_name": self.agent.display_name or self.agent.handle,
        }
        for msg in reversed(detail.messages):
            # The customer's own words: a number an agent or a note quoted may be another order.
            found = ORDER_RE.search(msg.body) if msg.author_kind == "customer" else None
            if found:
                variables["order_id"] = found.group(1)
                break
        return variables

    def refresh_open(self) -> None:
        if self.detail is not None:
            self._open_worker(self.detail.row.id, False)

    def _settle_pane(self) -> None:
        """After take-next, a transfer, a resolve or a snooze the pane and the cursor agree: the
        cursor is on the conversation acted on when the window lists it; otherwise, after a
        conversation left this queue, the pane is cleared instead of showing one the cursor
        cannot reach."""
        settle, self._settle_on = self._settle_on, None
        if settle is None:
            return
        conversation_id, clear_pane = settle
        queue = self.query_one(QueueList)
        current = queue.current_row
        if current is not None and current.id == conversation_id:
            return
        queue.keep_on(None)
        if clear_pane and self.detail is not None and self.detail.row.id == conversation_id:
            self.close_conversation()

    # -- composer, drafts, sending -------------------------------------------------------

    def focus_composer(self, mode: str = "reply") -> None:
        composer = self.query_one(Composer)
        composer.mode = mode
        if self.narrow:
            self.remove_class("-side-open")
        composer.focus()

    def _flush_draft(self) -> None:
        composer = self.query_one(Composer)
        text = composer.flush_draft()
        if text is not None and composer.conversation_id is not None:
            self._save_draft(composer.conversation_id, text)

    @on(Composer.DraftChanged)
    def _draft_changed(self, message: Composer.DraftChanged) -> None:
        composer = self.query_one(Composer)
        if composer.conversation_id is not None:
            self._save_draft(composer.conversation_id, message.text)

    @work(thread=True, group="draft", exit_on_error=False)
    def _save_draft(self, conversation_id: int, text: str) -> None:
        self.store.save_draft(self.agent.id, conversation_id, text)

    @on(Composer.CheckWanted)
    def _check_wanted(self, message: Composer.CheckWanted) -> None:
        self._check_worker(message.text)

    @work(thread=True, exclusive=True, group="check", exit_on_error=False)
    def _check_worker(self, text: str) -> None:
        self.post_message(Findings(text, check_draft(text, self.customer_lang)))

    @on(Findings)
    def _findings(self, message: Findings) -> None:
        self.findings = message.findings
        note = self.query_one(Composer).mode == "note"
        self.query_one(FindingsBar).show([] if note else message.findings)

    @on(Composer.Submitted)
    def _submitted(self, message: Composer.Submitted) -> None:
        conversation_id = message.composer.conversation_id
        if conversation_id is None:
            self.notify(_("Open a conversation first."), severity="warning")
            return
        if self.detail is None or self.detail.row.id != conversation_id:
            self.notify(_("The conversation is still loading; press Enter again in a moment."))
            return
        if self._submitting:
            return  # a second Enter while the first one's question is on its way
        text = message.text
        findings = check_draft(text, self.customer_lang) if message.mode == "reply" else []
        if not findings:
            self._send(conversation_id, text, message.mode)
            return
        self._submitting = True
        self._checked_send_flow(self.detail.row, text, findings)

    @dialog_flow
    async def _checked_send_flow(self, row: QueueRow, text: str, findings: list) -> None:
        """A reply with findings: Enter (the default) goes back to edit at the first one;
        only y or ctrl+s sends, and a blank left unfilled is never sent at all."""
        from cs_tui.screens.confirm import ConfirmScreen, blank_title, send_anyway_title

        label = target_label(row.external_id, row.customer_name)
        blocked = any(f.blocks for f in findings)
        dialog = ConfirmScreen(
            blank_title(label) if blocked else send_anyway_title(label),
            findings_body(findings),
            None if blocked else _("Send anyway"),
            _("Edit"),
            refused=_("Fill in every blank first: a reply with one is never sent."),
        )
        try:
            send = await self._ask(dialog)
        finally:
            self._submitting = False
        if send and self.query_one(Composer).conversation_id == row.id:
            self._send(row.id, text, "reply")
        else:
            self._edit_at(findings[0].start)

    def _edit_at(self, offset: int) -> None:
        """Back to the composer with the cursor at `offset` of the draft (a finding's start)."""
        composer = self.query_one(Composer)
        offset = max(0, min(offset, len(composer.text)))
        document = composer.document
        assert isinstance(document, Document), "a TextArea's document is always a Document"
        composer.move_cursor(document.get_location_from_index(offset))
        self.focus_composer(composer.mode)

    def _send(self, conversation_id: int, text: str, mode: str) -> None:
        self.query_one(Composer).sending = True
        self._send_worker(conversation_id, text, mode, self._client_id(conversation_id, mode, text))

    def _client_id(self, conversation_id: int, mode: str, text: str) -> str:
        """A retry of the same text reuses its id, so a send whose first attempt committed
        just before the connection dropped is never stored twice."""
        key = (conversation_id, mode, text)
        return self._send_ids.setdefault(key, f"cs-tui-send-{uuid.uuid4()}")

    @work(thread=True, group="send", exit_on_error=False)
    def _send_worker(self, conversation_id: int, text: str, mode: str, client_id: str) -> None:
        try:
            if mode == "note":
                stored = self.store.post_note(
                    self.agent, conversation_id, text, client_id=client_id
                )
                self.store.save_draft(self.agent.id, conversation_id, "")
            else:
                stored = self.store.post_reply(
                    self.agent, conversation_id, text, client_id=client_id
                )
        except NotAllowed as exc:
            self.post_message(self._refusal(conversation_id, text, mode, exc))
            return
        except StoreError as exc:
            self.post_message(SendFailed(conversation_id, store_message(exc)))
            return
        except Exception as exc:  # never let a send vanish silently
            self.post_message(SendFailed(conversation_id, f"{exc.__class__.__name__}: {exc}"))
            raise
        self.post_message(Sent(conversation_id, stored))

    def _refusal(self, conversation_id: int, text: str, mode: str, why: NotAllowed) -> Message:
        """Why the store would not take this message, from the conversation as it is now: nobody
        has it (offer to claim and send), another agent has it (say who), or something else."""
        try:
            row = self.store.queue_row(conversation_id)
        except StoreError:
            return SendFailed(conversation_id, store_message(why))
        if row.assignee is None and mode == "reply":
            return Unclaimed(row, text)
        if row.assignee is not None and row.assignee != self.agent.handle:
            return NotYours(row, row.assignee)
        return SendFailed(conversation_id, store_message(why))

    @on(Unclaimed)
    def _unclaimed(self, message: Unclaimed) -> None:
        self.query_one(Composer).sending = False
        self._claim_and_send_flow(message.row, message.text)

    @dialog_flow
    async def _claim_and_send_flow(self, row: QueueRow, text: str) -> None:
        """Nobody has claimed this conversation: `c` claims it and sends the reply in one go;
        Enter or Escape go back to the draft, untouched."""
        from cs_tui.screens.confirm import ClaimAndSendScreen

        label = target_label(row.external_id, row.customer_name)
        body = Text(
            _("Nobody has claimed {target} yet. Claim it and send your reply?").format(target=label)
        )
        dialog = ClaimAndSendScreen(
            _("Claim {target} and send?").format(target=label),
            body,
            _("Claim and send"),
            _("Edit"),
        )
        if not await self._ask(dialog):
            self.focus_composer("reply")
            return
        composer = self.query_one(Composer)
        if composer.conversation_id != row.id:
            return
        composer.sending = True
        self._claim_send_worker(row, text, self._client_id(row.id, "reply", text))

    @work(thread=True, group="send", exit_on_error=False)
    def _claim_send_worker(self, row: QueueRow, text: str, client_id: str) -> None:
        try:
            if not self.store.claim(self.agent, row.id):
                holder = self.store.queue_row(row.id).assignee or "?"
                self.post_message(NotYours(row, holder, lost_race=True))
                return
            stored = self.store.post_reply(self.agent, row.id, text, client_id=client_id)
        except StoreError as exc:
            self.post_message(SendFailed(row.id, store_message(exc)))
            return
        self.post_message(Sent(row.id, stored))

    @on(NotYours)
    def _not_yours(self, message: NotYours) -> None:
        self.query_one(Composer).sending = False
        label = target_label(message.row.external_id, message.row.customer_name)
        holder = clean(message.holder, single_line=True)[:40]
        if message.lost_race:
            text = _(
                "{agent} claimed {target} first. Your reply was not sent; it is still in the composer."
            )
        else:
            text = _(
                "{target} belongs to {agent}. Your reply was not sent; it is still in the composer."
            )
        self.notify(
            text.format(agent=holder, target=label), severity="warning", markup=False, timeout=8
        )
        if self.detail is not None and self.detail.row.id == message.row.id:
            self.refresh_open()
        self.reload_queue()

    @on(Sent)
    def _sent(self, message: Sent) -> None:
        self._send_ids = {
            k: v for k, v in self._send_ids.items() if k[0] != message.conversation_id
        }
        composer = self.query_one(Composer)
        if composer.conversation_id == message.conversation_id:
            composer.sent()
        if self.detail is not None and self.detail.row.id == message.conversation_id:
            self.query_one(Transcript).add(message.message)
            self.refresh_open()
        self.reload_queue()

    @on(SendFailed)
    def _send_failed(self, message: SendFailed) -> None:
        self.query_one(Composer).sending = False
        self.notify(
            _("Not sent: {why}. Your text is still in the composer; press Enter to retry.").format(
                why=message.text
            ),
            severity="error",
            markup=False,
            timeout=8,
        )

    @on(Composer.Left)
    def _composer_left(self) -> None:
        self.query_one(QueueList).focus()

    @on(Composer.PhrasesWanted)
    def _phrases_wanted(self) -> None:
        self._show_side("phrases")

    # -- side panel --------------------------------------------------------------------------

    def _load_phrases(self) -> None:
        self._phrases_worker()

    @work(thread=True, group="phrases", exit_on_error=False)
    def _phrases_worker(self) -> None:
        self.post_message(PhrasesLoaded(load_phrases(self.settings, self.store, self.agent.id)))

    @on(PhrasesLoaded)
    def _phrases_loaded(self, message: PhrasesLoaded) -> None:
        self.query_one(SidePanel).set_phrases(message.source)
        if message.source.problems and message.source.library is None:
            return
        for problem in message.source.problems[:3]:
            self.notify(problem, title=_("Phrase pack problem"), severity="warning", markup=False)

    def _show_side(self, tab: str) -> None:
        if self.narrow:
            self.add_class("-side-open")
        self.query_one(SidePanel).open_tab(tab)

    @on(SidePanel.Insert)
    def _insert(self, message: SidePanel.Insert) -> None:
        if self.detail is None:
            self.notify(_("Open a conversation first."), severity="warning")
            return
        if self.narrow:
            self.remove_class("-side-open")
        self.query_one(Composer).insert_text(message.text)

    @on(SidePanel.Leave)
    def _side_leave(self) -> None:
        if self.detail is not None:
            self.focus_composer(self.query_one(Composer).mode)
        else:
            if self.narrow:
                self.remove_class("-side-open")
            self.query_one(QueueList).focus()

    @on(SidePanel.OpenConversation)
    def _side_open(self, message: SidePanel.OpenConversation) -> None:
        self.open_conversation(message.conversation_id)

    @on(SidePanel.CustomerTag)
    def _customer_tag(self, message: SidePanel.CustomerTag) -> None:
        if self.detail is None:
            return
        customer_id = self.detail.customer.id
        conversation_id = self.detail.row.id
        if message.add:
            self._act(
                self.store.tag_customer,
                customer_id,
                message.tag,
                done=_("Customer tagged #{tag}").format(tag=message.tag),
                conversation_id=conversation_id,
            )
        else:
            self._act(
                self.store.untag_customer,
                customer_id,
                message.tag,
                done=_("Tag #{tag} removed from the customer").format(tag=message.tag),
                conversation_id=conversation_id,
            )

    # -- actions -----------------------------------------------------------------------------

    def target(self) -> QueueRow | None:
        """The conversation an action applies to: the one open in the conversation pane, so
        moving the queue cursor never redirects a key; the cursor's row only while none is open
        (Enter opens it)."""
        if self.detail is not None:
            return self.detail.row
        return self.highlighted

    def _target_or_say(self) -> QueueRow | None:
        row = self.target()
        if row is None:
            self._say(_("No conversation to act on: none is open and the queue is empty."))
        return row

    def _unresolved_target_or_say(self, refusal: str) -> QueueRow | None:
        """The target while it is not resolved or closed; else None, after saying `refusal`
        (a text naming the conversation as {target})."""
        row = self._target_or_say()
        if row is not None and row.status in ("resolved", "closed"):
            self._say(refusal.format(target=target_label(row.external_id, row.customer_name)))
            return None
        return row

    def _say(self, text: str) -> None:
        """Why a key cannot act (drawn literally: the text may name a customer)."""
        self.notify(text, severity="warning", markup=False, timeout=5)

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The footer offers only what applies to the target now. The keys themselves always
        run (see check_action), so one that cannot act answers with the reason."""
        return {
            key: active
            for key, active in super().active_bindings.items()
            if self._applies(active.binding.action.split("(")[0]) is not False
        }

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only typing silences the screen's letter keys; everything else runs and, when it
        cannot act on the target, says why."""
        typing = isinstance(self.focused, Input | TextArea)
        return not (typing and action in TYPING_HIDDEN)

    def _applies(self, action: str) -> bool | None:
        """Whether an action makes sense for the target now (False hides it in the footer)."""
        if action in CONVERSATION_ACTIONS:
            row = self.target()
            if row is None:
                return False
            if action == "claim":
                return row.assignee is None
            if action == "reopen":
                return row.status in ("resolved", "closed")
            if action in ("resolve", "snooze"):
                return row.status not in ("resolved", "closed")
            if action == "full_message":
                return self.detail is not None and self._detail_message() is not None
            if action == "resend":
                return row.undelivered or (
                    self.detail is not None and bool(self.query_one(Transcript).failed())
                )
        if action == "toggle_side":
            return True if self.narrow else None
        return True

    def _act(
        self,
        fn: Callable[..., object],
        *args: object,
        done: str | Callable[[QueueRow], str],
        conversation_id: int | None,
        open_after: bool = False,
        focus_composer: bool = False,
        follow: str = "keep",
    ) -> None:
        """Run a store action in a worker; `done` is the notification on success (or makes it
        from the row the action returned, when only the store knows which one it was)."""
        self._action_worker(fn, args, done, conversation_id, (open_after, focus_composer, follow))

    @work(thread=True, group="action", exit_on_error=False)
    def _action_worker(
        self,
        fn: Callable[..., object],
        args: tuple[object, ...],
        done: str | Callable[[QueueRow], str],
        conversation_id: int | None,
        after: tuple[bool, bool, str],
    ) -> None:
        try:
            result = fn(self.agent, *args)
        except StoreError as exc:
            self.post_message(ActionFailed(store_message(exc)))
            return
        if result is False:  # claim lost the race
            self.post_message(ActionFailed(_("Someone else took this conversation first.")))
            self.post_message(ActionDone(conversation_id, ""))
            return
        if result is None and conversation_id is None:  # take_next found nothing
            self.post_message(ActionFailed(_("No unassigned conversation is waiting.")))
            return
        if isinstance(result, QueueRow):
            conversation_id = result.id
            if callable(done):
                done = done(result)
        self.post_message(
            ActionDone(conversation_id, done if isinstance(done, str) else "", *after)
        )

    @on(ActionDone)
    def _action_done(self, message: ActionDone) -> None:
        if message.text:
            self.notify(message.text, markup=False, timeout=3)
        queue = self.query_one(QueueList)
        if message.follow == "keep" or message.conversation_id is None:
            current = queue.current_row
            queue.keep_on(current.id if current else None)
        else:
            queue.keep_on(message.conversation_id)
            self._settle_on = (message.conversation_id, message.follow == "settle")
        self.reload_queue()
        if message.conversation_id is not None:
            if message.open_after:
                self.open_conversation(message.conversation_id)
                if message.focus_composer:
                    composer = self.query_one(Composer)
                    if composer.conversation_id != message.conversation_id:
                        # Its draft arrives with the conversation; never blank text already
                        # in the composer for this conversation (an unsent reply, say).
                        composer.load(message.conversation_id, "")
                    self.focus_composer("reply")
            elif self.detail is not None and self.detail.row.id == message.conversation_id:
                self.refresh_open()

    @on(ActionFailed)
    def _action_failed(self, message: ActionFailed) -> None:
        self.notify(message.text, severity="error", markup=False, timeout=6)

    @on(Notice)
    def _notice(self, message: Notice) -> None:
        self.notify(message.text, severity="warning", markup=False, timeout=message.timeout)

    async def _ask(self, dialog: CsModal[T]) -> T | None:
        """Show `dialog` and wait for its answer (None when it was cancelled)."""
        return await self.app.push_screen_wait(dialog)

    async def _fetch(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A store read for a dialog flow, in a thread so the screen never waits on it. A
        failure is reported by on_worker_state_changed and ends the flow (WorkerFailed)."""
        worker = self.run_worker(
            partial(fn, *args, **kwargs), thread=True, group="read", exit_on_error=False
        )
        return await worker.wait()

    async def _customer_waited(self, row: QueueRow) -> float | None:
        detail = await self._fetch(self.store.conversation, row.id, viewer=self.agent)
        return unanswered_for(detail, self.clock.now())

    async def _confirm_waiting(self, title: str, waited: float, why: str, yes: str) -> bool:
        """Going ahead while the customer waits on an answer: Enter keeps things as they are."""
        from cs_tui.screens.confirm import ConfirmScreen
        from cs_tui.screens.snooze import span_text

        body = Text(
            _("The customer has waited {time} for an answer.").format(time=span_text(waited))
        )
        body.append("\n" + why)
        answer = await self._ask(ConfirmScreen(title, body, yes, _("Cancel")))
        return bool(answer)

    def action_claim(self) -> None:
        row = self._target_or_say()
        if row is None:
            return
        label = target_label(row.external_id, row.customer_name)
        if row.assignee is not None:
            self._say(
                _("{target} is already assigned to {agent}.").format(
                    target=label, agent=clean(row.assignee, single_line=True)
                )
            )
            return
        self._act(
            self.store.claim,
            row.id,
            done=_("Claimed {target}").format(target=label),
            conversation_id=row.id,
            open_after=self.detail is None,
        )

    def action_take_next(self) -> None:
        self._act(
            self.store.take_next,
            done=lambda row: _("Took {target}, the most urgent unassigned conversation").format(
                target=target_label(row.external_id, row.customer_name)
            ),
            conversation_id=None,
            open_after=True,
            focus_composer=True,
            follow="onto",
        )

    def _ensure_open(self, row: QueueRow, *, focus_composer: bool) -> bool:
        """Open `row` if another conversation (or none) is open; True when it was already open.

        With focus_composer the composer takes the keys at once, bound to `row`, so nothing the
        agent types while the conversation loads goes to the queue (where letters are actions).
        """
        if self.detail is not None and self.detail.row.id == row.id:
            return True
        self.open_conversation(row.id)
        if focus_composer:
            composer = self.query_one(Composer)
            composer.load(row.id, "")
            self.focus_composer(composer.mode)
        return False

    def action_reply(self) -> None:
        self._write_in("reply")

    def action_note(self) -> None:
        self._write_in("note")

    def _write_in(self, mode: str) -> None:
        row = self._target_or_say()
        if row is None:
            return
        self.query_one(Composer).mode = mode
        if self._ensure_open(row, focus_composer=True):
            self.focus_composer(mode)

    def action_resolve(self) -> None:
        row = self._unresolved_target_or_say(_("{target} is already resolved."))
        if row is not None:
            self._resolve_flow(row)

    @dialog_flow
    async def _resolve_flow(self, row: QueueRow) -> None:
        """Resolve after one question that names the conversation. While the customer's last
        message is unanswered it says how long they have waited, and Enter keeps it open.
        There is no CSAT here: the score comes from the customer, never from the agent."""
        from cs_tui.screens.choice import ChoiceScreen

        label = target_label(row.external_id, row.customer_name)
        title = _("Resolve {target}?").format(target=label)
        waited = await self._customer_waited(row)
        if waited is not None:
            why = _("Resolving now leaves their last message without an answer.")
            if not await self._confirm_waiting(title, waited, why, _("Resolve anyway")):
                return
        else:
            choices = [("resolve", _("Resolve"))]
            if await self._ask(ChoiceScreen(title, choices, "resolve")) is None:
                return
        self._act(
            self.store.resolve,
            row.id,
            done=_("Resolved {target}").format(target=label),
            conversation_id=row.id,
            follow="settle",
        )

    def action_reopen(self) -> None:
        row = self._target_or_say()
        if row is None:
            return
        label = target_label(row.external_id, row.customer_name)
        if row.status not in ("resolved", "closed"):
            self._say(
                _(
                    "{target} is not resolved: only a resolved or closed conversation can be "
                    "reopened."
                ).format(target=label)
            )
            return
        self._act(
            self.store.reopen,
            row.id,
            done=_("Reopened {target}").format(target=label),
            conversation_id=row.id,
        )

    def action_transfer(self) -> None:
        row = self._target_or_say()
        if row is not None:
            self._transfer_flow(row)

    def _team(self) -> tuple[list[AgentInfo], set[str], dict[str, int]]:
        """Who can take a conversation: the active agents, who of them is online (their
        workstation's heartbeat) and how many open conversations each holds."""
        agents = self.store.list_agents(include_disabled=False)
        online = {a.handle for a in self.store.online_agents()}
        return agents, online, {load.handle: load.load for load in self.store.agent_loads()}

    @dialog_flow
    async def _transfer_flow(self, row: QueueRow) -> None:
        from cs_tui.screens.transfer import TransferScreen

        agents, online, loads = await self._fetch(self._team)
        label = target_label(row.external_id, row.customer_name)
        dialog = TransferScreen(
            agents, online, self.agent.handle, label, loads=loads, ask_note=True
        )
        choice = await self._ask(dialog)
        if not choice:
            return
        self._act(
            partial(self.store.assign, note=choice.note),
            row.id,
            choice.handle,
            done=_("Transferred {target} to {agent}").format(
                target=label, agent=clean(choice.handle, single_line=True)
            ),
            conversation_id=row.id,
            follow="settle",
        )

    def action_escalate(self) -> None:
        row = self._target_or_say()
        if row is not None:
            self._escalate_flow(row)

    @dialog_flow
    async def _escalate_flow(self, row: QueueRow) -> None:
        from cs_tui.screens.escalate import EscalateScreen

        label = target_label(row.external_id, row.customer_name)
        reason = await self._ask(EscalateScreen(label))
        if not reason:
            return
        self._act(
            self.store.escalate,
            row.id,
            reason,
            done=_("Escalated {target} to a supervisor").format(target=label),
            conversation_id=row.id,
        )

    def action_snooze(self) -> None:
        row = self._unresolved_target_or_say(
            _("{target} is resolved: a resolved conversation cannot be snoozed.")
        )
        if row is not None:
            self._snooze_flow(row)

    @dialog_flow
    async def _snooze_flow(self, row: QueueRow) -> None:
        """Snooze until a time, no further than the policy allows. While the customer waits on
        an answer it asks first, naming how long (Enter keeps the conversation in the queue)."""
        from cs_tui.screens.snooze import SnoozeScreen, max_snooze_s

        label = target_label(row.external_id, row.customer_name)
        waited = await self._customer_waited(row)
        if waited is not None:
            title = _("Snooze {target}?").format(target=label)
            why = _("Snoozing hides the conversation from the queue while they wait.")
            if not await self._confirm_waiting(title, waited, why, _("Snooze anyway")):
                return
        dialog = SnoozeScreen(self.clock, label, max_snooze_s(self.store.policy))
        until = await self._ask(dialog)
        if until is None:
            return
        self._act(
            self.store.snooze,
            row.id,
            until,
            done=_("Snoozed {target} until {time}").format(
                target=label, time=until.astimezone().strftime("%m-%d %H:%M")
            ),
            conversation_id=row.id,
            follow="settle",
        )

    def action_tag(self) -> None:
        row = self._target_or_say()
        if row is not None:
            self._tag_flow(row)

    @dialog_flow
    async def _tag_flow(self, row: QueueRow) -> None:
        from cs_tui.screens.tag import TagScreen

        if self.lang == "zh":
            suggestions = ("物流延迟", "退款", "破损", "VIP")
        else:
            suggestions = ("delay", "refund", "damaged", "VIP")
        label = target_label(row.external_id, row.customer_name)
        result = await self._ask(TagScreen(row.tags, suggestions, label))
        if not result:
            return
        verb, tag = result
        shown = clean(tag, single_line=True)
        if verb == "add":
            fn, done = self.store.tag_conversation, _("Tagged #{tag}").format(tag=shown)
        else:
            fn, done = self.store.untag_conversation, _("Tag #{tag} removed").format(tag=shown)
        self._act(fn, row.id, tag, done=done, conversation_id=row.id)

    def action_category(self) -> None:
        row = self._target_or_say()
        if row is not None:
            self._choice_flow(row, "category")

    def action_priority(self) -> None:
        row = self._target_or_say()
        if row is not None:
            self._choice_flow(row, "priority")

    @dialog_flow
    async def _choice_flow(self, row: QueueRow, field: str) -> None:
        """Category or priority, picked from the fixed list with the current one marked."""
        from cs_tui.screens.choice import ChoiceScreen

        label = target_label(row.external_id, row.customer_name)
        fn: Callable[[AgentInfo, int, str], QueueRow]
        if field == "category":
            title = _("Category of {target}").format(target=label)
            table, current = labels.CATEGORIES, row.category
            fn, done = self.store.set_category, _("Category: {value}")
        else:
            title = _("Priority of {target}").format(target=label)
            table, current = labels.PRIORITIES, row.priority
            fn, done = self.store.set_priority, _("Priority: {value}")
        choices = [(code, labels.label(table, code)) for code in table]
        value = await self._ask(ChoiceScreen(title, choices, current))
        if value:
            done = done.format(value=labels.label(table, value))
            self._act(fn, row.id, value, done=done, conversation_id=row.id)

    def action_history(self) -> None:
        row = self._target_or_say()
        if row is not None:
            self._history_flow(row)

    @dialog_flow
    async def _history_flow(self, row: QueueRow) -> None:
        from cs_tui.screens.history import HistoryScreen

        rows = await self._fetch(
            self.store.customer_history, row.customer_id, viewer=self.agent, limit=50
        )
        chosen = await self._ask(HistoryScreen(row, rows, self.clock, self.agent))
        if chosen is not None:
            self.open_conversation(chosen)

    def action_full_message(self) -> None:
        from cs_tui.screens.fullmessage import FullMessageScreen

        if self.detail is None:
            self._say(_("Open a conversation first (Enter): v shows the whole of a long message."))
            return
        row = self.detail.row
        label = target_label(row.external_id, row.customer_name)
        message = self._detail_message()
        if message is None:
            self._say(
                _(
                    "Every message in {target} is shown whole and every reply arrived: v is for "
                    "a message cut short or a reply that was not delivered."
                ).format(target=label)
            )
            return
        self.app.push_screen(FullMessageScreen(message, label, store=self.store))

    def action_resend(self) -> None:
        """Send the failed replies of the target conversation again: every failed delivery in
        it goes back to the outbox as a new attempt (the `serve` worker picks it up), so a
        customer gets all the replies they missed, oldest first."""
        row = self._target_or_say()
        if row is not None:
            self._resend_worker(row)

    @work(thread=True, group="action", exit_on_error=False)
    def _resend_worker(self, row: QueueRow) -> None:
        label = target_label(row.external_id, row.customer_name)
        done = 0
        try:
            failed = self.store.deliveries(self.agent, status="failed", conversation_id=row.id)
            # The channel's own messages (an e-mail acknowledgement) are not the agent's
            # replies: sent late, their "we will answer by ..." would be stale.
            failed = [d for d in failed if not d.from_channel]
            for item in sorted(failed, key=lambda d: d.delivery_id):
                self.store.retry_delivery(self.agent, item.delivery_id)
                done += 1
            if not done and not self.agent.is_supervisor:
                # An agent lists only the deliveries of their own conversations: one that is
                # another agent's now (transferred while open here) is refused, not "nothing
                # to resend".
                holder = self.store.queue_row(row.id).assignee
                if holder is not None and holder != self.agent.handle:
                    raise NotAllowed(code="delivery_not_yours")
        except StoreError as exc:
            self.post_message(ActionFailed(store_message(exc)))
            if done:
                self.post_message(ActionDone(row.id, ""))
            return
        if not done:
            self.post_message(
                Notice(
                    _("Nothing to resend in {target}: no reply of it failed to arrive.").format(
                        target=label
                    )
                )
            )
            return
        text = _n(
            "Resending {count} reply in {target}: queued again",
            "Resending {count} replies in {target}: queued again",
            done,
        ).format(count=done, target=label)
        self.post_message(ActionDone(row.id, text))

    def _detail_message(self) -> MessageView | None:
        """What `v` shows: the newest message cut short, mail, or reply that failed to arrive."""
        return self.query_one(Transcript).more_to_show()

    # -- filters -------------------------------------------------------------------------

    def action_filter_text(self) -> None:
        box = self.query_one("#queue-filter", Input)
        if self.narrow:
            self.remove_class("-side-open")
        box.display = True
        box.focus()

    @on(Input.Changed, "#queue-filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        if self._text_timer is not None:
            self._text_timer.stop()
        value = event.value
        self._text_timer = self.set_timer(
            TEXT_DEBOUNCE_S,
            lambda: self.set_filter(replace(self.filter, text=value.strip() or None)),
        )

    @on(Input.Submitted, "#queue-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if self._text_timer is not None:
            self._text_timer.stop()
        self.set_filter(replace(self.filter, text=event.value.strip() or None))
        if not event.value.strip():
            event.input.display = False
        self.query_one(QueueList).focus()

    def key_escape(self) -> None:
        box = self.query_one("#queue-filter", Input)
        if box.has_focus:
            box.value = ""
            box.display = False
            self.set_filter(replace(self.filter, text=None))
            self.query_one(QueueList).focus()
        elif self.narrow and self.has_class("-side-open"):
            self._side_leave()

    def action_filter(self) -> None:
        self._filter_flow()

    @dialog_flow
    async def _filter_flow(self) -> None:
        from cs_tui.screens.filter import FilterScreen

        chosen = await self._ask(FilterScreen(self.filter, supervisor=self.agent.is_supervisor))
        if chosen is not None:
            self.set_filter(chosen)

    def action_scope(self, scope: str) -> None:
        self.set_filter(replace(self.filter, scope=scope))

    def action_clear_filters(self) -> None:
        """Back to everything the agent may see: no scope, channel, status, tag or text."""
        box = self.query_one("#queue-filter", Input)
        box.value = ""
        box.display = False
        if self._text_timer is not None:
            self._text_timer.stop()
        self.set_filter(QueueFilter(training=self.filter.training))

    # -- panes -------------------------------------------------------------------------------

    def action_toggle_side(self) -> None:
        if not self.narrow:
            self.query_one(SidePanel).open_tab(self.query_one(SidePanel).active_tab or "phrases")
            return
        if self.has_class("-side-open"):
            self._side_leave()
        else:
            self._show_side(self.query_one(SidePanel).active_tab or "phrases")

    def action_knowledge(self) -> None:
        self._show_side("knowledge")

    def action_phrases(self) -> None:
        """The phrase picker; the phrase chosen goes in at the composer's cursor."""
        self._show_side("phrases")

    def action_save_phrase(self) -> None:
        """The palette's "save selection as phrase": the composer's selection becomes a phrase
        of the agent's own."""
        text = self.query_one(Composer).selected_text
        if not text.strip():
            self._say(_("Select text in the composer first (shift+arrow keys)."))
            return
        self._save_phrase_flow(text)

    @dialog_flow
    async def _save_phrase_flow(self, text: str) -> None:
        from cs_tui.screens.save_phrase import ask_and_save

        saved = await ask_and_save(self._ask, self.store, self.agent, text)
        if saved is not None:
            self.notify(_("Saved as your phrase."), timeout=3)
            self._load_phrases()

    def action_customer_tab(self) -> None:
        self._show_side("customer")

    def action_cycle_pane(self) -> None:
        order: list[Widget] = [self.query_one(QueueList), self.query_one(Composer)]
        if not self.narrow or self.has_class("-side-open"):
            order.append(self.query_one(SidePanel))
        focused = self.focused
        index = 0
        for i, pane in enumerate(order):
            if focused is not None and (focused is pane or pane in focused.ancestors):
                index = i
        nxt = order[(index + 1) % len(order)]
        if isinstance(nxt, SidePanel):
            nxt.open_tab(nxt.active_tab or "phrases")
        else:
            nxt.focus()

    # -- live updates and errors ---------------------------------------------------------

    @on(LivePoller.Changed)
    def _live_changed(self, message: LivePoller.Changed) -> None:
        queue = self.query_one(QueueList)
        current = queue.current_row
        queue.keep_on(current.id if current else None)
        self.reload_queue()
        if self.detail is not None and (
            self.detail.row.id in message.conversation_ids
            # A policy change recomputed every running deadline (one event for them all):
            # the open header's clock is read again like the queue's.
            or any(event.kind == "sla_recompute" for event in message.events)
        ):
            self.refresh_open()
        failed = {
            event.conversation_id
            for event in message.events
            if event.kind == "delivery"
            and event.conversation_id
            and event.payload.get("status") == "failed"
        }
        if failed:
            self._failed_worker(failed, self.query_one(Transcript).resend_key)
        # Articles written elsewhere (`cs-tui kb import`): searched from the next query on.
        kb_changed = any(event.kind == "kb_import" for event in message.events)
        if kb_changed and self.knowledge.invalidate():
            self.query_one(SidePanel).knowledge_changed()
        # The agent's own phrases changed elsewhere (`cs-tui phrases add --mine`, another
        # terminal of theirs): the picker offers them from now on.
        if any(
            event.kind.startswith("personal_phrase_") and event.actor == self.agent.handle
            for event in message.events
        ):
            self._load_phrases()
        if self.agent.is_supervisor:
            for event in message.events:
                if event.kind == "early_warning" and event.payload.get("state") == "raised":
                    from cs_tui.screens.dashboard import warning_name

                    self.notify(
                        _("Early warning: {metric} crossed its threshold (F7: dashboard)").format(
                            metric=warning_name(str(event.payload.get("metric", "?")))
                        ),
                        severity="warning",
                        markup=False,
                        timeout=15,
                    )

    @work(thread=True, group="live-news", exit_on_error=False)
    def _failed_worker(self, conversation_ids: set[int], key: str) -> None:
        """A reply of mine did not reach its customer (the serve worker gave up, or the
        receiver said so): a toast names the conversation, wherever the agent is looking."""
        for conversation_id in sorted(conversation_ids):
            try:
                row = self.store.queue_row(conversation_id)
            except StoreError:
                continue  # the poller reports a store that is away
            if row.assignee != self.agent.handle or not row.undelivered:
                continue
            label = target_label(row.external_id, row.customer_name)
            text = _("A reply in {target} did not reach the customer ({key}: resend).")
            self.post_message(Notice(text.format(target=label, key=key), timeout=10))

    @on(LivePoller.Trouble)
    def _live_trouble(self, message: LivePoller.Trouble) -> None:
        status = self.query_one(StatusLine)
        status.problem = _("store unreachable, retrying") if message.problem else None
        status.refresh()
        if message.problem:
            self.notify(message.problem, severity="error", markup=False, timeout=6)
        else:
            self.reload_queue()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, WorkerFailed):
            return  # a flow's store read failed, and that failure has been reported
        if isinstance(error, StoreError):
            text = str(error)
        else:
            text = _("Something went wrong: {error}").format(
                error=f"{error.__class__.__name__}: {error}"
            )
        self.notify(text, severity="error", markup=False, timeout=8)

    # -- command palette -----------------------------------------------------------------

    def palette_commands(self) -> list[tuple[str, str, str]]:
        """(title, help, action) for every action that applies now."""
        out = []
        for binding in self.BINDINGS:
            if not isinstance(binding, Binding) or binding.action in ("cycle_pane",):
                continue
            if self._applies(binding.action.split("(")[0]) is False:
                continue
            out.append((_(binding.description), binding.key, binding.action))
        out.append((_("Save selection as phrase"), "", "save_phrase"))
        return out
