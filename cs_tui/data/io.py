"""JSONL import and export: one message per line.

Required: message_id, conversation_id, channel, customer, author, text, sent_at (ISO 8601 with an
offset). Optional: customer_name, agent, category, priority, tags, csat. Export also writes
`author` "note" and "system" for private notes and system lines, so an export re-imports exactly.
A bad line is reported with its number and reason and copied to FILE.rejects.jsonl; every good
line is imported.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import BrokenExecutor, CancelledError, Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import IO

from cs_tui.data import collector_paused
from cs_tui.data.views import IngestRecord
from cs_tui.jsonl_lines import (  # noqa: F401  (the rules are part of this module's interface)
    AUTHORS,
    MAX_ID,
    MAX_TEXT,
    REQUIRED,
    LineError,
    check_chunk,
    check_chunk_plain,
    check_line,
    parser_process_start,
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


class _ParsedChunks:
    """Parsed chunks in input order. With more than one chunk, a second process parses ahead
    (parsing and validating is about a third of an import), but this one never waits for it: a
    chunk whose parse has not come back yet is parsed here. On an idle machine both cores work;
    on a busy one (a team's shared host) the import goes as fast as parsing everything here
    would. Should that process fail to start or die, nothing is lost either way."""

    AHEAD = 4  # chunks queued for the parser process

    def __init__(self, lines: Iterable[str]) -> None:
        self._chunks = _chunked(lines)

    def __iter__(self) -> Iterator[tuple[list[IngestRecord], list[Rejected]]]:
        first = next(self._chunks, None)
        if first is None:
            return
        second = next(self._chunks, None)
        if second is None:
            yield _parse_chunk(first)
            return
        pool = self._start()
        pending: deque[tuple[tuple[int, list[str]], Future | None]] = deque()
        rest = itertools.chain((second,), self._chunks)
        try:
            for item in itertools.islice(rest, self.AHEAD):
                pending.append((item, self._submit(pool, item)))
            yield _parse_chunk(first)  # parsed here while the parser process starts up
            while pending:
                item, future = pending.popleft()
                following = next(rest, None)
                if following is not None:
                    pending.append((following, self._submit(pool, following)))
                yield self._take(item, future)
        finally:
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def _start() -> ProcessPoolExecutor | None:
        try:
            return ProcessPoolExecutor(
                max_workers=1, mp_context=get_context("spawn"), initializer=parser_process_start
            )
        except (OSError, ValueError, ImportError):
            return None

    @staticmethod
    def _submit(pool: ProcessPoolExecutor | None, item) -> Future | None:
        if pool is None:
            return None
        try:
            return pool.submit(check_chunk_plain, item)
        except (OSError, RuntimeError, BrokenExecutor):
            return None

    @staticmethod
    def _take(item, future: Future | None) -> tuple[list[IngestRecord], list[Rejected]]:
        if future is not None:
            if future.done():
                try:
                    plain, bad = future.result()
                except (OSError, RuntimeError, BrokenExecutor, EOFError, CancelledError):
                    pass  # the parser process is gone: parse the chunk here
                else:
                    return [IngestRecord(*fields) for fields in plain], [Rejected(*r) for r in bad]
            else:
                future.cancel()  # not back yet: parse it here rather than wait
        return _parse_chunk(item)


def ingest_lines(
    store, lines: Iterable[str], rejects: list[Rejected], *, actor=None, progress=None
):
    """Parse and store JSONL lines in batches; bad lines are appended to `rejects`.

    (Storing in a writer thread while this one parses was tried: the GIL serialises them.)
    """
    from cs_tui.data.views import IngestResult

    total = IngestResult()
    chunks = iter(_ParsedChunks(lines))
    while True:
        with collector_paused():
            parsed = next(chunks, None)
            if parsed is None:
                break
            records, bad = parsed
            part = store.ingest(records, actor=actor, batch_size=CHUNK_LINES)
        rejects.extend(bad)
        total.add(part)
        if progress:
            progress(part.lines)
    return total
