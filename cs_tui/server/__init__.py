"""`cs-tui serve`: the gateway's HTTP side (Starlette app, inbound API, receipts, limits).

Nothing here imports Textual, and nothing here writes SQL: every read and write goes through the
Store, in a worker thread, so the event loop never waits on the database.
"""
