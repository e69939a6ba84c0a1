"""No request handler in web/ writes to the graph except through a use case (web/usecases/) — read off the code:
every method of a graph/ repository that writes (its Cypher creates, merges, sets, deletes or removes, or it opens a
write transaction) is found with `ast`, and no module under web/api or web/pages may call one. A new write in a
handler fails here, naming the file and line; it belongs in a use case, which every channel then shares."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = [*sorted((ROOT / "web" / "api").glob("*.py")), *sorted((ROOT / "web" / "pages").glob("*.py")),
            ROOT / "web" / "webhooks.py"]
WRITES = re.compile(r"execute_write|\b(CREATE|MERGE|SET|DELETE|REMOVE)\b")
# Receivers that are not graph repositories although their methods share a name (Redis: sessions, limits, codes).
NOT_THE_GRAPH = re.compile(r"redis|session|pipe|store\.redis")


def graph_write_methods() -> dict[str, list[str]]:
    """Method name -> the repositories (graph/<module>.<Class>) whose method of that name writes."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "graph").glob("*.py")):
        text = path.read_text()
        for cls in (n for n in ast.parse(text).body if isinstance(n, ast.ClassDef)):
            for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")):
                if WRITES.search(ast.get_source_segment(text, fn) or ""):
                    found.setdefault(fn.name, []).append(f"{path.stem}.{cls.name}")
    return found


def use_case_modules(tree: ast.Module) -> set[str]:
    """The names a module binds to web.usecases modules (`from web.usecases import register`): calls on them are
    use cases, whatever the function is called."""
    return {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            and node.module == "web.usecases" for alias in node.names}


def calls_to(path: Path, names: set[str]) -> list[str]:
    text = path.read_text()
    tree = ast.parse(text)
    use_cases = use_case_modules(tree)
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names:
            receiver = ast.get_source_segment(text, node.func.value) or ""
            if not NOT_THE_GRAPH.search(receiver) and receiver not in use_cases:
                where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
                hits.append(f"{where}:{node.lineno}: {receiver}.{node.func.attr}(…)")
    return hits


def test_the_graph_has_writes_to_look_for():
    writes = graph_write_methods()
    assert {"add_person", "add_material", "file", "move", "record", "refuse", "mark_read", "set"} <= set(writes)


def test_no_handler_writes_to_the_graph_except_through_a_use_case():
    names = set(graph_write_methods())
    hits = [hit for path in HANDLERS for hit in calls_to(path, names)]
    assert hits == [], "move these writes into a use case (web/usecases/):\n" + "\n".join(hits)


def test_the_check_finds_a_write_in_a_handler(tmp_path):
    """The check itself: a handler calling a repository's write directly is named."""
    handler = tmp_path / "handler.py"
    handler.write_text("def post():\n    services().subjects.add_person(person)\n    redis.set('k', 1)\n")
    assert [h.split(": ", 1)[1] for h in calls_to(handler, {"add_person", "set"})] == [
        "services().subjects.add_person(…)"]

