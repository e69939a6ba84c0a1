"""The import graph drawn from the code (ast, imports inside functions included): no circle inside a package, and
imports between packages point one way, web -> notifier -> graph -> profiles (DESIGN.md §2)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("profiles", "graph", "notifier", "web")
# What each package may import of the others; web sits on top and may import all three.
MAY_IMPORT = {"profiles": set(), "graph": {"profiles"}, "notifier": {"graph", "profiles"},
              "web": {"notifier", "graph", "profiles"}}
# Circles that predate this test, in packages whose owners have not untangled them yet. Strict: once one is gone the
# test XPASSes and fails, so the marker cannot outlive the circle.
KNOWN_CIRCLES: dict[str, str] = {}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    """Every import statement, at any depth (a lazy import inside a function still runs, so it is an edge), except
    those under `if TYPE_CHECKING:`: they never run, and naming a type without importing it is their purpose."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _type_checking(node):
            for other in node.orelse:
                yield from _import_nodes(ast.Module(body=[other], type_ignores=[]))
        else:
            yield from _import_nodes(node)


def _imports(name: str, source: str, known: set[str], is_package: bool = False) -> set[str]:
    """The project modules `name` imports: `from a import b` names module a.b when it exists (a submodule), else a
    itself (a name defined in a)."""
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in _import_nodes(ast.parse(source, name)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:  # relative: climb from this module's package
            anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {m for m in found if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path.read_text(encoding="utf-8"), set(modules), path.name == "__init__.py")
            for name, path in modules.items()}


def knots(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan): each is one or more circles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def circle(graph: dict[str, set[str]], knot: set[str]) -> list[str]:
    """The shortest way from the knot's first module back to itself, inside the knot (breadth first)."""
    start = min(knot)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(graph.get(v, set()) & knot):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if w not in came_from:
                    came_from[w] = v
                    following.append(w)
        frontier = following
    raise AssertionError(f"no way back inside {sorted(knot)}")


def describe(graph: dict[str, set[str]]) -> list[str]:
    """Each knot as one circle through it, and every module caught in it when there are more."""
    lines = []
    for knot in knots(graph):
        path = circle(graph, knot)
        more = f"  (all caught: {', '.join(sorted(knot))})" if len(knot) > len(path) - 1 else ""
        lines.append(" -> ".join(path) + more)
    return lines


def _package(module: str) -> str:
    return module.split(".")[0]


def test_the_graph_sees_imports_inside_functions_and_prints_the_circle():
    known = {"notifier", "notifier.a", "notifier.b", "notifier.c", "notifier.d", "profiles.x"}
    sources = {
        "notifier.a": "from notifier.b import f\n",
        "notifier.b": "def f():\n    from . import c\n    import profiles.x\n",  # lazy and relative: still edges
        "notifier.c": "def g():\n    from notifier import a\n",
        "notifier.d": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from notifier.a import A\n",
    }
    graph = {name: _imports(name, source, known) for name, source in sources.items()}
    assert graph == {"notifier.a": {"notifier.b"}, "notifier.b": {"notifier.c", "profiles.x"},
                     "notifier.c": {"notifier.a"}, "notifier.d": set()}
    assert describe(graph) == ["notifier.a -> notifier.b -> notifier.c -> notifier.a"]
    graph["notifier.c"].add("notifier.d")
    graph["notifier.d"].add("notifier.a")
    assert describe(graph) == ["notifier.a -> notifier.b -> notifier.c -> notifier.a  "
                               "(all caught: notifier.a, notifier.b, notifier.c, notifier.d)"]


@pytest.mark.parametrize("package", [
    pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=KNOWN_CIRCLES[p])) if p in KNOWN_CIRCLES else p
    for p in PACKAGES])
def test_no_circle_inside_a_package(package):
    inside = {m: {d for d in deps if _package(d) == package}
              for m, deps in import_graph().items() if _package(m) == package}
    found = describe(inside)
    for line in found:
        print(f"circle in {package}/: {line}")
    assert not found, f"import circle(s) in {package}/: " + "; ".join(found)


def test_packages_import_one_way():
    wrong = sorted((m, d) for m, deps in import_graph().items() for d in deps
                   if _package(d) != _package(m) and _package(d) not in MAY_IMPORT[_package(m)])
    for m, d in wrong:
        print(f"against the one-way rule: {m} imports {d}")
    assert not wrong, "; ".join(f"{m} -> {d}" for m, d in wrong)
