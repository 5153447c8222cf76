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
from pathlib import Path
from typing import IO

from cs_tui.data.bulk import collector_paused
from cs_tui.data.views import IngestRecord
from cs_tui.jsonl_lines import (  # noqa: F401  (the rules are part of this module's interface)
    AUTHORS,
    MAX_ID,
    MAX_TEXT,
    REQUIRED,
    LineError,
    check_chunk,
    check_line,
)


@dataclass(frozen=True)
class Rejected:
    line_no: int
    raw: str
    reason: str


parse_record = check_line  # one decoded line as a record, or LineError saying what is wrong


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
    records, bad = check_chunk(args)
    return records, [Rejected(*r) for r in bad]


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

    (Tried and dropped: storing in a writer thread while this one parses, which the GIL
    serialises; and parsing ahead in a second process, which lost a third when the machine's
    other core was busy, as it usually is on a team's shared host.)
    """
    from cs_tui.data.views import IngestResult

    total = IngestResult()
    for item in _chunked(lines):
        with collector_paused():
            records, bad = _parse_chunk(item)
            part = store.ingest(records, actor=actor, batch_size=CHUNK_LINES)
        rejects.extend(bad)
        total.add(part)
        if progress:
            progress(part.lines)
    return total
