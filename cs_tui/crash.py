"""Crash reports that hold no customer data.

An unexpected exception used to end the workstation with Textual's traceback, which prints the
local variables of every frame: the message being drawn, the draft being sent, the customer's
name. On a shared screen or in a terminal's scrollback that is customer data in the open. A crash
now writes a report file readable by its owner only (mode 0600, in the user data directory) and
the terminal gets one line with its path.

The report keeps what a developer needs to find the fault: the exception types along the whole
chain, and for each one the stack (file, line, function, source line of the code). It leaves out
every exception message and every local variable, since either can quote customer text (an SQL
error repeats its parameters, a KeyError its key).
"""

from __future__ import annotations

import os
import platform
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

REPORT_DIR = "crash-reports"
MAX_CHAIN = 16
"""Exceptions followed along __cause__/__context__ and inside groups before the report stops."""


def report_dir() -> Path:
    from cs_tui.config import data_dir

    return data_dir() / REPORT_DIR


def write_report(error: BaseException, where: str = "") -> Path:
    """Write the report; OSError when it cannot be written (the caller says so in one line)."""
    directory = report_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = format_report(error, where)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for attempt in range(100):
        suffix = f"-{attempt}" if attempt else ""
        path = directory / f"crash-{stamp}-{os.getpid()}{suffix}.txt"
        try:
            fd = os.open(path, _CREATE_FLAGS, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)  # whatever the umask said
            handle.write(text)
        return path
    raise FileExistsError(f"no free report name in {directory}")


_CREATE_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def format_report(error: BaseException, where: str = "") -> str:
    from cs_tui import __version__

    lines = [
        "cs-tui crash report",
        f"time: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"cs-tui {__version__}, Python {platform.python_version()}, {_textual_version()}, "
        f"{sys.platform}",
    ]
    if where:
        lines.append(f"where: {where}")
    lines += [
        "Exception messages and local variables are left out: they can quote customer text.",
        "",
    ]
    for index, (exc, link) in enumerate(_chain(error)):
        if index:
            lines += ["", link, ""]
        lines += _describe(exc)
    return "\n".join(lines) + "\n"


def one_line(error: BaseException, path: Path | None, problem: str = "") -> str:
    """What the terminal gets: the exception type and where the report is, on one line."""
    from cs_tui.safe_text import one_line as safe_line

    kind = _type_name(_unwrap(error))
    if path is not None:
        where = safe_line(str(path))
        return f"cs-tui: stopped by an unexpected error ({kind}); report: {where}"
    return f"cs-tui: stopped by an unexpected error ({kind}); no report written: {problem}"


def describe_os_error(exc: OSError) -> str:
    """An OSError without its file name repeated twice: strerror, or the type's name."""
    return exc.strerror or type(exc).__name__


def _textual_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"Textual {version('textual')}"
    except PackageNotFoundError:
        return "Textual ?"


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def _unwrap(exc: BaseException) -> BaseException:
    """Textual's WorkerFailed carries the worker's exception as `.error`, not as a cause."""
    inner = getattr(exc, "error", None)
    if isinstance(inner, BaseException) and type(exc).__name__ == "WorkerFailed":
        return inner
    return exc


def _chain(error: BaseException) -> list[tuple[BaseException, str]]:
    """Oldest first, as Python prints it, each with the sentence linking it to the next."""
    out: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    pending: list[tuple[BaseException, str]] = [(_unwrap(error), "")]
    while pending and len(out) < MAX_CHAIN:
        exc, link = pending.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        out.append((exc, link))
        if exc.__cause__ is not None:
            pending.append((exc.__cause__, "The exception below was the direct cause of it:"))
        elif exc.__context__ is not None and not exc.__suppress_context__:
            pending.append((exc.__context__, "It happened while handling the exception below:"))
        for member in reversed(getattr(exc, "exceptions", None) or ()):
            if isinstance(member, BaseException):
                pending.append((member, "One of the exceptions in the group above:"))
    return out


def _describe(exc: BaseException) -> list[str]:
    """The type, the stack, and the size of the message that was left out."""
    lines = [_type_name(exc), "Traceback (most recent call last):"]
    for frame in traceback.extract_tb(exc.__traceback__):
        lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        if frame.line:
            lines.append(f"    {frame.line.strip()}")
    try:
        size = len(str(exc))
    except Exception:  # noqa: BLE001 - a broken __str__ must not stop the report
        size = -1
    note = "message left out" if size else "no message"
    if size > 0:
        note += f", {size} characters"
    lines.append(f"{_type_name(exc)} ({note})")
    return lines
