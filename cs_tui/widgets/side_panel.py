"""The side panel: Phrases, Customer and Knowledge tabs.

Phrases and articles are searched in thread workers as the agent types (the newest keystroke
wins: older searches are cancelled through `cs_tui.search.LatestQuery`). Everything shown comes
from packs, the knowledge base or the customer record, so it is all rendered through safe_text.
The panel never writes: inserting text and changing tags are messages to the screen. Text on its
way into the composer (phrase bodies with their blanks filled from the customer record, article
answers) loses escape sequences and control characters in `Insert` itself, so no sender of an
Insert can put them into a reply.

Knowledge: Enter on a result moves into the article's preview (`ArticlePreview`), where the agent
picks the paragraph (or several) to insert; the rendering and what is inserted are one
(`cs_tui.kb_markdown`). Categories show by name, never by their stored code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from cs_tui.data.views import ConversationDetail, QueueRow
from cs_tui.i18n import N_, _
from cs_tui.safe_text import one_line, safe
from cs_tui.widgets import labels
from cs_tui.widgets.kb_preview import ArticlePreview, article_title
from cs_tui.widgets.side_sources import (
    ArticleItem,
    KnowledgeSource,
    PhraseItem,
    PhraseSource,
)

if TYPE_CHECKING:
    from textual.widgets import TabbedContent

    from cs_tui.data.store import Store
    from cs_tui.search import LatestQuery

PREVIEW_LIMIT = 2000


class SearchInput(Input):
    """An Input whose Down key moves into the result list below it."""

    BINDINGS = [Binding("down", "app.focus_next", N_("Results"), show=False)]


class ResultList(OptionList):
    BINDINGS = [
        Binding("escape", "leave", N_("Back"), show=False),
    ]

    class Leave(Message):
        pass

    def action_leave(self) -> None:
        self.post_message(self.Leave())


class TagList(OptionList):
    BINDINGS = [
        Binding("delete,d,backspace", "remove", N_("Remove tag"), id="customer.untag"),
    ]

    class Remove(Message):
        def __init__(self, tag: str) -> None:
            super().__init__()
            self.tag = tag

    def action_remove(self) -> None:
        if self.highlighted is None:
            return
        option = self.get_option_at_index(self.highlighted)
        if option.id:
            self.post_message(self.Remove(option.id.removeprefix("tag:")))


class SidePanel(Vertical):
    DEFAULT_CSS = """
    SidePanel TabPane { padding: 0; }
    SidePanel OptionList { height: 1fr; border: none; }
    SidePanel .preview { height: auto; max-height: 8; border-top: solid $primary-lighten-2; }
    SidePanel #customer-info { height: auto; padding: 0 1; }
    SidePanel .section { color: $text-muted; padding: 0 1; }
    SidePanel #kb-list { text-wrap: nowrap; text-overflow: ellipsis; }
    SidePanel #tab-knowledge.-reading #kb-list { height: 4; }
    SidePanel #tab-knowledge.-reading #kb-preview { height: 1fr; }
    """

    class Insert(Message):
        """Put this text into the composer (which drops escape sequences and control
        characters from whatever it is given: see Composer.insert_text)."""

        def __init__(self, text: str, source: str) -> None:
            super().__init__()
            self.text = text
            self.source = source

    class CustomerTag(Message):
        def __init__(self, tag: str, add: bool) -> None:
            super().__init__()
            self.tag = tag
            self.add = add

    class OpenConversation(Message):
        def __init__(self, conversation_id: int) -> None:
            super().__init__()
            self.conversation_id = conversation_id

    class Leave(Message):
        pass

    def __init__(
        self, store: Store, lang: str, *, knowledge: KnowledgeSource | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.lang = lang
        self.content_lang = lang
        """The customer's language: phrases and articles in it come first."""
        self.knowledge = knowledge or KnowledgeSource(store)
        """Usually the app's: one index per app, not one per panel or language."""
        self.phrases: PhraseSource | None = None
        self.variables: dict[str, str] = {}
        self.emotion: str | None = None
        self._phrase_items: dict[str, PhraseItem] = {}
        self._articles: dict[str, ArticleItem] = {}
        self._latest_phrase: LatestQuery | None = None
        self._latest_article: LatestQuery | None = None
        self.ready = False
        """True once the tabs are mounted (just after the first frame)."""
        self._pending_tab: str | None = None
        self._building = False
        self._detail: ConversationDetail | None = None
        self._history: list[QueueRow] = []
        self._history_current: int | None = None

    def compose(self) -> ComposeResult:
        # Built after the first frame (see on_mount): the queue is what an agent needs first,
        # and these tabs cost about a fifth of a second to mount.
        return iter(())

    def build_soon(self) -> None:
        """Mount the tabs once the first frame is out (the screen calls this)."""
        if not self.ready and not self._building:
            self._building = True
            self.call_after_refresh(self._build)

    async def _build(self) -> None:
        # cs_tui.search brings rapidfuzz and the pinyin tables: nothing searches before the
        # tabs exist, so neither is loaded before the first frame; nor are Textual's tabs.
        from textual.widgets import TabbedContent, TabPane

        from cs_tui.search import LatestQuery

        self._latest_phrase = LatestQuery()
        self._latest_article = LatestQuery()
        tags = TagList(id="customer-tags")
        history = ResultList(id="customer-history")
        tags.styles.height = "auto"
        history.styles.height = "auto"
        panes = [
            TabPane(
                _("Phrases"),
                SearchInput(placeholder=_("Search phrases (pinyin ok)"), id="phrase-search"),
                ResultList(id="phrase-list"),
                Static("", id="phrase-preview", classes="preview"),
                id="tab-phrases",
            ),
            TabPane(
                _("Customer"),
                VerticalScroll(
                    Static(_("No conversation open."), id="customer-info"),
                    Static(_("Tags (d removes)"), classes="section"),
                    tags,
                    Input(placeholder=_("Add a tag, Enter"), id="customer-tag-input"),
                    Static(_("History on every channel (Enter opens)"), classes="section"),
                    history,
                ),
                id="tab-customer",
            ),
            TabPane(
                _("Knowledge"),
                SearchInput(placeholder=_("Search the knowledge base"), id="kb-search"),
                ResultList(id="kb-list"),
                ArticlePreview(id="kb-preview"),
                id="tab-knowledge",
            ),
        ]
        if not self.is_attached:
            return  # the app is closing before the panel was ever needed
        # All panes in one mount: adding them one by one to a mounted TabbedContent races its
        # own compose when the app is busy (or already closing) and raised NoMatches. No
        # initial=: Phrases is the first pane anyway, and a named initial tab made the tab bar
        # raise ValueError when the app closed while this was being mounted.
        tabs = TabbedContent(id="side-tabs")
        for pane in panes:
            tabs.compose_add_child(pane)  # what `with TabbedContent():` does in compose
        await self.mount(tabs)
        if not self.query("#customer-info"):
            return  # closing: the panes were never composed
        self.ready = True
        self._show_customer(self._detail)
        self.set_history(self._history, self._history_current)
        if self.phrases is not None:
            self.search_phrases("")
        if self._pending_tab is not None:
            tab, self._pending_tab = self._pending_tab, None
            self.open_tab(tab)

    # -- entering the panel ----------------------------------------------------------------

    def open_tab(self, tab: str, *, focus_search: bool = True) -> None:
        if not self.ready:
            self._pending_tab = tab
            self.build_soon()
            return
        self._tabs().active = f"tab-{tab}"
        if tab == "phrases":
            self.query_one("#phrase-search", Input).focus()
            self.search_phrases(self.query_one("#phrase-search", Input).value)
        elif tab == "knowledge":
            self.query_one("#kb-search", Input).focus()
            self.search_knowledge(self.query_one("#kb-search", Input).value)
        elif tab == "customer":
            self.query_one("#customer-tags", TagList).focus()

    @property
    def active_tab(self) -> str:
        if not self.ready:
            return self._pending_tab or "phrases"
        return (self._tabs().active or "").removeprefix("tab-")

    def _tabs(self) -> TabbedContent:
        from textual.widgets import TabbedContent

        return self.query_one("#side-tabs", TabbedContent)

    # -- data from the screen --------------------------------------------------------------

    def set_phrases(self, source: PhraseSource) -> None:
        self.phrases = source
        if self.ready:
            self.search_phrases(self.query_one("#phrase-search", Input).value)

    def set_context(
        self,
        detail: ConversationDetail | None,
        variables: dict[str, str],
        emotion: str | None,
        content_lang: str | None = None,
    ) -> None:
        before = self._detail.row.id if self._detail is not None else None
        self.variables = variables
        self.emotion = emotion
        self.content_lang = content_lang or self.lang
        self._detail = detail
        if not self.ready:
            return
        if before is not None and before != (detail.row.id if detail is not None else None):
            # A knowledge search is about one customer's case (their order, their product):
            # the next conversation starts from an empty search, not the last one's hits.
            self.query_one("#kb-search", Input).value = ""
        self._show_customer(detail)
        if self.phrases is not None:
            self.search_phrases(self.query_one("#phrase-search", Input).value)

    def set_history(self, rows: list[QueueRow], current_id: int | None) -> None:
        self._history, self._history_current = rows, current_id
        if not self.ready:
            return
        history = self.query_one("#customer-history", ResultList)
        history.clear_options()
        for row in rows:
            line = Text()
            line.append(one_line(row.external_id, limit=40) + " ", style="dim")
            line.append(labels.label(labels.CHANNELS, row.channel) + " ")
            line.append(labels.label(labels.STATUSES, row.status) + " ", style="bold")
            line.append_text(safe(row.preview, single_line=True, limit=80))
            if row.id == current_id:
                line.append(" " + _("(this one)"), style="dim italic")
            history.add_option(Option(line, id=f"conv:{row.id}"))
        if not rows:
            history.add_option(Option(Text(_("No other conversations."), "dim"), disabled=True))

    def _show_customer(self, detail: ConversationDetail | None) -> None:
        info = self.query_one("#customer-info", Static)
        tags = self.query_one("#customer-tags", TagList)
        tags.clear_options()
        if detail is None:
            info.update(Text(_("No conversation open."), "dim"))
            return
        customer = detail.customer
        text = Text()
        text.append_text(safe(customer.name, single_line=True, limit=60, style="bold"))
        text.append("\n")
        text.append(_("Handle") + ": ", style="dim")
        text.append_text(safe(customer.handle, single_line=True, limit=60))
        text.append("\n")
        text.append(_("Tier") + ": ", style="dim")
        text.append(labels.label(labels.TIERS, customer.tier), style="bold")
        text.append("\n")
        text.append(_("Customer since") + ": ", style="dim")
        text.append(customer.created_at.astimezone().strftime("%Y-%m-%d"))
        info.update(text)
        for tag in customer.tags:
            tags.add_option(Option(safe("#" + tag, single_line=True), id=f"tag:{tag}"))
        if not customer.tags:
            tags.add_option(Option(Text(_("No tags yet."), "dim"), disabled=True))

    # -- phrases ---------------------------------------------------------------------------

    @on(Input.Changed, "#phrase-search")
    def _phrase_query(self, event: Input.Changed) -> None:
        self.search_phrases(event.value)

    def search_phrases(self, query: str) -> None:
        if self.phrases is None or self._latest_phrase is None or not self.ready:
            return
        self._phrase_worker(query, self._latest_phrase.begin())

    @work(thread=True, exclusive=True, group="phrase-search", exit_on_error=False)
    def _phrase_worker(self, query: str, cancel: Callable[[], bool]) -> None:
        from cs_tui.search import SearchCancelled

        assert self.phrases is not None
        try:
            if query.strip():
                items = self.phrases.search(
                    query, self.content_lang, emotion=self.emotion, cancel=cancel
                )
                grouped = None
            else:
                grouped = self.phrases.categories(self.content_lang)
                items = None
        except SearchCancelled:
            return
        if not cancel():
            self.app.call_from_thread(self._show_phrases, items, grouped)

    def _show_phrases(
        self, items: list[PhraseItem] | None, grouped: dict[str, list[PhraseItem]] | None
    ) -> None:
        listing = self.query_one("#phrase-list", ResultList)
        listing.clear_options()
        self._phrase_items = {}
        options: list[Option] = []
        if grouped is not None:
            # A follow-up that has come due: the follow-up visit phrases come first.
            if self._detail is not None and self._detail.row.sla_clock == "follow_up":
                follow = grouped.get("follow_up") or []
                if follow:
                    options.append(self._heading(_("Follow-up visit due")))
                    options.extend(self._phrase_option(p, "follow") for p in follow)
            emotion_first = [
                p
                for ps in grouped.values()
                for p in ps
                if self.emotion and p.emotion == self.emotion
            ]
            if emotion_first:
                options.append(self._heading(_("For this customer's mood")))
                options.extend(self._phrase_option(p, "mood") for p in emotion_first)
            for category, phrases in grouped.items():
                label = phrases[0].category_label if phrases else category
                options.append(self._heading(label))
                options.extend(self._phrase_option(p) for p in phrases)
        else:
            options.extend(self._phrase_option(p) for p in items or [])
            if not items:
                options.append(Option(Text(_("No matching phrase."), "dim"), disabled=True))
        listing.add_options(options)
        first = next((i for i, o in enumerate(options) if not o.disabled), None)
        if first is not None:
            listing.highlighted = first

    @staticmethod
    def _heading(label: str) -> Option:
        return Option(safe(f"— {label} —", single_line=True, style="bold"), disabled=True)

    def _phrase_option(self, item: PhraseItem, prefix: str = "") -> Option:
        key = f"phrase:{prefix}:{item.id}"
        self._phrase_items[key] = item
        text = Text()
        if item.emotion and item.emotion == self.emotion:
            text.append("* ", style="bold magenta")
        if item.personal:
            text.append(_("mine") + " ", style="bold green")
        text.append_text(safe(item.title, single_line=True, limit=60, style="bold"))
        if item.shortcut:
            text.append(" ")
            text.append_text(safe("/" + item.shortcut, single_line=True, limit=20, style="dim"))
        return Option(text, id=key)

    @on(OptionList.OptionHighlighted, "#phrase-list")
    def _phrase_preview(self, event: OptionList.OptionHighlighted) -> None:
        item = self._phrase_items.get(event.option.id or "")
        preview = self.query_one("#phrase-preview", Static)
        if item is None or self.phrases is None:
            preview.update("")
            return
        preview.update(safe(self.phrases.render(item, self.variables), limit=PREVIEW_LIMIT))

    @on(OptionList.OptionSelected, "#phrase-list")
    def _phrase_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        item = self._phrase_items.get(event.option.id or "")
        if item is not None and self.phrases is not None:
            self.post_message(self.Insert(self.phrases.render(item, self.variables), "phrase"))

    @on(Input.Submitted, "#phrase-search")
    def _phrase_submit(self, event: Input.Submitted) -> None:
        listing = self.query_one("#phrase-list", ResultList)
        if listing.highlighted is not None:
            listing.action_select()

    # -- knowledge -------------------------------------------------------------------------

    @on(Input.Changed, "#kb-search")
    def _kb_query(self, event: Input.Changed) -> None:
        self.search_knowledge(event.value)

    def knowledge_changed(self) -> None:
        """The articles changed: the query on show is asked again (the index rebuilds)."""
        if self.ready:
            self.search_knowledge(self.query_one("#kb-search", Input).value)

    def search_knowledge(self, query: str) -> None:
        if self._latest_article is None or not self.ready:
            return
        self._kb_worker(query, self._latest_article.begin())

    @work(thread=True, exclusive=True, group="kb-search", exit_on_error=False)
    def _kb_worker(self, query: str, cancel: Callable[[], bool]) -> None:
        from cs_tui.search import SearchCancelled

        try:
            items = self.knowledge.search(query, self.content_lang, cancel=cancel)
        except SearchCancelled:
            return
        if not cancel():
            self.app.call_from_thread(self._show_articles, items)

    def _show_articles(self, items: list[ArticleItem]) -> None:
        listing = self.query_one("#kb-list", ResultList)
        listing.clear_options()
        self._articles = {}
        for index, item in enumerate(items):
            key = f"kb:{index}"
            self._articles[key] = item
            text = Text()
            text.append_text(safe(item.title, single_line=True, limit=80, style="bold"))
            if item.category:
                text.append(" ")
                text.append_text(
                    safe(item.category_name(), single_line=True, limit=20, style="dim")
                )
            listing.add_option(Option(text, id=key))
        if not items:
            listing.add_option(Option(Text(_("No matching article."), "dim"), disabled=True))
            self.query_one(ArticlePreview).show(None, [], None)
        else:
            listing.highlighted = 0

    @on(OptionList.OptionHighlighted, "#kb-list")
    def _kb_preview(self, event: OptionList.OptionHighlighted) -> None:
        item = self._articles.get(event.option.id or "")
        preview = self.query_one(ArticlePreview)
        if item is None:
            preview.show(None, [], None)
            return
        title = article_title(item.title, item.category_name())
        preview.show(title, item.paragraphs, item.start)

    @on(OptionList.OptionSelected, "#kb-list")
    def _kb_chosen(self, event: OptionList.OptionSelected) -> None:
        """Enter on a result: read it and choose what to insert, in the preview."""
        event.stop()
        if event.option.id in self._articles:
            self.query_one(ArticlePreview).focus()

    @on(ArticlePreview.Chosen)
    def _kb_insert(self, event: ArticlePreview.Chosen) -> None:
        event.stop()
        if event.skipped:
            self.notify(_("Internal notes were left out."), severity="information")
        self.post_message(self.Insert(event.text, "article"))

    @on(ArticlePreview.Refused)
    def _kb_refused(self, event: ArticlePreview.Refused) -> None:
        event.stop()
        self.notify(
            _("Headings and internal notes are never put into a reply."), severity="warning"
        )

    @on(ArticlePreview.Back)
    def _kb_back(self, event: ArticlePreview.Back) -> None:
        event.stop()
        self.query_one("#kb-list", ResultList).focus()

    @on(Input.Submitted, "#kb-search")
    def _kb_submit(self, event: Input.Submitted) -> None:
        listing = self.query_one("#kb-list", ResultList)
        if listing.highlighted is not None:
            listing.action_select()

    # -- customer --------------------------------------------------------------------------

    @on(Input.Submitted, "#customer-tag-input")
    def _tag_add(self, event: Input.Submitted) -> None:
        tag = event.value.strip()
        if tag:
            self.post_message(self.CustomerTag(tag, True))
        event.input.value = ""

    @on(TagList.Remove)
    def _tag_remove(self, event: TagList.Remove) -> None:
        self.post_message(self.CustomerTag(event.tag, False))

    @on(OptionList.OptionSelected, "#customer-history")
    def _history_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id and event.option.id.startswith("conv:"):
            self.post_message(self.OpenConversation(int(event.option.id.removeprefix("conv:"))))

    @on(ResultList.Leave)
    def _leave(self, event: ResultList.Leave) -> None:
        event.stop()
        self.post_message(self.Leave())
