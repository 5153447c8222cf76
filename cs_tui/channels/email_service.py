"""The e-mail channels' fetchers inside `cs-tui serve`: one thread per active channel.

Started by the server's lifespan beside the delivery worker (replies leave through the worker:
cs_tui.channels.email_send). Each channel's password is read here, once, when `serve` starts
(from the environment variable or file its settings name); a channel whose settings or
password cannot be used is named on stderr and left out, the others run. imaplib blocks, so
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


async def run_mail_fetchers(store: Store, stop: asyncio.Event, data_dir: Path) -> None:
    """Fetch every active e-mail channel until `stop` is set."""
    channels = None
    while channels is None:
        try:
            channels = await asyncio.to_thread(store.email_channels)
        except StoreError as exc:
            _say(f"email channels: store unavailable ({exc.code}); trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 5.0)
            if stop.is_set():
                return
    halt = threading.Event()
    threads: list[threading.Thread] = []
    for channel_id, name, stored in channels:
        try:
            settings = settings_of(stored)
            password = settings.password()
        except EmailConfigError as exc:
            _say(f"email channel {name}: {exc}; it is not fetched")
            continue
        fetcher = MailFetcher(store, channel_id, settings, password, data_dir)
        thread = threading.Thread(
            target=fetcher.run, args=(halt,), name=f"mail-{name}", daemon=True
        )
        thread.start()
        threads.append(thread)
        _say(f"email channel {name}: fetching {settings.imap.url()} folder {settings.folder}")
    try:
        await stop.wait()
    finally:
        halt.set()
        while any(t.is_alive() for t in threads):
            await asyncio.sleep(0.05)
