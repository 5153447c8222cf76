"""What a JSONL message line must hold (see cs_tui.data.io), checked without the data layer.

Pure and light: untrusted lines are checked with no database in reach, and a large import
parses ahead in a second process that imports only this module (not SQLAlchemy).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cs_tui.clock import utc_text
from cs_tui.sla import CATEGORIES, CHANNELS, PRIORITIES

# What an agent handle may be (it appears in SSH forced commands and file names).
HANDLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
REQUIRED = ("message_id", "conversation_id", "channel", "customer", "author", "text", "sent_at")
AUTHORS = ("customer", "agent", "note", "system")
MAX_TEXT = 1_000_000
MAX_ID = 200


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


class LineError(ValueError):
    """Why one line was rejected."""


def _text_field(obj: dict, key: str, *, max_len: int = MAX_ID, required: bool = True) -> str | None:
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
    return value


_REQUIRED_SET = frozenset(REQUIRED)
_CHANNEL_SET = frozenset(CHANNELS)
_AUTHOR_SET = frozenset(AUTHORS)
_CATEGORY_SET = frozenset(CATEGORIES)
_PRIORITY_SET = frozenset(PRIORITIES)


def check_line(obj: object) -> IngestRecord:
    """Validate one decoded line (sent_at comes back in UTC). The common,
    well-formed line takes a short path (ingest speed is a target); anything unusual falls
    through to checks that say exactly what is wrong."""
    if not isinstance(obj, dict):
        raise LineError("a line must be a JSON object")
    if not obj.keys() >= _REQUIRED_SET:
        missing = [k for k in REQUIRED if k not in obj]
        raise LineError(f"missing field {missing[0]!r}")
    message_id = obj["message_id"]
    conversation_id = obj["conversation_id"]
    customer = obj["customer"]
    for value in (message_id, conversation_id, customer):
        if type(value) is not str or not value.strip() or len(value) > MAX_ID:
            # The slow path says which field and what is wrong with it.
            for key in ("message_id", "conversation_id", "customer"):
                _text_field(obj, key)
    channel = obj["channel"]
    if type(channel) is not str or channel not in _CHANNEL_SET:
        raise LineError(f"unknown channel {str(channel)[:40]!r} (known: {', '.join(CHANNELS)})")
    author = obj["author"]
    if type(author) is not str or author not in _AUTHOR_SET:
        raise LineError(f"unknown author {str(author)[:40]!r} (customer or agent)")
    text = obj["text"]
    if not isinstance(text, str):
        raise LineError("'text' must be a string")
    if len(text) > MAX_TEXT:
        raise LineError(f"'text' is longer than {MAX_TEXT} characters")
    raw_time = obj["sent_at"]
    if not isinstance(raw_time, str):
        raise LineError("'sent_at' must be an ISO 8601 string")
    try:
        sent_at = datetime.fromisoformat(raw_time)
    except ValueError:
        raise LineError(f"'sent_at' {raw_time[:40]!r} is not ISO 8601") from None
    if sent_at.tzinfo is None:
        raise LineError(f"'sent_at' {raw_time[:40]!r} has no UTC offset")
    if sent_at.utcoffset():
        sent_at = sent_at.astimezone(UTC)
    category = priority = agent = customer_name = csat = None
    tags: tuple[str, ...] = ()
    if len(obj) > 7:
        get = obj.get
        category = get("category")
        if category is not None and (type(category) is not str or category not in _CATEGORY_SET):
            _text_field(obj, "category", required=False)
            raise LineError(f"unknown category {category[:40]!r} (known: {', '.join(CATEGORIES)})")
        priority = get("priority")
        if priority is not None and (type(priority) is not str or priority not in _PRIORITY_SET):
            _text_field(obj, "priority", required=False)
            raise LineError(f"unknown priority {priority[:40]!r} (known: {', '.join(PRIORITIES)})")
        agent = get("agent")
        if agent is not None and (type(agent) is not str or len(agent) > 64):
            _text_field(obj, "agent", required=False, max_len=64)
        customer_name = get("customer_name")
        if customer_name is not None and (
            type(customer_name) is not str or len(customer_name) > MAX_ID
        ):
            _text_field(obj, "customer_name", required=False)
        raw_tags = obj.get("tags")
        if raw_tags:
            if not isinstance(raw_tags, list) or not all(
                isinstance(t, str) and t.strip() for t in raw_tags
            ):
                raise LineError("'tags' must be a list of non-empty strings")
            if any(len(t) > 32 for t in raw_tags):
                raise LineError("a tag has at most 32 characters")
            tags = tuple(" ".join(t.split()) for t in raw_tags)
        csat = obj.get("csat")
        if csat is not None and (
            isinstance(csat, bool) or not isinstance(csat, int) or not 1 <= csat <= 5
        ):
            raise LineError("'csat' must be an integer from 1 to 5")
    if author in ("agent", "note") and not agent:
        raise LineError(f"an {author} line needs 'agent'")
    if agent is not None and not HANDLE_RE.match(agent):
        raise LineError(f"'agent' {agent[:40]!r} is not a usable handle")
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


def check_chunk(
    args: tuple[int, list[str]],
) -> tuple[list[IngestRecord], list[tuple[int, str, str]]]:
    """The good lines' records and the bad lines as (line number, raw line, reason)."""
    first_line, lines = args
    rejects: list[tuple[int, str, str]] = []
    records: list[IngestRecord] = []
    for offset, raw in enumerate(lines):
        number = first_line + offset
        if not raw.strip():
            continue
        if not raw.isascii():
            try:
                raw.encode("utf-8")
            except UnicodeEncodeError as exc:
                rejects.append((number, raw, f"not UTF-8 text (character {exc.start + 1})"))
                continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            rejects.append((number, raw, f"not valid JSON: {exc.msg} (column {exc.colno})"))
            continue
        try:
            records.append(check_line(obj))
        except LineError as exc:
            rejects.append((number, raw, str(exc)))
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
        )
        for r in records
    ], rejects


def parser_process_start() -> None:
    """The parser process only helps on a spare core: at a lower priority it gives way to the
    importing process and to everyone else's work on a shared host instead of competing."""
    with contextlib.suppress(AttributeError, OSError):  # no os.nice on Windows
        os.nice(10)
