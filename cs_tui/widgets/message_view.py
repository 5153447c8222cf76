"""The open conversation: its header (customer, channel, category, priority, status, SLA clock)
and the transcript.

Every piece of customer or imported text goes through `cs_tui.safe_text.safe`, so markup-looking
brackets stay brackets, escape codes are shown as symbols and a huge message is cut for display
(`v` shows the whole of the newest long message).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from cs_tui.channels import email_notes
from cs_tui.clock import Clock
from cs_tui.data.views import ConversationDetail, MessageView
from cs_tui.i18n import _, _n
from cs_tui.safe_text import one_line, safe
from cs_tui.sla import SlaPolicy
from cs_tui.widgets import delivery, labels
from cs_tui.widgets.sla_badge import STYLES, SYMBOLS, clock_badge, state_word

BODY_LIMIT = 4000
"""Characters of one message drawn in the transcript; the rest is announced, not dropped."""

AUTHOR_STYLES = {
    "customer": "bold",
    "agent": "bold blue",
    "system": "dim italic",
    "note": "bold black on yellow",
}


def local_time(moment: datetime, now: datetime) -> str:
    local = moment.astimezone()
    if local.date() == now.astimezone().date():
        return local.strftime("%H:%M")
    return local.strftime("%m-%d %H:%M")


def author_label(message: MessageView, customer_name: str) -> Text:
    kind = message.author_kind
    if kind == "customer":
        text = Text(_("Customer") + " ")
        text.append_text(safe(customer_name, single_line=True, limit=60))
        return text
    # Handles come from the store like any other text: an imported or older store may hold
    # escape codes in them.
    if kind == "agent":
        return Text(_("Agent") + " " + one_line(message.author or "?", limit=64))
    if kind == "note":
        return Text(_("Private note") + " · " + one_line(message.author or "?", limit=64))
    return Text(_("System"))


def shown_body(
    message: MessageView, full_key: str = "v", note: Mapping[str, Any] | None = None
) -> str:
    """The body as the transcript draws it: the notes the e-mail channel wrote into a mail
    (stored in English for export, and as codes in `note`) in the interface's language."""
    if not email_notes.is_mail(message.external_id):
        return message.body
    return email_notes.localize(
        message.body, message.author_kind == "system", _, full_key, note=note
    )


def render_message(
    message: MessageView,
    customer_name: str,
    now: datetime,
    resend_key: str = "u",
    full_key: str = "v",
    note: Mapping[str, Any] | None = None,
) -> Text:
    kind = message.author_kind
    head = Text()
    marker = {"customer": "< ", "agent": "> ", "note": "# ", "system": "- "}.get(kind, "  ")
    head.append(marker, style=AUTHOR_STYLES.get(kind, ""))
    label = author_label(message, customer_name)
    label.stylize(AUTHOR_STYLES.get(kind, ""))
    head.append_text(label)
    head.append("  " + local_time(message.sent_at, now), style="dim")
    status = message.delivery_status
    if status is not None:
        # Only replies handed to a channel's outbox have one: an imported conversation, or one
        # whose channel has no webhook, shows nothing here.
        head.append("  ")
        head.append_text(delivery.status_text(status))
    body_style = {"system": "dim italic", "note": "yellow"}.get(kind, "")
    body = safe(shown_body(message, full_key, note), style=body_style, limit=BODY_LIMIT)
    indent = Text("  ")
    out = Text()
    out.append_text(head)
    out.append("\n")
    out.append_text(indent)
    out.append_text(_indent(body))
    if status == "failed":
        out.append("\n")
        out.append_text(failure_line(message, resend_key))
    return out


def failure_line(message: MessageView, resend_key: str) -> Text:
    """Under a failed reply: that it did not arrive, the key that sends it again, and why it
    failed on a line of its own (the receiver's words, drawn safe). The channel's own message
    (an e-mail acknowledgement) is not sent again: a late "we will answer by ..." would be
    stale, so it offers no key."""
    line = Text("  ")
    line.append(delivery.MARKS["failed"] + " " + _("Not delivered"), style="bold red")
    if message.author_kind != "system":
        key = one_line(resend_key, limit=16)
        line.append("  " + _("({key}: resend)").format(key=key), style="dim")
    line.append("\n  ")
    line.append_text(delivery.reason_text(message.delivery_error))
    return line


def _indent(body: Text) -> Text:
    """Indent continuation lines by two cells so the transcript reads as blocks."""
    parts = body.split("\n", allow_blank=True)
    if len(parts) == 1:
        return body
    return Text("\n  ").join(parts)


class ConversationHeader(Widget):
    """Who, where, what, and the running SLA clock.

    Drawn by render(): the per-second tick repaints it without a layout pass (a Static.update
    would lay out, and so repaint, the whole screen every second).
    """

    DEFAULT_CSS = """
    ConversationHeader { height: auto; max-height: 4; padding: 0 1; background: $boost; }
    """

    def __init__(self, clock: Clock, policy: SlaPolicy, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.policy = policy
        self.detail: ConversationDetail | None = None
        self.emotion: str | None = None
        self._shown: tuple = ()

    def show(self, detail: ConversationDetail | None, emotion: str | None = None) -> None:
        self.detail = detail
        self.emotion = emotion
        self.refresh(layout=True)

    def tick(self) -> None:
        """Repaint only when the countdown shown changed (a "2d" clock changes once a day)."""
        shown = self._clock_text()
        if shown != self._shown:
            self.refresh()

    def _clock_text(self) -> tuple:
        if self.detail is None:
            return ()
        return clock_badge(self.policy, self.detail.row, self.clock.now())

    def render(self) -> Text:
        self._shown = self._clock_text()
        return self.build()

    def build(self) -> Text:
        detail = self.detail
        if detail is None:
            return Text(_("No conversation open. Pick one in the queue and press Enter."), "dim")
        row = detail.row
        now = self.clock.now()
        line = Text()
        line.append_text(safe(detail.customer.name, single_line=True, limit=40, style="bold"))
        if detail.customer.tier == "vip":
            line.append(" [" + _("VIP") + "]", style="bold magenta")
        line.append("  ")
        line.append(labels.label(labels.CHANNELS, row.channel))
        line.append(" · ")
        line.append(labels.label(labels.CATEGORIES, row.category))
        line.append(" · ")
        priority = labels.label(labels.PRIORITIES, row.priority)
        line.append(priority, style="bold red" if row.priority in ("high", "urgent") else "")
        line.append(" · ")
        line.append(labels.label(labels.STATUSES, row.status), style="bold")
        line.append(" · ")
        line.append(one_line(row.assignee, limit=64) or _("unassigned"), style="dim")
        second = Text()
        if row.undelivered:
            second.append_text(delivery.undelivered_notice())
            second.append("  ")
        state, shown = clock_badge(self.policy, row, now)
        second.append(f"{SYMBOLS[state]}{shown} {state_word(state)}", style=STYLES[state])
        if row.sla_clock:
            second.append(" " + labels.label(labels.CLOCKS, row.sla_clock), style="dim")
        if self.emotion:
            second.append("  " + _("Mood") + ": ")
            second.append(
                labels.label(labels.EMOTIONS, self.emotion),
                style="bold red" if self.emotion in ("angry",) else "bold",
            )
        if row.tags:
            second.append("  ")
            second.append_text(
                safe(" ".join(f"#{t}" for t in row.tags), single_line=True, limit=80)
            )
        # The external id came from a channel or an import: an OSC 52 in it would write the
        # agent's clipboard on every redraw if it were drawn as it is stored.
        second.append("  " + one_line(row.external_id, limit=80), style="dim")
        return Text("\n").join([line, second])


class Transcript(VerticalScroll, can_focus=True):
    """The messages of the open conversation, oldest first, newest at the bottom.

    When the terminal is resized or the side panel takes or gives back room, the messages
    rewrap to another height: if the newest one was in view it stays in view (an agent who
    scrolled up to read keeps their place).
    """

    DEFAULT_CSS = """
    Transcript { height: 1fr; padding: 0 1; }
    Transcript > Static { width: 1fr; }
    """

    def __init__(self, clock: Clock, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.messages: list[MessageView] = []
        self.mail_notes: Mapping[int, Mapping[str, Any]] = {}
        self.customer_name = ""
        self.hidden_before = 0
        self.resend_key = "u"
        """The key shown under a failed reply (the screen sets it from the key map)."""
        self.full_key = "v"
        """The key that shows a whole mail, named where its quoted text is left out."""
        self._body = Static("", id="transcript-body")
        self._at_end = True
        """Whether the newest message was in view at the last scroll (kept there on resize)."""

    def compose(self) -> ComposeResult:
        yield self._body

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._at_end = new_value >= self.max_scroll_y

    def on_resize(self) -> None:
        if self._at_end:
            self.scroll_end(animate=False)

    def show(self, detail: ConversationDetail | None) -> None:
        if detail is None:
            self.messages = []
            self.mail_notes = {}
            self.customer_name = ""
            self.hidden_before = 0
        else:
            self.messages = list(detail.messages)
            self.mail_notes = detail.mail_notes
            self.customer_name = detail.customer.name
            self.hidden_before = max(0, detail.message_count - len(detail.messages))
        self._redraw()

    def add(self, message: MessageView) -> None:
        if any(m.id == message.id for m in self.messages[-20:]):
            return
        self.messages.append(message)
        self._redraw()

    def failed(self) -> list[MessageView]:
        """The replies shown whose delivery failed, oldest first."""
        return [m for m in self.messages if m.delivery_status == "failed"]

    def _redraw(self) -> None:
        now = self.clock.now()
        parts: list[Text] = []
        if self.hidden_before:
            parts.append(
                Text(
                    _n(
                        "{count} earlier message not shown",
                        "{count} earlier messages not shown",
                        self.hidden_before,
                    ).format(count=self.hidden_before),
                    "dim",
                )
            )
        for message in self.messages:
            parts.append(
                render_message(
                    message,
                    self.customer_name,
                    now,
                    self.resend_key,
                    self.full_key,
                    self.mail_notes.get(message.id),
                )
            )
        self._body.update(Group(*parts) if parts else Text(""))
        self.call_after_refresh(self.scroll_end, animate=False)

    def more_to_show(self) -> MessageView | None:
        """What `v` shows: the newest message the transcript does not show whole: one cut
        short, a mail (its quoted text, signature, subject and attachments), or a reply that
        failed to arrive (why, in full)."""
        for message in reversed(self.messages):
            if (
                len(message.body) > BODY_LIMIT
                or message.delivery_status == "failed"
                or email_notes.is_mail(message.external_id)
            ):
                return message
        return None

    def longest(self) -> MessageView | None:
        """The newest message that the transcript shows cut (for the full view)."""
        for message in reversed(self.messages):
            if len(message.body) > BODY_LIMIT:
                return message
        return None
