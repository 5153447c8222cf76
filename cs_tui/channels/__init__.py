"""Channels: how conversations reach the outside world (the outbox's signed webhooks, and later
the web chat and e-mail). Nothing here imports Textual; the store is the only shared state."""
