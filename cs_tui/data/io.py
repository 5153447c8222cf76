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
from datetime import datetime
from pathlib import Path
from typing import IO

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


def parse_record(obj: object) -> IngestRecord:
    if not isinstance(obj, dict):
        raise LineError("a line must be a JSON object")
    for key in REQUIRED:
        if key not in obj:
            raise LineError(f"missing field {key!r}")
    message_id = _text_field(obj, "message_id")
    conversation_id = _text_field(obj, "conversation_id")
    customer = _text_field(obj, "customer")
    channel = _text_field(obj, "channel")
    if channel not in CHANNELS:
        raise LineError(f"unknown channel {channel!r} (known: {', '.join(CHANNELS)})")
    author = _text_field(obj, "author")
    if author not in AUTHORS:
        raise LineError(f"unknown author {author!r} (customer or agent)")
    text = obj.get("text")
    if not isinstance(text, str):
        raise LineError("'text' must be a string")
    if len(text) > MAX_TEXT:
        raise LineError(f"'text' is longer than {MAX_TEXT} characters")
    raw_time = obj.get("sent_at")
    if not isinstance(raw_time, str):
        raise LineError("'sent_at' must be an ISO 8601 string")
    try:
        sent_at = datetime.fromisoformat(raw_time.replace("Z", "+00:00"))
    except ValueError:
        raise LineError(f"'sent_at' {raw_time[:40]!r} is not ISO 8601") from None
    if sent_at.tzinfo is None:
        raise LineError(f"'sent_at' {raw_time[:40]!r} has no UTC offset")
    category = _text_field(obj, "category", required=False)
    if category is not None and category not in CATEGORIES:
        raise LineError(f"unknown category {category!r} (known: {', '.join(CATEGORIES)})")
    priority = _text_field(obj, "priority", required=False)
    if priority is not None and priority not in PRIORITIES:
        raise LineError(f"unknown priority {priority!r} (known: {', '.join(PRIORITIES)})")
    agent = _text_field(obj, "agent", required=False, max_len=64)
    if author in ("agent", "note") and not agent:
        raise LineError(f"an {author} line needs 'agent'")
    if agent is not None:
        from cs_tui.data.agents import HANDLE_RE

        if not HANDLE_RE.match(agent):
            raise LineError(f"'agent' {agent[:40]!r} is not a usable handle")
    tags = obj.get("tags", [])
    if tags is None:
        tags = []
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise LineError("'tags' must be a list of non-empty strings")
    if any(len(t) > 32 for t in tags):
        raise LineError("a tag has at most 32 characters")
    csat = obj.get("csat")
    if csat is not None and (
        isinstance(csat, bool) or not isinstance(csat, int) or not 1 <= csat <= 5
    ):
        raise LineError("'csat' must be an integer from 1 to 5")
    return IngestRecord(
        message_id=message_id,  # type: ignore[arg-type]
        conversation_id=conversation_id,  # type: ignore[arg-type]
        channel=channel,  # type: ignore[arg-type]
        customer=customer,  # type: ignore[arg-type]
        author=author,  # type: ignore[arg-type]
        text=text,
        sent_at=sent_at,
        customer_name=_text_field(obj, "customer_name", required=False),
        agent=agent,
        category=category,
        priority=priority,
        tags=tuple(" ".join(t.split()) for t in tags),
        csat=csat,
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
    return (
        source.with_name(source.name + ".rejects.jsonl")
        if source.suffix != ".jsonl"
        else source.with_suffix(".rejects.jsonl")
    )


def write_rejects(path: Path, rejects: list[Rejected]) -> None:
    with path.open("w", encoding="utf-8") as fh:
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
