"""Schema upgrades, one function per version step, run inside the opening transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Connection

from cs_tui.data.tables import CONV, SESSION


def _v1_to_v2(conn: Connection, dialect: str) -> None:
    """Schema 2 adds role-play sessions (training_session) and a channel+status queue index."""
    SESSION.create(conn, checkfirst=True)
    for index in CONV.indexes:
        index.create(conn, checkfirst=True)


STEPS: dict[int, Callable] = {1: _v1_to_v2}


def upgrade(conn: Connection, from_version: int, dialect: str) -> None:
    from cs_tui.data.models import SCHEMA_VERSION

    version = from_version
    while version < SCHEMA_VERSION:
        step = STEPS.get(version)
        if step is None:
            raise RuntimeError(f"no upgrade from schema {version}")
        step(conn, dialect)
        version += 1
