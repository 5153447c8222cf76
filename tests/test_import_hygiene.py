"""How the package's modules import each other.

The domain and data layers never import Textual: they must run in scripts and workers. Every
module imports cleanly: nothing guards an import of the package's own modules, so a broken one
must fail here rather than switch a feature off. And no module imports itself back through
others (an import circle), not even from inside a function, where it only hides the knot.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import cs_tui

DOMAIN = [
    "cs_tui.data.store",
    "cs_tui.data.io",
    "cs_tui.data.seed",
    "cs_tui.data.copy",
    "cs_tui.data.watch",
    "cs_tui.sla",
    "cs_tui.clock",
    "cs_tui.config",
    "cs_tui.safe_text",
    "cs_tui.durations",
    "cs_tui.search",
    "cs_tui.compliance",
    "cs_tui.sentiment",
    "cs_tui.phrases",
    "cs_tui.metrics",
    "cs_tui.roleplay",
    "cs_tui.kb",
]

PACKAGE_DIR = Path(cs_tui.__file__).parent


def test_domain_modules_do_not_import_textual():
    code = (
        "import importlib, sys\n"
        f"for name in {DOMAIN!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""


# In a fresh interpreter: this test process has imported half the package already, which would
# hide a module that only imports after another one.
_IMPORT_ALL = """
import importlib, pkgutil, traceback, cs_tui
failed = []
def note(name):
    failed.append(f"{name}: {traceback.format_exc(limit=-1).strip().splitlines()[-1]}")
for info in pkgutil.walk_packages(cs_tui.__path__, "cs_tui.", onerror=note):
    try:
        importlib.import_module(info.name)
    except BaseException:
        note(info.name)
print("\\n".join(failed))
"""


def test_every_module_of_the_package_imports():
    run = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL], capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "", "modules that do not import:\n" + run.stdout


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST):
    """Every import statement that runs, at any depth; `if TYPE_CHECKING:` blocks never do."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in _imports_in(child))
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _imports(node)


def _named(node: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    """The modules an import statement may load: `from a import b` is a.b or a's name b."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join([*anchor, *([node.module] if node.module else [])])
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports, read from the source (nothing is run)."""
    paths = {module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps = graph.setdefault(name, set())
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _named(node, package):
                while target and target not in paths:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    deps.add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One circle per knot of modules that import each other, as a path back to its start."""
    found, seen = [], set()
    for start in sorted(graph):
        if start in seen:
            continue
        path = _path_back(graph, start)
        if path:
            found.append(path)
            seen.update(path)
    return found


def _path_back(graph: dict[str, set[str]], start: str) -> list[str] | None:
    stack, visited = [(start, [start])], {start}
    while stack:
        node, path = stack.pop()
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                return [*path, start]
            if nxt not in visited:
                visited.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_no_import_circles_in_the_package():
    found = cycles(import_graph(PACKAGE_DIR))
    assert found == [], "import circles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_circle_finder_sees_an_import_inside_a_function(tmp_path):
    """The check above is only as good as its reading of imports: a circle closed by an import
    inside a function (the usual way to dodge one) is still found, one under TYPE_CHECKING
    (never run) is not."""
    pkg = tmp_path / "cs_tui"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cs_tui.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..c import g\n")
    (pkg / "c.py").write_text("import cs_tui.a\n")
    (pkg / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from cs_tui import e\n"
    )
    (pkg / "e.py").write_text("from cs_tui import d\n")
    assert cycles(import_graph(pkg)) == [["cs_tui.a", "cs_tui.sub.b", "cs_tui.c", "cs_tui.a"]]
