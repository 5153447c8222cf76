"""What a JSONL message line must hold (see cs_tui.data.io), checked without the data layer.

Pure and light: untrusted lines are checked with no database in reach, and a large import
parses ahead in a second process that imports only this module (not SQLAlchemy).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from cs_tui.clock import utc_text
from cs_tui.sla import CATEGORIES, CHANNELS, PRIORITIES

# What an agent handle may be (it appears in SSH forced commands and file names). \Z, not $:
# `$` also matches before a trailing newline, which let "alice\n" through.
HANDLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}\Z")
REQUIRED = ("message_id", "conversation_id", "channel", "customer", "author", "text", "sent_at")
AUTHORS = ("customer", "agent", "note", "system")
MAX_TEXT = 1_000_000
MAX_ID = 200
# Deeper JSON is no message: the decoder recurses per level and gives up near 1,000 levels.
MAX_DEPTH = 64
# A time this close to the ends of what datetime holds has SLA deadlines (hours to days
# later, a follow-up a day after) that cannot be computed.
MIN_YEAR, MAX_YEAR = 2, 9998


@dataclass(slots=True)
class IngestRecord:
    """One validated JSONL line, as the store ingests it.

    Not frozen: a frozen dataclass builds itself through object.__setattr__, which was a tenth
    of the import time at hundreds of thousands of lines."""

    message_id: str
    conversation_id: str
    channel: str
    customer: str
    author: str
    text: str
    sent_at: datetime
    customer_name: str | None = None
    agent: str | None = None
    category: str | None = None
    priority: str | None = None
    tags: tuple[str, ...] = ()
    csat: int | None = None
    # sent_at as SQLite stores it (UTC, fixed width, microseconds), made where the line is
    # checked: in a large import that is the parser process, not the one writing the store.
    sent_text: str | None = None
    # Where the line came from, so a line the store or a role rule refuses later is still
    # reported as FILE:LINE and copied to the rejects file (cs_tui.data.io).
    line_no: int | None = None


class LineError(ValueError):
    """Why one line was rejected."""


def _text_field(
    obj: dict, key: str, *, max_len: int = MAX_ID, required: bool = True, is_id: bool = False
) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise LineError(f"missing field {key!r}")
        return None
    if not isinstance(value, str):
        raise LineError(f"{key!r} must be a string")
    if required and not value.strip():
        raise LineError(f"{key!r} is empty")
    if len(value) > max_len:
        raise LineError(f"{key!r} is longer than {max_len} characters")
    if is_id and not value.isprintable():
        # Rejected, not cleaned: an id must come back out exactly as it went in.
        raise LineError(f"{key!r} holds a control or other non-printable character")
    return value


def _storable(key: str, value: str) -> None:
    """Free text is stored as given, except what no store can hold: PostgreSQL refuses NUL in
    text, and neither store can encode half of a surrogate pair (a lone "\\ud800" escape)."""
    if "\x00" in value:
        raise LineError(f"{key!r} holds a NUL character (\\u0000)")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise LineError(f"{key!r} holds a lone surrogate (half of a \\u escape pair)") from None


def _shown(value: object) -> str:
    """A rejected value as a reason may quote it: only short, printable strings (a field
    holding customer text by mistake is named, not printed)."""
    if type(value) is str and len(value) <= 40 and value.isprintable():
        return f" {value!r}"
    return ""


_REQUIRED_SET = frozenset(REQUIRED)
_CHANNEL_SET = frozenset(CHANNELS)
_AUTHOR_SET = frozenset(AUTHORS)
_CATEGORY_SET = frozenset(CATEGORIES)
_PRIORITY_SET = frozenset(PRIORITIES)


def check_line(obj: object, *, escapes: bool = True) -> IngestRecord:
    """Validate one decoded line (sent_at comes back in UTC). The common,
    well-formed line takes a short path (ingest speed is a target); anything unusual falls
    through to checks that say exactly what is wrong.

    `escapes=False` says the line's JSON held no escape at all, so its free text cannot hold
    a NUL or a lone surrogate (check_raw knows; a caller with only the object does not)."""
    if not isinstance(obj, dict):
        raise LineError("a line must be a JSON object")
    if not obj.keys() >= _REQUIRED_SET:
        missing = [k for k in REQUIRED if k not in obj]
        raise LineError(f"missing field {missing[0]!r}")
    message_id = obj["message_id"]
    conversation_id = obj["conversation_id"]
    customer = obj["customer"]
    for value in (message_id, conversation_id, customer):
        if (
            type(value) is not str
            or not value.strip()
            or len(value) > MAX_ID
            or not value.isprintable()
        ):
            # The slow path says which field and what is wrong with it.
            for key in ("message_id", "conversation_id", "customer"):
                _text_field(obj, key, is_id=True)
    channel = obj["channel"]
    if type(channel) is not str or channel not in _CHANNEL_SET:
        raise LineError(f"unknown channel{_shown(channel)} (known: {', '.join(CHANNELS)})")
    author = obj["author"]
    if type(author) is not str or author not in _AUTHOR_SET:
        raise LineError(f"unknown author{_shown(author)} (known: {', '.join(AUTHORS)})")
    text = obj["text"]
    if not isinstance(text, str):
        raise LineError("'text' must be a string")
    if len(text) > MAX_TEXT:
        raise LineError(f"'text' is longer than {MAX_TEXT} characters")
    if escapes and ("\x00" in text or not text.isascii()):
        _storable("text", text)
    sent_at = _sent_at(obj["sent_at"])
    category = priority = agent = customer_name = csat = None
    tags: tuple[str, ...] = ()
    if len(obj) > 7:
        get = obj.get
        category = get("category")
        if category is not None and (type(category) is not str or category not in _CATEGORY_SET):
            _text_field(obj, "category", required=False)
            raise LineError(f"unknown category{_shown(category)} (known: {', '.join(CATEGORIES)})")
        priority = get("priority")
        if priority is not None and (type(priority) is not str or priority not in _PRIORITY_SET):
            _text_field(obj, "priority", required=False)
            raise LineError(f"unknown priority{_shown(priority)} (known: {', '.join(PRIORITIES)})")
        agent = get("agent")
        if agent is not None and (type(agent) is not str or len(agent) > 64):
            _text_field(obj, "agent", required=False, max_len=64)
        customer_name = get("customer_name")
        if customer_name is not None and (
            type(customer_name) is not str or len(customer_name) > MAX_ID
        ):
            _text_field(obj, "customer_name", required=False)
        if escapes and customer_name is not None:
            _storable("customer_name", customer_name)
        raw_tags = obj.get("tags")
        if raw_tags:
            if not isinstance(raw_tags, list) or not all(
                isinstance(t, str) and t.strip() for t in raw_tags
            ):
                raise LineError("'tags' must be a list of non-empty strings")
            if any(len(t) > 32 for t in raw_tags):
                raise LineError("a tag has at most 32 characters")
            if not all(t.isprintable() for t in raw_tags):
                raise LineError("a tag holds a control or other non-printable character")
            tags = tuple(" ".join(t.split()) for t in raw_tags)
        csat = obj.get("csat")
        if csat is not None and (
            isinstance(csat, bool) or not isinstance(csat, int) or not 1 <= csat <= 5
        ):
            raise LineError("'csat' must be an integer from 1 to 5")
        absent = (category, priority, agent, customer_name, raw_tags, csat).count(None)
        if len(obj) > 13 - absent:  # fields nobody stores: only their depth matters
            _check_unknown_fields(obj)
    if author in ("agent", "note") and not agent:
        raise LineError(f"an {author} line needs 'agent'")
    if agent is not None and not HANDLE_RE.match(agent):
        raise LineError(f"'agent'{_shown(agent)} is not a usable handle")
    return IngestRecord(
        message_id,
        conversation_id,
        channel,
        customer,
        author,
        text,
        sent_at,
        customer_name,
        agent,
        category,
        priority,
        tags,
        csat,
        utc_text(sent_at),
    )


_KNOWN_SET = frozenset(
    (*REQUIRED, "customer_name", "agent", "category", "priority", "tags", "csat")
)


def _check_unknown_fields(obj: dict) -> None:
    """Fields the store ignores are still part of the line: a line nested deeper than
    MAX_DEPTH is refused whichever field holds the depth."""
    for key, value in obj.items():
        if key not in _KNOWN_SET and _deeper_than(value, MAX_DEPTH - 1):
            raise LineError(f"nested deeper than {MAX_DEPTH} levels")


def _deeper_than(value: object, limit: int) -> bool:
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children: Iterable[object]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def _sent_at(raw_time: object) -> datetime:
    if not isinstance(raw_time, str):
        raise LineError("'sent_at' must be an ISO 8601 string")
    try:
        sent_at = datetime.fromisoformat(raw_time)
    except ValueError:
        raise LineError(f"'sent_at'{_shown(raw_time)} is not ISO 8601") from None
    if sent_at.tzinfo is None:
        raise LineError(f"'sent_at'{_shown(raw_time)} has no UTC offset")
    # Checked before the conversion to UTC, which itself overflows at the very ends.
    if not MIN_YEAR <= sent_at.year <= MAX_YEAR:
        raise LineError(
            f"'sent_at' must fall between the years {MIN_YEAR} and {MAX_YEAR} "
            "(its SLA deadlines could not be computed)"
        )
    if sent_at.utcoffset():
        sent_at = sent_at.astimezone(UTC)
    return sent_at


def check_raw(raw: str) -> IngestRecord:
    """One line of a file as a record, or LineError saying what is wrong with it. Whatever
    the line holds, nothing else is raised: a poison line must never stop an import."""
    if not raw.isascii():
        try:
            raw.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise LineError(f"not UTF-8 text (character {exc.start + 1})") from None
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LineError(f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    except ValueError:  # the only other: an integer beyond int_max_str_digits
        limit = sys.get_int_max_str_digits()
        raise LineError(f"a number has more than {limit:,} digits") from None
    except RecursionError:  # far deeper than MAX_DEPTH: the decoder gave up
        raise LineError(f"nested deeper than {MAX_DEPTH} levels") from None
    # Without a backslash the decoded strings are slices of the raw line, which is valid UTF-8
    # and, being JSON, holds no control character inside a string: no NUL, no lone surrogate.
    # (One character to look for: a two-character search costs several times more.)
    return check_line(obj, escapes="\\" in raw)


def check_chunk(
    args: tuple[int, list[str]],
) -> tuple[list[IngestRecord], list[tuple[int, str, str]]]:
    """The good lines' records and the bad lines as (line number, raw line, reason)."""
    first_line, lines = args
    if first_line == 1 and lines and lines[0].startswith("\ufeff"):
        lines = [lines[0][1:], *lines[1:]]  # a byte order mark opens the file, not a line
    rejects: list[tuple[int, str, str]] = []
    records: list[IngestRecord] = []
    for number, raw in enumerate(lines, first_line):
        if not raw.strip():
            continue
        try:
            record = check_raw(raw)
        except LineError as exc:
            rejects.append((number, raw, str(exc)))
            continue
        except Exception as exc:  # a check that failed in a way nobody foresaw
            rejects.append((number, raw, f"could not be checked ({type(exc).__name__})"))
            continue
        record.line_no = number
        records.append(record)
    return records, rejects


def check_chunk_plain(args: tuple[int, list[str]]) -> tuple[list[tuple], list[tuple]]:
    """check_chunk for a parser process: plain tuples cross between processes at C speed, a
    dataclass costs a Python call each way."""
    records, rejects = check_chunk(args)
    return [
        (
            r.message_id,
            r.conversation_id,
            r.channel,
            r.customer,
            r.author,
            r.text,
            r.sent_at,
            r.customer_name,
            r.agent,
            r.category,
            r.priority,
            r.tags,
            r.csat,
            r.sent_text,
            r.line_no,
        )
        for r in records
    ], rejects


def parser_process_start(parent: int | None = None) -> None:
    """The parser process only helps on a spare core: at a lower priority it gives way to the
    importing process and to everyone else's work on a shared host instead of competing.
    Given the importing process's pid, it also ends when that process does, however it died
    (a killed import must leave no process behind)."""
    with contextlib.suppress(AttributeError, OSError):  # no os.nice on Windows
        os.nice(10)
    if parent is not None:
        _end_with(parent)


PR_SET_PDEATHSIG = 1  # linux/prctl.h
PARENT_CHECK_S = 1.0


def _end_with(parent: int) -> None:
    """Linux kills this process the moment its parent dies (PR_SET_PDEATHSIG); everywhere, a
    thread notices within a second that the parent is gone (this process was handed on to
    another parent) and ends it."""
    import signal

    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before any of this was in place
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)
