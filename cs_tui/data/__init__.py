"""The data layer: the only code that opens sessions or writes SQL.

Every module here works on the tables, so the package builds them first (as SQLAlchemy Core,
`schema.py`; the SQLModel models are imported only to create a new store). Importing SQLAlchemy
and building the tables makes tens of thousands of objects that live as long as the
process, almost none of them garbage; left running, the cyclic garbage collector walked them
again and again while they were being made (about a tenth of the data layer's import time). So
the collector is paused for that, and the result is frozen out of its way afterwards: later full
collections, such as one during the workstation's first frame, skip these objects too.
"""

from cs_tui.collector import kept_for_good


def _build_tables() -> None:
    with kept_for_good():
        from cs_tui.data import schema  # noqa: F401


_build_tables()
