"""JSONL import and export: one message per line.

Required: message_id, conversation_id, channel, customer, author, text, sent_at (ISO 8601 with an
offset). Optional: customer_name, agent, category, priority, tags, csat. Export also writes
`author` "note" and "system" for private notes and system lines, so an export re-imports exactly.
A bad line is reported with its number and reason and copied to FILE.rejects.jsonl; every good
line is imported. A line is bad when it breaks the rules of cs_tui.jsonl_lines or when the
importer may not import it (line_refusal). Whatever rejects a line after the line checks (a role
rule, the store) does it through ParsedChunk.reject, which keeps the line's number and raw text.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import stat
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import BrokenExecutor, CancelledError, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import IO, TYPE_CHECKING

from cs_tui.collector import collector_paused
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
    check_raw,
    parser_process_start,
)

if TYPE_CHECKING:
    from cs_tui.data.store import Store
    from cs_tui.data.views import AgentInfo, IngestResult


@dataclass(frozen=True)
class Rejected:
    line_no: int
    raw: str
    reason: str


parse_record = check_line  # one decoded line as a record, or LineError saying what is wrong


def rejects_path(source: Path) -> Path:
    """FILE.rejects.jsonl beside the input."""
    return source.with_name(source.name + ".rejects.jsonl")


def rejects_target_problem(path: Path, source: Path | None = None) -> str | None:
    """Why `path` cannot take the rejected lines, found before anything is imported (so a typo
    does not cost the copies of the bad lines), or None."""
    if not path.parent.is_dir():
        return f"cannot write the rejects file {path}: no directory {path.parent}"
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot write the rejects file {path}: {exc.strerror}"
    if stat.S_ISLNK(mode):
        return None  # replaced, never written through (wherever it points)
    if not stat.S_ISREG(mode):
        return f"cannot write the rejects file {path}: it is not a regular file"
    if source is not None and path.samefile(source):
        return f"the rejects file {path} is the input file"
    return None


def write_rejects(path: Path, rejects: list[Rejected]) -> None:
    """Copy the rejected lines to `path`, or remove a copy left by an earlier run when there are
    none (it would name lines that are imported now).

    The copy is written to a new, randomly named file (O_CREAT|O_EXCL|O_NOFOLLOW, readable by
    its owner only: it holds customer text) and renamed into place: a symlink planted at `path`
    is replaced, never followed, and a crash leaves either the old file or the new one."""
    if not rejects:
        _remove_stale(path)
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape", newline="") as fh:
            for rej in rejects:
                fh.write(rej.raw if rej.raw.endswith("\n") else rej.raw + "\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _remove_stale(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISDIR(path.lstat().st_mode):
            path.unlink()


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


@dataclass
class ParsedChunk:
    """One chunk of lines after the line checks: its records, the lines rejected so far, and
    the lines themselves, so a record refused later (by a role rule, by the store) is still
    reported and copied with its line."""

    first: int
    lines: list[str]
    records: list[IngestRecord]
    rejects: list[Rejected] = field(default_factory=list)

    def reject(self, line_no: int, reason: str) -> None:
        """Reject the line numbered `line_no` (a record's line_no) of this chunk."""
        self.rejects.append(Rejected(line_no, self.lines[line_no - self.first], reason))

    def refuse(self, record: IngestRecord, reason: str) -> None:
        """Reject the line a record of this chunk came from (check_chunk numbers each one)."""
        assert record.line_no is not None, "a record of a chunk always has its line number"
        self.reject(record.line_no, reason)

    def rejected_in_order(self) -> list[Rejected]:
        return sorted(self.rejects, key=lambda r: r.line_no)


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

    def __iter__(self) -> Iterator[ParsedChunk]:
        first = next(self._chunks, None)
        if first is None:
            return
        second = next(self._chunks, None)
        if second is None:
            yield self._here(first)
            return
        pool = self._start()
        pending: deque[tuple[tuple[int, list[str]], Future | None]] = deque()
        rest = itertools.chain((second,), self._chunks)
        try:
            for item in itertools.islice(rest, self.AHEAD):
                pending.append((item, self._submit(pool, item)))
            yield self._here(first)  # parsed here while the parser process starts up
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
    def _here(item: tuple[int, list[str]]) -> ParsedChunk:
        return ParsedChunk(item[0], item[1], *_parse_chunk(item))

    @staticmethod
    def _start() -> ProcessPoolExecutor | None:
        try:
            # Given this pid, the parser process ends with this one, however it is killed.
            return ProcessPoolExecutor(
                max_workers=1,
                mp_context=get_context("spawn"),
                initializer=parser_process_start,
                initargs=(os.getpid(),),
            )
        except (OSError, ValueError, ImportError):
            return None

    @staticmethod
    def _submit(pool: ProcessPoolExecutor | None, item: tuple[int, list[str]]) -> Future | None:
        if pool is None:
            return None
        try:
            return pool.submit(check_chunk_plain, item)
        except (OSError, RuntimeError, BrokenExecutor):
            return None

    @classmethod
    def _take(cls, item: tuple[int, list[str]], future: Future | None) -> ParsedChunk:
        if future is not None:
            if future.done():
                try:
                    plain, bad = future.result()
                except (OSError, RuntimeError, BrokenExecutor, EOFError, CancelledError):
                    pass  # the parser process is gone: parse the chunk here
                else:
                    records = [IngestRecord(*fields) for fields in plain]
                    return ParsedChunk(item[0], item[1], records, [Rejected(*r) for r in bad])
            else:
                future.cancel()  # not back yet: parse it here rather than wait
        return cls._here(item)


LineRule = Callable[[IngestRecord], "str | None"]


def line_rule(store: Store, actor: AgentInfo | None) -> LineRule | None:
    """What the importer may not import, as a function giving the reason for a record; None
    when every line may be imported: an import with no acting agent (a channel, a test), by
    an active supervisor, or before the team has any supervisor (setting up a store)."""
    if actor is None or (actor.role == "supervisor" and actor.active):
        return None
    if not store.has_supervisor():
        return None
    return functools.partial(line_refusal, actor.handle)


def line_refusal(handle: str, record: IngestRecord) -> str | None:
    """Why the agent `handle`, not a supervisor, may not import this line, or None. Lines speak
    for someone: an agent speaks for themselves and passes on what customers wrote, but
    other agents' lines, notes, system lines and CSAT (the customer's score) need a supervisor."""
    if record.author in ("note", "system"):
        return f"only a supervisor may import {record.author} lines"
    if record.agent is not None and record.agent != handle:
        return "only a supervisor may import lines of another agent"
    if record.csat is not None:
        return "only a supervisor may import 'csat' (the customer's score)"
    return None


def _apply_rule(rule: LineRule, chunk: ParsedChunk) -> list[IngestRecord]:
    allowed = []
    for record in chunk.records:
        reason = rule(record)
        if reason is None:
            allowed.append(record)
        else:
            chunk.refuse(record, reason)
    return allowed


def ingest_lines(
    store: Store,
    lines: Iterable[str],
    rejects: list[Rejected],
    *,
    actor: AgentInfo | None = None,
    progress: Callable[[int], object] | None = None,
) -> IngestResult:
    """Parse and store JSONL lines in batches; bad lines are appended to `rejects` in order.

    (Storing in a writer thread while this one parses was tried: the GIL serialises them.)
    """
    from cs_tui.data.views import IngestResult

    rule = line_rule(store, actor)
    total = IngestResult()
    chunks = iter(_ParsedChunks(lines))
    while True:
        with collector_paused():
            chunk = next(chunks, None)
            if chunk is None:
                break
            records = chunk.records if rule is None else _apply_rule(rule, chunk)
            part = store.ingest(records, actor=actor, batch_size=CHUNK_LINES)
            for record, reason in part.refused:  # e.g. a conversation of another customer
                chunk.refuse(record, reason)
        rejects.extend(chunk.rejected_in_order())
        total.add(part)
        if progress:
            progress(part.lines)
    return total
