"""Subcommands of `cs-tui`, one module per area; see cs_tui.cli."""
