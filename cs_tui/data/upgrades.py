"""Schema upgrades, one function per version step, run inside the opening transaction."""

from __future__ import annotations

from collections.abc import Callable

STEPS: dict[int, Callable] = {}


def upgrade(conn, from_version: int, dialect: str) -> None:
    from cs_tui.data.models import SCHEMA_VERSION

    version = from_version
    while version < SCHEMA_VERSION:
        step = STEPS.get(version)
        if step is None:
            raise RuntimeError(f"no upgrade from schema {version}")
        step(conn, dialect)
        version += 1
