"""Fixtures every UI test shares: local time in UTC, and the demo store at a fixed moment.

The demo store is written once per test run (not per test, nor per xdist worker: the first
worker to need it writes it under a lock, the others copy the file), and each test works on a
copy of its own, so rows, countdowns and snapshots are the same on every run.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from pathlib import Path

import pytest

from cs_tui.clock import FakeClock
from cs_tui.data import seed
from cs_tui.data.store import Store
from tests.conftest import START


@pytest.fixture(autouse=True)
def _utc(monkeypatch):
    """Local time is UTC so times on screen (and in snapshots) do not depend on the machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _write_demo(path: Path) -> None:
    building = path.with_name(path.name + ".building")
    with Store.open(str(building), clock=FakeClock(START)) as store:
        seed.write_demo(store)
    building.rename(path)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """The demo store written at START, shared by every xdist worker of this run."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's directory, above each worker's own
    path = shared / "demo-template.db"
    with (shared / "demo-template.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            _write_demo(path)
    return path


@pytest.fixture
def store(tmp_path, clock, demo_template):
    """A copy of the demo store for this test alone (a UI module may define its own `store`)."""
    path = tmp_path / "store.db"
    shutil.copy(demo_template, path)
    with Store.open(str(path), clock=clock) as s:
        yield s
