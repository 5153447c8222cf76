"""The data layer: the only code that opens sessions or writes SQL.

Every module here works on the tables, so the package builds them first (as SQLAlchemy Core,
`schema.py`; the SQLModel models are imported only to create a new store). Importing SQLAlchemy
and building the tables makes tens of thousands of objects that live as long as the
process, almost none of them garbage; left running, the cyclic garbage collector walked them
again and again while they were being made (about a tenth of the data layer's import time). So
the collector is paused for that, and the result is frozen out of its way afterwards: later full
collections, such as one during the workstation's first frame, skip these objects too.
"""

import gc
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


def _build_tables() -> None:
    with collector_paused():
        from cs_tui.data import schema  # noqa: F401

        # Frozen before the collector is back on: the first allocation after that would
        # otherwise start a full collection over everything just imported (15-20 ms).
        gc.freeze()


_build_tables()
