"""Benchmarks: `python -m bench [store|ui|search|team|report] [options]`."""
