"""The supervisor dashboard: what is breaching now, who is overloaded, and the KPIs of §7.

Everything that reads the store runs in thread workers and comes back as one snapshot message;
the main thread only redraws (a few milliseconds, measured by `python -m bench report`). The live
part (counts, breach list, agents, trends, early warning) reloads every few seconds; the KPIs of
1, 7 and 30 days, which scan more, once a minute or on `r`.

The early warning is evaluated here, on every supervisor's dashboard; its state lives in the
store, so a warning raised on one supervisor's screen shows as a banner on all of them, and each
raise or clear is recorded once as an `early_warning` event.

Keys: enter opens the highlighted conversation (the screen is dismissed with its id), `a`
reassigns it through the agent picker, `r` reloads, escape or `q` closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Generic, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Sparkline, Static
from textual.worker import Worker, WorkerFailed, WorkerState

from cs_tui.clock import Clock
from cs_tui.data.kpi_queries import AgentLoad, LiveCounts, Trend, WarningState
from cs_tui.data.views import AgentInfo, QueueRow
from cs_tui.i18n import N_, _
from cs_tui.metrics import (
    KPI_ROWS,
    TARGETS,
    Kpis,
    WarningConfig,
    format_value,
    kpis_for,
    read_early_warning,
    record_early_warning,
    target_text,
)
from cs_tui.safe_text import one_line, safe
from cs_tui.screens.modal import DIALOG_GROUP
from cs_tui.widgets import labels
from cs_tui.widgets.footer import CsFooter

if TYPE_CHECKING:
    from cs_tui.data.store import Store

WINDOWS = (1, 7, 30)
ONLINE_S = 60
"""A heartbeat newer than this shows the agent as online."""
BREACH_ROWS = 50
KPI_SAMPLE = 500
"""Agent messages checked for compliant language per window on the dashboard (the CLI: 2000)."""
WARNING_NAMES = {
    "complaint_pct": N_("complaint rate"),
    "angry_pct": N_("angry customers"),
    "breach_pct": N_("breach rate"),
}


@dataclass(frozen=True)
class LiveSnapshot:
    at: datetime
    counts: LiveCounts
    breaches: list[QueueRow]
    agents: list[AgentLoad]
    trend: Trend
    warnings: list[WarningState]
    changed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class KpiSnapshot:
    at: datetime
    kpis: dict[int, Kpis]


SnapshotT = TypeVar("SnapshotT", LiveSnapshot, KpiSnapshot)


def coarse_age(seconds: float) -> str:
    """12m, 3h05, 2d (12分, 3时05, 2天): changes at most once a minute, so the agents table
    rarely repaints."""
    minutes = max(0, int(seconds // 60))
    if minutes < 60:
        return _("{minutes}m").format(minutes=minutes)
    if minutes < 48 * 60:
        return _("{hours}h{minutes}").format(hours=minutes // 60, minutes=f"{minutes % 60:02d}")
    return _("{days}d").format(days=minutes // 1440)


def warning_name(metric: str) -> str:
    """An early warning's figure as the interface names it; an unknown one (it is read back
    from the store) as plain text."""
    name = WARNING_NAMES.get(metric)
    return _(name) if name else one_line(metric, limit=32)


def banner_text(warnings: list[WarningState], window_s: float) -> str:
    """One line for every raised early warning; empty when none is raised."""
    raised = [w for w in warnings if w.state == "raised"]
    if not raised:
        return ""
    parts = []
    for w in raised:
        value = "-" if w.value is None else f"{w.value:.1f} %"
        parts.append(f"{warning_name(w.metric)} {value} ≥ {w.threshold:g} %")
    minutes = round(window_s / 60)
    return _("Early warning ({minutes} min): {figures}").format(
        minutes=minutes, figures=" · ".join(parts)
    )


def sync_rows(table: DataTable, rows: list[tuple[str, list[Text]]]) -> None:
    """Make `table` show `rows` (key, cells), touching as little as possible.

    With the same keys in the same order only the cells that differ are updated (a few µs
    each, and only their lines repaint); otherwise the table is rebuilt, keeping the cursor's
    position. Either way the columns are wide enough for the new cells before anything is drawn.
    """
    keys = [key for key, _cells in rows]
    if keys == [k.value for k in table.rows]:
        columns = list(table.columns)
        for key, cells in rows:
            for column, old, new in zip(columns, table.get_row(key), cells, strict=False):
                if old != new:
                    table.update_cell(key, column, new, update_width=True)
    else:
        keep = table.cursor_row
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
    fit_columns(table, [cells for _key, cells in rows])


def fit_columns(table: DataTable, rows: list[list[Text]]) -> None:
    """Widen each column to its widest new cell now, in the handler that adds the cells.

    DataTable measures added cells only on its next idle; until then a column keeps the width
    of its header, and a frame drawn in between showed "D…" for "DEMO-0161" (under its "id"
    header). The table still measures on idle (and may narrow a column then); this only makes
    sure no frame shows cut cells.
    """
    for column, *cells in zip(table.ordered_columns, *rows, strict=False):
        widest = max((cell.cell_len for cell in cells), default=0)
        if column.auto_width and widest > column.content_width:
            column.content_width = widest


class Loaded(Message, Generic[SnapshotT]):
    """A worker's read for the main thread to draw; a newer one replaces one still queued."""

    def __init__(self, snapshot: SnapshotT) -> None:
        super().__init__()
        self.snapshot: SnapshotT = snapshot

    def can_replace(self, message: Message) -> bool:
        return type(message) is type(self)


class DashboardScreen(Screen[int | None]):
    """Dismissed with a conversation id to open it, or None when closed."""

    CSS_PATH = "dashboard.tcss"
    BINDINGS = [
        Binding("enter", "open", N_("Open"), id="dash.open"),
        Binding("a", "reassign", N_("Reassign"), id="dash.reassign"),
        Binding("r", "reload", N_("Reload"), id="dash.reload"),
        Binding("escape,q", "close", N_("Close"), id="dash.close"),
    ]

    class LiveLoaded(Loaded[LiveSnapshot]):
        pass

    class KpisLoaded(Loaded[KpiSnapshot]):
        pass

    def __init__(
        self,
        store: Store,
        agent: AgentInfo,
        clock: Clock,
        *,
        warnings: WarningConfig | None = None,
        live_every: float = 5.0,
        kpi_every: float = 60.0,
    ) -> None:
        super().__init__()
        self.store = store
        self.agent = agent
        self.clock = clock
        self.warning_config = warnings or WarningConfig()
        self.live_every = live_every
        self.kpi_every = kpi_every
        self.live: LiveSnapshot | None = None
        self.kpis: KpiSnapshot | None = None
        self._oldest: dict[str, int] = {}
        self._banner_text = ""
        self._shown: dict[str, object] = {}

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="dash-banner", markup=False)
        with VerticalScroll(id="dash-body"):
            yield Static(_("Loading…"), id="dash-counts", markup=False)
            with Horizontal(id="dash-middle"):
                with Vertical(id="dash-breach-box", classes="pane") as box:
                    box.border_title = _("Breaching now")
                    yield DataTable(id="dash-breaches", cursor_type="row", zebra_stripes=True)
                with Vertical(id="dash-agent-box", classes="pane") as box:
                    box.border_title = _("Agents")
                    yield DataTable(id="dash-agents", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="dash-trends"):
                with Vertical(classes="trend"):
                    yield Static(_("Arrivals per hour, last 24 h"), classes="caption")
                    yield Sparkline([0], id="dash-volume")
                with Vertical(classes="trend"):
                    yield Static(_("First-response breaches per hour"), classes="caption")
                    yield Sparkline([0], id="dash-breach-trend")
            with Vertical(id="dash-kpi-box", classes="pane") as box:
                box.border_title = _("KPIs against targets")
                yield DataTable(id="dash-kpis", cursor_type="row", zebra_stripes=True)
        yield Static("", id="dash-status", markup=False)
        yield CsFooter()

    def on_mount(self) -> None:
        breaches = self.query_one("#dash-breaches", DataTable)
        breaches.add_columns(_("late"), _("id"), _("channel"), _("customer"), _("assignee"))
        agents = self.query_one("#dash-agents", DataTable)
        agents.add_columns(_("agent"), _("presence"), _("load"), _("late"), _("oldest waiting"))
        kpis = self.query_one("#dash-kpis", DataTable)
        kpis.add_columns(_("figure"), _("1 day"), _("7 days"), _("30 days"), _("target"))
        self.query_one("#dash-banner").display = False
        if not self.agent.is_supervisor:
            self._status(_("The dashboard is for supervisors."))
            return
        breaches.focus()
        self.action_reload()
        if self.live_every > 0:
            self.set_interval(self.live_every, self.load_live)
        if self.kpi_every > 0:
            self.set_interval(self.kpi_every, self.load_kpis)

    # -- loading (threads) ------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="dash-live")
    def load_live(self) -> None:
        snapshot = self.read_live()
        self.post_message(self.LiveLoaded(snapshot))

    def read_live(self) -> LiveSnapshot:
        """Everything the live part shows, read from the store (runs in a worker thread)."""
        store = self.store
        now = self.clock.now()
        readings = read_early_warning(store, self.warning_config)
        changed = record_early_warning(store, self.agent, readings)
        return LiveSnapshot(
            at=now,
            counts=store.live_counts(),
            breaches=store.breach_list(limit=BREACH_ROWS),
            agents=store.agent_loads(),
            trend=store.hourly_trend(now),
            warnings=store.early_warnings(),
            changed=changed,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="dash-kpi")
    def load_kpis(self) -> None:
        self.post_message(self.KpisLoaded(self.read_kpis()))

    def read_kpis(self) -> KpiSnapshot:
        now = self.clock.now()
        kpis = {
            days: kpis_for(self.store, now - timedelta(days=days), now, sample=KPI_SAMPLE)
            for days in WINDOWS
        }
        return KpiSnapshot(now, kpis)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and not isinstance(event.worker.error, WorkerFailed):
            error = event.worker.error
            first = (str(error).splitlines() or [type(error).__name__])[0]
            self._status(_("Could not read the store: ") + one_line(first, limit=200))

    # -- drawing (main thread) ------------------------------------------------------------

    @on(LiveLoaded)
    def _live_loaded(self, message: LiveLoaded) -> None:
        self.apply_live(message.snapshot)

    @on(KpisLoaded)
    def _kpis_loaded(self, message: KpisLoaded) -> None:
        self.apply_kpis(message.snapshot)

    def apply_live(self, snap: LiveSnapshot) -> None:
        """Redraw from a snapshot: one batched paint, and only the cells that changed."""
        self.live = snap
        with self.app.batch_update():
            self._draw_banner(snap)
            self._draw_counts(snap)
            self._draw_breaches(snap)
            self._draw_agents(snap)
            for wid, data in (
                ("#dash-volume", snap.trend.volume),
                ("#dash-breach-trend", snap.trend.breaches),
            ):
                spark = self.query_one(wid, Sparkline)
                if list(spark.data or []) != list(data or [0]):
                    spark.data = list(data) or [0]
            stamp = snap.at.astimezone().strftime("%H:%M:%S")
            self._status(_("Updated") + f" {stamp}")

    def _draw_banner(self, snap: LiveSnapshot) -> None:
        banner = self.query_one("#dash-banner", Static)
        text = banner_text(snap.warnings, self.warning_config.window_s)
        if text != self._banner_text:
            self._banner_text = text
            banner.update(text)
            banner.display = bool(text)
        for metric in snap.changed:
            state = next((w for w in snap.warnings if w.metric == metric), None)
            if state is not None and state.state == "raised":
                self.notify(text, severity="warning", markup=False, timeout=10)

    def _draw_counts(self, snap: LiveSnapshot) -> None:
        """Two lines: conversations per status, then the SLA state of the open work."""
        c = snap.counts
        text = Text()
        statuses = [(labels.label(labels.STATUSES, s), n) for s, n in c.by_status.items() if n]
        for i, (word, n) in enumerate(statuses or [(_("no conversations"), 0)]):
            text.append(" · " if i else "")
            text.append(f"{word} ")
            text.append(f"{n:,}", style="bold")
        text.append("\n")
        styles = {"breached": "bold red", "warning": "bold yellow", "ok": "green"}
        words = {
            "breached": _("breached"),
            "warning": _("due soon"),
            "ok": _("on time"),
            "paused": _("paused"),
            "none": _("no clock"),
        }
        for i, (state, n) in enumerate(c.by_state.items()):
            text.append(" · " if i else "")
            text.append(f"{words[state]} ")
            text.append(f"{n:,}", style=styles.get(state, "bold"))
        text.append(f" · {_('hidden')} {c.hidden:,}", style="dim")
        self._update_static("#dash-counts", text)

    def _draw_breaches(self, snap: LiveSnapshot) -> None:
        rows = []
        for row in snap.breaches:
            late = (snap.at - row.due_at).total_seconds() if row.due_at else 0
            cells = [
                # Minutes are precise enough for a supervisor (the queue has the seconds), and
                # a coarse value leaves most cells untouched on each 5-second refresh.
                Text("-" + coarse_age(late), style="bold red"),
                safe(row.external_id, single_line=True, limit=20),
                Text(labels.label(labels.CHANNELS, row.channel)),
                safe(row.customer_name, single_line=True, limit=20),
                safe(row.assignee or "-", single_line=True),
            ]
            rows.append((str(row.id), cells))
        sync_rows(self.query_one("#dash-breaches", DataTable), rows)

    def _draw_agents(self, snap: LiveSnapshot) -> None:
        self._oldest = {}
        rows = []
        for a in snap.agents:
            online = a.last_seen_at is not None and (
                (snap.at - a.last_seen_at).total_seconds() <= ONLINE_S
            )
            waiting = "-"
            if a.oldest_since is not None and a.oldest_id is not None:
                self._oldest[a.handle] = a.oldest_id
                waited = (snap.at - a.oldest_since).total_seconds()
                waiting = f"{coarse_age(waited)} {a.oldest_external_id}"
            cells = [
                safe(a.handle, single_line=True, limit=20),
                Text(_("online"), style="green") if online else Text(_("away"), style="dim"),
                Text(f"{a.load:,}"),
                Text(f"{a.breached:,}", style="bold red" if a.breached else ""),
                safe(waiting, single_line=True, limit=28),
            ]
            rows.append((a.handle, cells))
        sync_rows(self.query_one("#dash-agents", DataTable), rows)

    def apply_kpis(self, snap: KpiSnapshot) -> None:
        self.kpis = snap
        rows = []
        for key, label in KPI_ROWS:
            cells = [Text(_(label))]
            target = TARGETS.get(key)
            for days in WINDOWS:
                value = getattr(snap.kpis[days], key)
                met = target.met(value) if target else None
                style = {True: "green", False: "bold red", None: ""}[met]
                cells.append(Text(format_value(key, value), style=style))
            cells.append(Text(target_text(key), style="dim"))
            rows.append((key, cells))
        with self.app.batch_update():
            sync_rows(self.query_one("#dash-kpis", DataTable), rows)

    def _status(self, text: str) -> None:
        self._update_static("#dash-status", text)

    def _update_static(self, selector: str, content: Text | str) -> None:
        # An update re-lays out the screen; skip it when nothing changed.
        if self._shown.get(selector) != content:
            self._shown[selector] = content
            self.query_one(selector, Static).update(content)

    # -- actions --------------------------------------------------------------------------

    def highlighted_conversation(self) -> int | None:
        """The conversation under the cursor: a breach row, or an agent's oldest waiting one."""
        focused = self.focused
        agents = self.query_one("#dash-agents", DataTable)
        if focused is agents and agents.row_count:
            handle = agents.coordinate_to_cell_key(Coordinate(agents.cursor_row, 0)).row_key.value
            return self._oldest.get(handle or "")
        breaches = self.query_one("#dash-breaches", DataTable)
        if breaches.row_count:
            key = breaches.coordinate_to_cell_key(Coordinate(breaches.cursor_row, 0)).row_key.value
            return int(key) if key else None
        return None

    def action_open(self) -> None:
        cid = self.highlighted_conversation()
        if cid is not None:
            self.dismiss(cid)

    @on(DataTable.RowSelected, "#dash-breaches, #dash-agents")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_reassign(self) -> None:
        if not self.agent.is_supervisor:
            self.notify(_("Only a supervisor reassigns work."), severity="warning")
            return
        cid = self.highlighted_conversation()
        if cid is None:
            self.notify(_("Nothing to reassign here."))
            return
        self._reassign_flow(cid)

    @work(exclusive=True, group=DIALOG_GROUP, exit_on_error=False)
    async def _reassign_flow(self, cid: int) -> None:
        """Who takes the conversation: the agents are read in a thread (the screen never
        waits on the store), then the picker is awaited."""
        from cs_tui.screens.transfer import TransferScreen

        read = self.run_worker(
            lambda: self.store.list_agents(include_disabled=False),
            thread=True,
            group="dash-read",
            exit_on_error=False,
        )
        try:
            agents = await read.wait()
        except WorkerFailed:
            return  # on_worker_state_changed has said why
        online = {
            a.handle
            for a in (self.live.agents if self.live else [])
            if a.last_seen_at is not None
            and (self.clock.now() - a.last_seen_at).total_seconds() <= ONLINE_S
        }
        loads = {a.handle: a.load for a in (self.live.agents if self.live else [])}
        dialog = TransferScreen(agents, online, self.agent.handle, loads=loads)
        choice = await self.app.push_screen_wait(dialog)
        if choice:
            self.reassign(cid, choice.handle)

    @work(thread=True, exit_on_error=False, group="dash-write")
    def reassign(self, conversation_id: int, handle: str) -> None:
        from cs_tui.data.errors import StoreError
        from cs_tui.widgets.store_messages import store_message

        try:
            row = self.store.assign(self.agent, conversation_id, handle)
        except StoreError as exc:
            text = store_message(exc)  # by its code, in the interface language
            self.app.call_from_thread(self.notify, text, severity="error", markup=False)
            return
        done = _("Reassigned") + f" {row.external_id} → {handle}"
        self.app.call_from_thread(self.notify, done, markup=False)
        self.app.call_from_thread(self.load_live)

    def action_reload(self) -> None:
        if not self.agent.is_supervisor:
            return
        self.load_live()
        self.load_kpis()

    def action_close(self) -> None:
        self.dismiss(None)
