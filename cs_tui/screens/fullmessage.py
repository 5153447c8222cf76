"""One whole message, however long: the transcript cuts very long messages for display.

A reply handed to a channel shows its delivery status too, and why it failed (the receiver's
words, drawn through safe_text like the message itself).

A message that came by e-mail is shown as the whole mail: its subject, the text with the quoted
history and signature the transcript leaves out, and its attachments by name and size with where
they are saved (never opened). The mail's row is read in a worker once the screen is up; until
then, and for a mail stored before its row, the transcript's text is shown.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from cs_tui.channels import email_notes
from cs_tui.channels.email_config import size_text
from cs_tui.data.errors import StoreError
from cs_tui.data.store import Store
from cs_tui.data.views import MessageView
from cs_tui.i18n import _
from cs_tui.safe_text import safe
from cs_tui.screens.modal import CsModal
from cs_tui.widgets import delivery
from cs_tui.widgets.message_view import shown_body

FULL_LIMIT = 200_000


def attachment_lines(attachments: list[dict[str, Any]]) -> Text:
    """One line an attachment: name (size) and where it is saved; every part came from the
    mail (or the disk), so all of it is drawn through safe_text."""
    out = Text(_("Attachments") + "\n", style="bold")
    for item in attachments:
        name = str(item.get("name") or "?")
        size = item.get("size")
        line = Text("- ")
        line.append_text(safe(name, single_line=True, limit=150))
        if isinstance(size, int):
            line.append(f" ({size_text(size)})")
        where = item.get("path")
        line.append("  ")
        if item.get("quarantined"):
            line.append(_("the whole mail, saved as:") + " ", style="dim")
        if isinstance(where, str) and where:
            if not item.get("quarantined"):
                line.append(_("saved as:") + " ", style="dim")
            line.append_text(safe(where, single_line=True, limit=400, style="dim"))
        else:
            line.append(_("not saved (the disk refused it)"), style="dim")
        out.append_text(line)
        out.append("\n")
    return out


class FullMessageScreen(CsModal[None]):
    CSS_PATH = ["modal.tcss", "fullmessage.tcss"]

    def __init__(self, message: MessageView, target: str = "", store: Store | None = None) -> None:
        super().__init__()
        self.message = message
        self.target = target
        self.store = store
        self.mail: dict[str, Any] | None = None
        """The mail's row (subject, whole text, attachments) once read."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="box") as box:
            self._title(box, len(self.message.body))
            status = self.message.delivery_status
            if status is not None:
                line = Text(_("Delivery") + ": ")
                line.append_text(delivery.status_text(status))
                if status == "failed":
                    line.append(" — ")
                    line.append_text(delivery.reason_text(self.message.delivery_error))
                yield Static(line, classes="delivery")
            subject = Static("", classes="subject", id="mail-subject")
            subject.display = False
            yield subject
            yield Static(safe(shown_body(self.message), limit=FULL_LIMIT), id="whole-text")
            files = Static("", classes="attachments", id="mail-attachments")
            files.display = False
            yield files

    def _title(self, box: VerticalScroll, characters: int) -> None:
        box.border_title = self.target_title(
            _("Whole message in {target} ({count} characters)"),
            _("Whole message ({count} characters)"),
            count=f"{characters:,}",
        )

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
        if self.store is not None and email_notes.is_mail(self.message.external_id):
            self._read_mail(self.store)

    @work(thread=True, exit_on_error=False)
    def _read_mail(self, store: Store) -> None:
        try:
            mail = store.mail_texts(self.message.id, self.message.conversation_id)
        except StoreError:
            return  # the transcript's text stays: nothing lost, the agent can press v again
        if mail is not None:
            self.app.call_from_thread(self._show_mail, mail)

    def _show_mail(self, mail: dict[str, Any]) -> None:
        self.mail = mail
        subject = str(mail.get("subject") or "")
        if subject:
            line = Text(_("Subject") + ": ", style="bold")
            line.append_text(safe(subject, single_line=True, limit=1000))
            widget = self.query_one("#mail-subject", Static)
            widget.update(line)
            widget.display = True
        whole = str(mail.get("full_text") or "")
        note = mail.get("note") if isinstance(mail.get("note"), dict) else None
        if whole.strip():
            system = self.message.author_kind == "system"
            text = email_notes.whole_text(whole, note, system, _)
            if system:  # the channel's note on the automatic mail (an absence, a bounce)
                lead = shown_body(self.message, note=note).split("\n", 1)[0]
                text = lead + "\n\n" + text
            self.query_one("#whole-text", Static).update(safe(text, limit=FULL_LIMIT))
            self._title(self.query_one(VerticalScroll), len(whole))
        items = [a for a in mail.get("attachments") or [] if isinstance(a, dict)]
        if items:
            widget = self.query_one("#mail-attachments", Static)
            widget.update(attachment_lines(items))
            widget.display = True
