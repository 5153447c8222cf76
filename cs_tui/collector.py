"""The cyclic garbage collector, kept out of the way of data that lives as long as the process.

A full pass of the collector walks every container object still alive, and the workstation holds
its screen still while it does. Tables, pinyin dictionaries and styles built once and never
freed are nothing for it to find: made with the collector paused and then frozen (moved where its
passes never look), they cost nothing afterwards.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """For work that makes tens of thousands of objects and no cycles worth finding (building
    the tables, bulk imports): the cyclic collector's passes over them find nothing to free."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@contextmanager
def kept_for_good() -> Iterator[None]:
    """Make what lives as long as the process (an import's tables and dictionaries) with the
    collector paused, then freeze it. Frozen before the collector is back on: the first
    allocation after that would otherwise start a full pass over everything just made.

    Frozen only in the main thread: elsewhere (the workstation's store opening behind its
    first frame) the interface runs meanwhile, and a freeze would keep whatever garbage it
    had not collected yet for good."""
    with collector_paused():
        yield
        if threading.current_thread() is threading.main_thread():
            gc.freeze()
