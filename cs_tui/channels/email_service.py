"""The e-mail channels' fetchers inside `cs-tui serve`: one thread per active channel.

Started by the server's lifespan beside the delivery worker (replies leave through the worker:
cs_tui.channels.email_send). Each channel's password is read here when `serve` starts (from the
environment variable or file its settings name); a channel whose settings or password cannot be
used is named on stderr and left out, the others run. A running fetcher takes the channel's
settings anew each round (MailFetcher.refresh): `channels set` needs no restart. imaplib blocks, so
each fetcher runs in a daemon thread of its own; on shutdown they are told to stop and waited
for within the server's bound (a thread still inside a slow IMAP command is left behind: its
mail is fetched again by the next run and stored once).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from cs_tui.channels.email_config import EmailConfigError, settings_of
from cs_tui.channels.email_fetch import MailFetcher
from cs_tui.data.errors import StoreError
from cs_tui.safe_text import one_line

if TYPE_CHECKING:
    from cs_tui.data.store import Store


def _say(text: str) -> None:
    print(f"cs-tui serve: {one_line(text)}", file=sys.stderr, flush=True)


async def run_mail_fetchers(
    store: Store, stop: asyncio.Event, data_dir: Path, *, look_every_s: float = 10.0
) -> None:
    """Fetch every active e-mail channel until `stop` is set. The channels are looked up
    again every `look_every_s`: one added or enabled while serve runs starts being fetched
    (a disabled one's fetcher idles by itself; one whose password was missing is named once
    and tried again when serve restarts)."""
    halt = threading.Event()
    threads: dict[int, threading.Thread] = {}
    named: set[int] = set()
    try:
        while not stop.is_set():
            try:
                channels = await asyncio.to_thread(store.email_channels)
            except StoreError as exc:
                _say(f"email channels: store unavailable ({exc.code}); trying again")
                channels = []
            for channel_id, name, stored in channels:
                if channel_id in threads or channel_id in named:
                    continue
                thread = _start(store, channel_id, name, stored, data_dir, halt)
                if thread is None:
                    named.add(channel_id)
                else:
                    threads[channel_id] = thread
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), look_every_s)
    finally:
        halt.set()
        while any(t.is_alive() for t in threads.values()):
            await asyncio.sleep(0.05)


def _start(
    store: Store,
    channel_id: int,
    name: str,
    stored: dict[str, object],
    data_dir: Path,
    halt: threading.Event,
) -> threading.Thread | None:
    try:
        settings = settings_of(stored)
        password = settings.password()
    except EmailConfigError as exc:
        _say(f"email channel {name}: {exc}; it is not fetched")
        return None
    fetcher = MailFetcher(store, channel_id, settings, password, data_dir)
    thread = threading.Thread(target=fetcher.run, args=(halt,), name=f"mail-{name}", daemon=True)
    thread.start()
    _say(f"email channel {name}: fetching {settings.imap.url()} folder {settings.folder}")
    return thread
