"""`cs-tui phrases ...`, `cs-tui kb ...` and `cs-tui check ...`: quick replies, the knowledge
base and the language checks from the command line."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from cs_tui.commands.errors import UserError
from cs_tui.commands.options import add_command

if TYPE_CHECKING:
    from cs_tui.config import Settings
    from cs_tui.data.kb_store import ArticleView
    from cs_tui.phrases import PhraseLibrary


def _search_options(parser: argparse.ArgumentParser, things: str) -> None:
    parser.add_argument("query", metavar="QUERY")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--lang", choices=("zh", "en"), help=f"only {things} in this language")
    parser.add_argument("--limit", type=int, default=10, help="how many results (default 10)")


def register(subparsers: argparse._SubParsersAction) -> None:
    phrases = subparsers.add_parser("phrases", help="quick-reply phrase packs")
    phrase_sub = phrases.add_subparsers(dest="phrases_command", metavar="ACTION", required=True)

    check = add_command(
        phrase_sub,
        "check",
        cmd_phrases_check,
        store=False,
        help="validate phrase packs",
        description="Validate packs: TOML syntax, missing fields, duplicate ids or shortcuts, "
        "unknown variables. Without PATH: the packs the app loads (shipped, team, personal). "
        "Exit status 1 when there are problems.",
    )
    check.add_argument("paths", nargs="*", metavar="PATH", help="pack files or folders")

    # The store is optional here: it only ranks the agent's recently used phrases first.
    search = add_command(phrase_sub, "search", cmd_phrases_search, help="search quick replies")
    _search_options(search, "phrases")

    listing = add_command(
        phrase_sub, "list", cmd_phrases_list, store=False, help="list quick replies by category"
    )
    listing.add_argument("--lang", choices=("zh", "en"), help="only phrases in this language")
    listing.add_argument("--json", action="store_true", help="print JSON")

    add = add_command(
        phrase_sub,
        "add",
        cmd_phrases_add,
        help="save a personal phrase (--mine)",
        description="Save a quick reply of your own in the store: it is offered next to the "
        "team's phrases in the picker, marked as yours, on any terminal you sign in at. "
        "Placeholders such as {amount} become blanks to fill in. The team's phrases live in "
        "pack files (team_phrases in the config), so --mine is required.",
    )
    add.add_argument("text", metavar="TEXT", help="the phrase's text; - reads standard input")
    add.add_argument("--mine", action="store_true", help="a phrase of your own (required)")
    add.add_argument("--title", required=True, help="what the picker lists it as")
    add.add_argument("--shortcut", help="a word to find it by, unique among your phrases")
    add.add_argument("--lang", choices=("zh", "en"), help="its language (default: from the text)")

    mine = add_command(phrase_sub, "mine", cmd_phrases_mine, help="list your personal phrases")
    mine.add_argument("--json", action="store_true", help="print JSON")

    remove = add_command(
        phrase_sub, "remove", cmd_phrases_remove, help="delete one of your personal phrases"
    )
    remove.add_argument("id", type=int, metavar="ID", help="its number (see phrases mine)")
    remove.add_argument("--mine", action="store_true", help="a phrase of your own (required)")

    kb = subparsers.add_parser("kb", help="the knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)

    kb_import = add_command(
        kb_sub,
        "import",
        cmd_kb_import,
        help="import articles from Markdown files or JSONL",
        description="Import a folder of Markdown files with front matter (title, category, "
        "tags), one .md file, or a .jsonl file. Articles with the same slug are updated.",
    )
    kb_import.add_argument("path", nargs="?", metavar="PATH")
    kb_import.add_argument(
        "--sample", action="store_true", help="import the sample knowledge base shipped with cs-tui"
    )

    kb_search = add_command(kb_sub, "search", cmd_kb_search, help="search articles")
    _search_options(kb_search, "articles")

    kb_list = add_command(kb_sub, "list", cmd_kb_list, help="list articles")
    kb_list.add_argument("--json", action="store_true", help="print JSON")
    kb_list.add_argument("--limit", type=int, default=None, help="at most this many")

    kb_show = add_command(kb_sub, "show", cmd_kb_show, help="print one article")
    kb_show.add_argument("article", metavar="ID_OR_SLUG")

    check_text = add_command(
        subparsers,
        "check",
        cmd_check,
        store=False,
        help="check a reply for phrases to avoid",
        description="Print the phrases to avoid in TEXT (- reads standard input), with reasons and "
        "suggestions. Exit status 1 when something was found.",
    )
    check_text.add_argument("text", metavar="TEXT")
    check_text.add_argument("--json", action="store_true", help="print JSON")
    check_text.add_argument("--lang", choices=("zh", "en"), help="rules of this language only")
    check_text.add_argument(
        "--elements", action="store_true", help="also list the elements of a good reply found"
    )


# --------------------------------------------------------------------------- helpers


def _out(text: str) -> None:
    from cs_tui.commands.common import out

    out(text)


def _json(value: object) -> None:
    from cs_tui.commands.common import print_json

    print_json(value)


def _settings(args: argparse.Namespace) -> Settings:
    from cs_tui.commands.common import settings_for

    return settings_for(args)


def _one_line(text: str, width: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _limit(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1")
    return args.limit


# --------------------------------------------------------------------------- phrases


def cmd_phrases_check(args: argparse.Namespace) -> int:
    from cs_tui.commands.common import print_problems
    from cs_tui.phrases import check_paths

    if print_problems(check_paths(args.paths, None if args.paths else _settings(args))):
        return 1
    _out("all packs are valid")
    return 0


def _library(args: argparse.Namespace) -> PhraseLibrary:
    from cs_tui.phrases import PhraseLibrary

    library, _problems = PhraseLibrary.load(_settings(args))
    for skipped in library.skipped:
        print(f"cs-tui: skipped pack {skipped}", file=sys.stderr)
    return library


def _with_store(
    args: argparse.Namespace, library: PhraseLibrary
) -> tuple[PhraseLibrary, dict[str, float]]:
    """The agent's own phrases and recent phrase use, when a store is named and reachable;
    search works without them."""
    import os

    from cs_tui.phrases import personal_phrase
    from cs_tui.search import recency_boost

    if not (getattr(args, "db", None) or os.environ.get("CS_TUI_DB")):
        return library, {}  # no store named: do not create the default one just to rank
    try:
        from cs_tui.commands.common import current_agent, open_store

        with open_store(args) as store:
            agent = current_agent(store, args)
            own = store.personal_phrases(agent.id)
            boost = recency_boost(store.recent_phrase_uses(agent.id), store.clock.now())
    except Exception:  # the store is a nicety here: never fail a search for it
        return library, {}
    mine = (personal_phrase(p.id, p.title, p.body, p.shortcut, p.lang) for p in own)
    return library.with_personal(mine), boost


def cmd_phrases_search(args: argparse.Namespace) -> int:
    limit = _limit(args)
    library, boost = _with_store(args, _library(args))
    hits = library.search(args.query, limit, lang=args.lang, boost=boost)
    if args.json:
        _json([hit.to_json() for hit in hits])
        return 0
    if not hits:
        _out(f"no phrase matches {args.query!r}")
        return 0
    for hit in hits:
        phrase = hit.entry.payload
        mine = "  (mine)" if phrase.layer == "personal" else ""
        _out(f"{hit.score:5.1f}  {phrase.shortcut:<14} {_one_line(phrase.title, 24)}{mine}")
        _out(f"       {_one_line(phrase.body, 72)}")
    return 0


def cmd_phrases_list(args: argparse.Namespace) -> int:
    library = _library(args)
    grouped = library.by_category(args.lang)
    if args.json:
        _json(
            {
                category: [
                    {
                        "id": p.id,
                        "shortcut": p.shortcut,
                        "title": p.title,
                        "body": p.body,
                        "lang": p.lang,
                        "emotion": p.emotion,
                    }
                    for p in items
                ]
                for category, items in grouped.items()
            }
        )
        return 0
    for category, items in grouped.items():
        _out(f"{category} ({len(items)})")
        for phrase in items:
            _out(f"  {phrase.shortcut:<14} {_one_line(phrase.title, 40)}")
    return 0


def _require_mine(args: argparse.Namespace) -> None:
    if not args.mine:
        raise UserError(
            "only personal phrases are kept in the store: add --mine (the team's phrases "
            "live in pack files named by team_phrases in the config)"
        )


def cmd_phrases_add(args: argparse.Namespace) -> int:
    from cs_tui.commands.common import current_agent, open_store

    _require_mine(args)
    text = sys.stdin.read() if args.text == "-" else args.text
    with open_store(args) as store:
        agent = current_agent(store, args)
        phrase = store.add_personal_phrase(
            agent, args.title, text, shortcut=args.shortcut, lang=args.lang
        )
    shortcut = f" (/{phrase.shortcut})" if phrase.shortcut else ""
    _out(f"saved personal phrase #{phrase.id} {_one_line(phrase.title, 40)}{shortcut}")
    return 0


def cmd_phrases_mine(args: argparse.Namespace) -> int:
    from cs_tui.commands.common import current_agent, open_store

    with open_store(args) as store:
        agent = current_agent(store, args)
        phrases = store.personal_phrases(agent.id)
    if args.json:
        _json(
            [
                {
                    "id": p.id,
                    "title": p.title,
                    "body": p.body,
                    "shortcut": p.shortcut,
                    "lang": p.lang,
                }
                for p in phrases
            ]
        )
        return 0
    if not phrases:
        _out("no personal phrases yet (cs-tui phrases add --mine --title TITLE TEXT)")
    for phrase in phrases:
        shortcut = phrase.shortcut or "-"
        _out(f"#{phrase.id:<5} {shortcut:<14} {_one_line(phrase.title, 40)}")
        _out(f"       {_one_line(phrase.body, 72)}")
    return 0


def cmd_phrases_remove(args: argparse.Namespace) -> int:
    from cs_tui.commands.common import current_agent, open_store

    _require_mine(args)
    with open_store(args) as store:
        store.remove_personal_phrase(current_agent(store, args), args.id)
    _out(f"removed personal phrase #{args.id}")
    return 0


# --------------------------------------------------------------------------- knowledge base


def cmd_kb_import(args: argparse.Namespace) -> int:
    from cs_tui.commands.common import current_agent, open_store
    from cs_tui.kb import load_path, sample_articles

    if args.sample and args.path:
        raise UserError("give either PATH or --sample, not both")
    if args.sample:
        records, problems = sample_articles(), []
        source = "the sample knowledge base"
    elif args.path:
        result = load_path(args.path)
        records, problems = result.records, result.problems
        source = args.path
    else:
        raise UserError("kb import needs a PATH (folder, .md or .jsonl) or --sample")
    for problem in problems:
        print(f"cs-tui: skipped {problem}", file=sys.stderr)
    if not records:
        raise UserError(f"no articles to import from {source}")
    with open_store(args) as store:
        # The knowledge base is what every agent quotes to customers: the team's lead decides.
        agent = store.require_supervisor(
            current_agent(store, args), "import articles into the knowledge base"
        )
        inserted, updated = store.upsert_articles(records, actor_id=agent.id)
    _out(
        f"imported {inserted} new and updated {updated} article(s) from {source}"
        + (f"; skipped {len(problems)}" if problems else "")
    )
    return 1 if problems else 0


def _articles(args: argparse.Namespace, limit: int | None = None) -> list[ArticleView]:
    from cs_tui.commands.common import current_agent, open_store

    with open_store(args) as store:
        current_agent(store, args)  # a member of the team, not disabled
        return store.articles(limit)


def cmd_kb_search(args: argparse.Namespace) -> int:
    from cs_tui.kb import article_entries, category_name
    from cs_tui.search import SearchIndex

    limit = _limit(args)
    articles = _articles(args)
    if not articles:
        if args.json:
            _json([])
        print(
            "cs-tui: the knowledge base is empty; import articles with "
            "`cs-tui kb import PATH` or `cs-tui kb import --sample`",
            file=sys.stderr,
        )
        return 1
    hits = SearchIndex.build(article_entries(articles)).search(args.query, limit, lang=args.lang)
    if args.json:
        _json([hit.to_json() for hit in hits])
        return 0
    if not hits:
        _out(f"no article matches {args.query!r}")
        return 0
    for hit in hits:
        _out(
            f"{hit.score:5.1f}  #{hit.entry.id:<6} {_one_line(hit.title, 50)}"
            f"  [{category_name(hit.entry.category, translate=False)}]"
        )
        if hit.snippet:
            _out(f"       {_one_line(hit.snippet, 72)}")
    return 0


def cmd_kb_list(args: argparse.Namespace) -> int:
    from cs_tui.kb import category_name

    articles = _articles(args, args.limit)
    if args.json:
        _json(
            [
                {
                    "id": a.id,
                    "slug": a.slug,
                    "title": a.title,
                    "category": a.category,
                    "tags": list(a.tags),
                    "lang": a.lang,
                }
                for a in articles
            ]
        )
        return 0
    if not articles:
        _out("the knowledge base is empty")
        return 0
    for article in articles:
        _out(
            f"#{article.id:<6} {article.lang}  "
            f"{category_name(article.category, translate=False):<18} {_one_line(article.title, 50)}"
        )
    return 0


def cmd_kb_show(args: argparse.Namespace) -> int:
    from cs_tui.commands.common import current_agent, open_store
    from cs_tui.kb import category_name

    with open_store(args) as store:
        current_agent(store, args)  # a member of the team, not disabled
        article = store.article(args.article)
    if article is None:
        raise UserError(f"no article {args.article!r}")
    _out(f"# {article.title}")
    category = category_name(article.category, translate=False)
    _out(f"{category} · {', '.join(article.tags)} · {article.lang} · {article.slug}")
    _out("")
    for line in article.body.splitlines():
        _out(line)
    return 0


# --------------------------------------------------------------------------- check


def cmd_check(args: argparse.Namespace) -> int:
    from cs_tui import compliance

    text = sys.stdin.read() if args.text == "-" else args.text
    findings = compliance.check(text, args.lang)
    spans = compliance.elements(text, args.lang) if args.elements else []
    if args.json:
        if args.elements:
            _json(
                {
                    "findings": [f.to_json() for f in findings],
                    "elements": [e.to_json() for e in spans],
                }
            )
        else:
            _json([f.to_json() for f in findings])
        return 1 if findings else 0
    if not findings:
        _out("no phrases to avoid")
    for finding in findings:
        _out(f"{finding.start}-{finding.end} {finding.rule}: 「{finding.text}」 {finding.reason}")
        _out(f"    instead: {finding.suggestion}")
    if args.elements:
        present = {e.element for e in spans}
        for name in compliance.ELEMENTS:
            mark = "yes" if name in present else "no "
            found = next((e.text for e in spans if e.element == name), "")
            _out(f"{mark} {name:<16} {_one_line(found, 50)}")
    return 1 if findings else 0
