"""Human durations ("30s", "10m", "2h", "1d") in config files and on the command line."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


def parse_duration(text: str | int | float) -> float:
    """Seconds in `text`; accepts a bare number (seconds) or parts like "1h30m"."""
    if isinstance(text, bool):
        raise ValueError("expected a duration like 30s, 10m, 2h or 1d")
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError("a duration cannot be negative")
        return float(text)
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned:
        raise ValueError("empty duration")
    if re.fullmatch(r"\d+(?:\.\d+)?", cleaned):
        return float(cleaned)
    pos = 0
    total = 0.0
    for match in _PART.finditer(cleaned):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(cleaned) or pos == 0:
        raise ValueError(f"{text!r} is not a duration like 30s, 10m, 2h or 1d")
    return total


def format_countdown(seconds: float) -> str:
    """The queue's countdown: 0:27, 1:05:10, 2d, and -1:30 once breached."""
    negative = seconds < 0
    s = int(abs(seconds))
    if s >= 86400:
        body = f"{s // 86400}d"
    elif s >= 3600:
        body = f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    else:
        body = f"{s // 60}:{s % 60:02d}"
    return f"-{body}" if negative else body
