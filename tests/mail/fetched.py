"""Mails stored as the fetcher stores them, without a mail server: parsed, attachments saved,
unreadable ones quarantined, stored in a batch (the path `MailFetcher.fetch_once` takes once it
has the bytes). For tests of what the store and the workstation make of a fetched mail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cs_tui.channels.email_config import EmailSettings, build_settings
from cs_tui.channels.email_fetch import FetchStats, MailFetcher
from cs_tui.data.store import Store
from cs_tui.data.views import AgentInfo


def email_channel(
    store: Store,
    name: str = "service",
    actor: AgentInfo | None = None,
    smtp_port: int = 2525,
    **options: Any,
) -> tuple[int, EmailSettings]:
    """A mail channel on local ports; `options` are `build_settings`'s own (acknowledge, ...)."""
    settings = build_settings(
        imap="imap://service@127.0.0.1:1143",
        smtp=f"smtp://service@127.0.0.1:{smtp_port}",
        sender="小店客服 <service@shop.example>",
        password_env="MAIL_PASSWORD",
        password_file=None,
        **options,
    )
    made = store.add_channel(
        actor, "email", name, channel_type="email", settings=settings.to_json()
    )
    return made.channel.id, settings


def store_fetched(
    store: Store, channel_id: int, settings: EmailSettings, data_dir: Path, raws: list[bytes]
) -> FetchStats:
    fetcher = MailFetcher(store, channel_id, settings, "unused", data_dir)
    stats = FetchStats()
    pending: list = []
    for uid, raw in enumerate(raws, 1):
        fetcher._count(stats, fetcher._prepare(raw, uid, pending))
    fetcher._store_pending(pending, stats)
    return stats
