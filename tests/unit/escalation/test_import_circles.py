"""The escalation app's modules import one way (docs/architecture.md): `committee` → `triggers` →
`tasks` → `services` / `notifications` → `facts` → `rules`. Every import counts, those inside
functions too, so a circle cannot hide behind a function-level import."""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[3] / "escalation"


def imports_of(path: Path) -> set[str]:
    """The escalation modules (top-level names) that a module imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:  # from .x import y / from . import x
                if node.module:
                    found.add(node.module.split(".")[0])
                else:
                    found.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith("escalation."):
                found.add(node.module.split(".")[1])
            elif node.module == "escalation":
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("escalation."):
                    found.add(alias.name.split(".")[1])
    return found


def graph() -> dict[str, set[str]]:
    # The rules package imports nothing outside itself (test_rules_purity.py): a leaf here.
    modules = {p.stem: p for p in APP.glob("*.py")}
    names = set(modules) | {"rules"}
    edges = {name: imports_of(path) & names - {name} for name, path in modules.items()}
    return edges | {"rules": set()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                found.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_in_the_escalation_app():
    assert cycles(graph()) == []


def test_the_trigger_order():
    edges = graph()
    assert "triggers" in edges["committee"]
    assert edges["tasks"] >= {"services", "notifications"}
    assert "triggers" in edges["apps"]
    for module in ("tasks", "services", "notifications", "facts"):
        assert "triggers" not in edges[module], module
    for module in ("services", "notifications"):
        assert "tasks" not in edges[module], module
