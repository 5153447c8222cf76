"""JSONL import and export: one message per line.

Required: message_id, conversation_id, channel, customer, author, text, sent_at (ISO 8601 with an
offset). Optional: customer_name, agent, category, priority, tags, csat. Export also writes
`author` "note" and "system" for private notes and system lines, so an export re-imports exactly.
A bad line is reported with its number and reason and copied to FILE.rejects.jsonl; every good
line is imported.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from cs_tui.data.agents import HANDLE_RE
from cs_tui.data.views import IngestRecord
from cs_tui.sla import CATEGORIES, CHANNELS, PRIORITIES

REQUIRED = ("message_id", "conversation_id", "channel", "customer", "author", "text", "sent_at")
AUTHORS = ("customer", "agent", "note", "system")
MAX_TEXT = 1_000_000
MAX_ID = 200


class LineError(ValueError):
    """Why one line was rejected."""


@dataclass(frozen=True)
class Rejected:
    line_no: int
    raw: str
    reason: str


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


def parse_record(obj: object) -> IngestRecord:
    """Validate one decoded line. The common, well-formed line takes a short path (ingest speed
    is a target); anything unusual falls through to checks that say exactly what is wrong."""
    if not isinstance(obj, dict):
        raise LineError("a line must be a JSON object")
    if not _REQUIRED_SET.issubset(obj.keys()):
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
        sent_at,  # type: ignore[arg-type]
        customer_name,
        agent,
        category,
        priority,
        tags,
        csat,
    )


def read_jsonl(lines: Iterable[str], rejects: list[Rejected]) -> Iterator[IngestRecord]:
    """Good records from `lines`; bad ones are appended to `rejects` with their reason."""
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            rejects.append(
                Rejected(number, raw, f"not valid JSON: {exc.msg} at column {exc.colno}")
            )
            continue
        try:
            yield parse_record(obj)
        except LineError as exc:
            rejects.append(Rejected(number, raw, str(exc)))


def rejects_path(source: Path) -> Path:
    """FILE.rejects.jsonl beside the input."""
    return source.with_name(source.name + ".rejects.jsonl")


def write_rejects(path: Path, rejects: list[Rejected]) -> None:
    with path.open("w", encoding="utf-8", errors="surrogateescape") as fh:
        for rej in rejects:
            fh.write(rej.raw if rej.raw.endswith("\n") else rej.raw + "\n")


def dump_line(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_jsonl(rows: Iterable[dict], out: IO[str]) -> int:
    count = 0
    for row in rows:
        out.write(dump_line(row))
        count += 1
    return count


CHUNK_LINES = 5_000


def _parse_chunk(args: tuple[int, list[str]]) -> tuple[list[IngestRecord], list[Rejected]]:
    first_line, lines = args
    rejects: list[Rejected] = []
    records: list[IngestRecord] = []
    for offset, raw in enumerate(lines):
        number = first_line + offset
        if not raw.strip():
            continue
        if not raw.isascii():
            try:
                raw.encode("utf-8")
            except UnicodeEncodeError as exc:
                rejects.append(Rejected(number, raw, f"not UTF-8 text (character {exc.start + 1})"))
                continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            rejects.append(Rejected(number, raw, f"not valid JSON: {exc.msg} (column {exc.colno})"))
            continue
        try:
            records.append(parse_record(obj))
        except LineError as exc:
            rejects.append(Rejected(number, raw, str(exc)))
    return records, rejects


def _chunked(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    chunk: list[str] = []
    first = 1
    for number, raw in enumerate(lines, start=1):
        if not chunk:
            first = number
        chunk.append(raw)
        if len(chunk) >= CHUNK_LINES:
            yield first, chunk
            chunk = []
    if chunk:
        yield first, chunk


def ingest_lines(
    store, lines: Iterable[str], rejects: list[Rejected], *, actor=None, progress=None
):
    """Parse and store JSONL lines in batches; bad lines are appended to `rejects`.

    (Parsing in a second process was tried: pickling the records back cost more than it saved.)
    """
    from cs_tui.data.views import IngestResult

    total = IngestResult()
    for item in _chunked(lines):
        records, bad = _parse_chunk(item)
        rejects.extend(bad)
        part = store.ingest(records, actor=actor, batch_size=CHUNK_LINES)
        total.add(part)
        if progress:
            progress(part.lines)
    return total
