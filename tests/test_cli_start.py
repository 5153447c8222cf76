"""What `cs-tui --version` loads: it answers before the subcommand modules, the data layer and the
interface are imported.

Start-up time itself is measured by `python -m bench cli`, never here. A fresh interpreter is
needed: this one has loaded everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

from cs_tui import __version__

CHILD = """
import json, sys
from cs_tui.cli import main

try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = ("sqlalchemy", "sqlmodel", "pydantic", "textual", "cs_tui.data")
loaded = [m for m in sys.modules if m.startswith(heavy) or m.endswith("_cmd")]
print(json.dumps({"code": code, "loaded": sorted(loaded)}))
"""


def run(*args: str) -> tuple[str, dict]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, timeout=60
    ).stdout.splitlines()
    return out[0], json.loads(out[-1])


def test_version_answers_without_loading_the_data_layer():
    printed, seen = run("--version")
    assert printed == f"cs-tui {__version__}"
    assert seen == {"code": 0, "loaded": []}


def test_version_after_global_options_answers_the_same():
    printed, seen = run("--db", "somewhere.db", "--lang", "zh", "--version")
    assert printed == f"cs-tui {__version__}"
    assert seen == {"code": 0, "loaded": []}


QUEUE_CHILD = """
import json, sys
from cs_tui.cli import main

code = main(sys.argv[1:])
heavy = ("sqlmodel", "pydantic", "sqlalchemy.orm", "cs_tui.data.models")
loaded = [m for m in sys.modules if m.startswith(heavy)]
print(json.dumps({"code": code, "loaded": sorted(loaded)}))
"""


def test_queue_reads_the_store_without_sqlmodel_pydantic_or_the_orm(tmp_path):
    """The store is read through Core tables (data/schema.py); the models are for new stores."""
    from cs_tui.data import seed
    from cs_tui.data.store import Store

    path = tmp_path / "store.db"
    store = Store.open(str(path))
    seed.write_demo(store)
    store.dispose()
    argv = ["--db", str(path), "--agent", "sam", "queue", "--json", "--limit", "1"]
    *printed, last = child_lines(QUEUE_CHILD, *argv)
    assert json.loads(last) == {"code": 0, "loaded": []}
    assert len(json.loads("\n".join(printed))) == 1


def test_the_command_table_is_what_the_modules_register():
    """`cli.COMMANDS` decides which module a command line loads: it must name every command
    each module declares, and nothing else, in the order help lists them."""
    import argparse
    import importlib

    from cs_tui import cli

    for module, names in cli.COMMANDS.items():
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(module).register(sub)
        assert tuple(sub.choices) == names, module
    full = cli.build_parser()
    listed = next(a for a in full._actions if isinstance(a, argparse._SubParsersAction))
    assert tuple(listed.choices) == tuple(n for names in cli.COMMANDS.values() for n in names)


def test_a_command_loads_only_its_own_module_and_help_still_lists_every_command(tmp_path):
    printed, seen = run("--db", str(tmp_path / "none.db"), "queue", "--help")
    assert printed.startswith("usage: cs-tui queue")
    assert [m for m in seen["loaded"] if m.endswith("_cmd")] == ["cs_tui.commands.data_cmd"]
    out = subprocess.run(
        [sys.executable, "-m", "cs_tui", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    for command in ("queue", "roleplay", "serve", "calendar", "demo", "audit-log"):
        assert command in out
    # A mistyped command is explained by the full parser, as before.
    typo = subprocess.run(
        [sys.executable, "-m", "cs_tui", "queu"], capture_output=True, text=True, timeout=60
    )
    assert typo.returncode == 2 and "invalid choice: 'queu'" in typo.stderr


DOC_CHILD = """
import dataclasses, inspect, json, sys
import cs_tui.commands.common, cs_tui.commands.data_cmd, cs_tui.data.store, cs_tui.sla

made = [
    f"{module}.{name}"
    for module, loaded in sorted(sys.modules.items())
    if module.startswith("cs_tui")
    for name, obj in vars(loaded).items()
    if inspect.isclass(obj)
    and dataclasses.is_dataclass(obj)
    and obj.__module__ == module
    and (obj.__dict__.get("__doc__") or "").startswith(f"{obj.__name__}(")
]
print(json.dumps(made))
"""


def test_the_dataclasses_every_store_command_loads_have_docstrings():
    """A dataclass without a docstring gets one made from `inspect.signature` of its new
    `__init__` while its module is imported: a cost every command paid for twenty classes.
    Checked in a fresh interpreter, on the modules a command that opens the store loads."""
    out = subprocess.run(
        [sys.executable, "-c", DOC_CHILD], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert json.loads(out) == []


WORKSTATION_CHILD = """
import json, sys
from cs_tui.cli import build_parser, read_command
from cs_tui.commands.app_cmd import workstation_store
from cs_tui.commands.common import settings_for

argv = sys.argv[1:]
command = read_command(argv)
args = build_parser(command).parse_args(argv)
store, agent = workstation_store(args, settings_for(args))
print(json.dumps({
    "command": command,
    "store": type(store).__name__,
    "agent": agent.handle,
    "loaded": sorted(m for m in sys.modules if m.endswith("_cmd") or m.startswith("sqlalchemy")),
}))
store.dispose()
"""


def child_lines(code: str, *args: str) -> list[str]:
    """What a fresh interpreter running `code` with `args` printed."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60, check=True
    )
    return out.stdout.strip().splitlines()


def workstation(*args: str) -> dict:
    return json.loads(child_lines(WORKSTATION_CHILD, *args)[-1])


def test_the_workstation_takes_a_first_look_and_loads_no_other_command(tmp_path):
    """Global options alone: no subcommand's module and no SQLAlchemy before the app starts
    (an SQLite store opens behind the first frame); a locked login is signed in first, as it
    may land in a waiting role-play session."""
    from cs_tui.data import seed
    from cs_tui.data.store import Store

    path = tmp_path / "store.db"
    with Store.open(str(path)) as store:
        seed.write_demo(store)
    seen = workstation("--db", str(path), "--agent", "bob")
    assert seen == {
        "command": "",
        "store": "OpeningStore",
        "agent": "bob",
        "loaded": ["cs_tui.commands.app_cmd"],
    }
    locked = workstation("--db", str(path), "--agent", "bob", "--locked")
    assert locked["store"] == "Store" and locked["agent"] == "bob"
    new = workstation("--db", str(tmp_path / "new.db"), "--agent", "first")
    assert new["store"] == "Store" and new["agent"] == "first"  # created, then signed in
