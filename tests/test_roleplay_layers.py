"""The role-play modules depend one way: engine -> scoring -> transcript, never back."""

from __future__ import annotations

import ast
from pathlib import Path

import cs_tui.roleplay

PACKAGE = Path(cs_tui.roleplay.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every cs_tui.roleplay module this file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name.rsplit(".", 1)[1] for name in found if name.startswith("cs_tui.roleplay.")}


def test_no_import_circle_between_role_play_modules():
    """A circle only worked while one side imported the other inside a function: moving
    that import to the top (or importing in another order) broke start-up."""
    graph = {p.stem: _imports(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    circles = sorted(name for name in graph if reaches(name, name, {name}))
    assert circles == []
