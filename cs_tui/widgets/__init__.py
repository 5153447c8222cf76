"""Reusable widgets of the workstation: queue list, message view, composer, side panel..."""
