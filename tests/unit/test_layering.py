"""The import order of the apps (docs/architecture.md §2), read from the source with `ast`.

Every import counts, at module level or inside a function: an import deferred into a function is
still a dependency, it is only hidden from Python's import-time circle detection.

- The user interfaces (`portal`, `monitoring`, `api`) stand side by side above the domain apps:
  no domain app imports them, and none imports another.
- The domain apps import only the apps below them, in `DOMAIN_ORDER`. Pure rules modules (no
  Django, no other app's imports) are a layer of their own under everything: any app may import
  them. An app's own pages and endpoints are adapters standing beside the user interfaces
  (`views`, `forms`, `urls`, `api`, `templatetags`, `admin`, `management` commands, and `sdtm`, the
  export mapping the `standards` registry loads): they may use the interfaces' kits
  (`portal.forms`, `api.views.base`), and no domain module imports them.
- No two modules import each other, directly or round a longer circle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

UI_APPS = frozenset({"portal", "monitoring", "api"})
# Settings, URLs and the Celery app: wires every app together; nothing below imports it.
COMPOSITION_ROOT = "config"
# The data standards exports read every domain app; each app's sdtm.py plugs into its registry.
EXPORTS = "standards"
# The domain apps, lowest first: each imports only the apps before it.
DOMAIN_ORDER = (
    "core",
    "operations",
    "trial",
    "accounts",
    "subjects",
    "dosing",
    "safety",
    "escalation",
)
# Modules (or packages) of an app's folder that stand beside the user interfaces (see above).
ADAPTERS = frozenset(
    {"views", "forms", "urls", "api", "templatetags", "admin", "management", "sdtm"}
)
# Runnable tools that drive the whole stack: the trial player starts the Celery app from config,
# the study-at-scale generator writes every app's rows.
ENTRY_POINTS = frozenset({"escalation.player", "operations.generator"})


def _apps() -> list[str]:
    return sorted(
        p.name
        for p in ROOT.iterdir()
        if (p / "__init__.py").exists() and p.name not in ("tests", "bench")
    )


def _modules() -> dict[str, tuple[Path, bool]]:
    """Every app module (migrations left out): dotted name -> (path, is a package)."""
    found = {}
    for app in _apps():
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            found[name] = (path, is_package)
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module `name` refers to (a name inside a module resolves to the module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> set[str]:
    """The project modules `module` imports, anywhere in its body."""
    path, is_package = MODULES[module]
    package = module.split(".") if is_package else module.split(".")[:-1]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - (node.level - 1)]
                base = ".".join([*parent, base] if base else parent)
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            resolved = _resolve(name)
            if resolved is not None and resolved != module:
                targets.add(resolved)
    return targets


GRAPH = {module: _imports(module) for module in MODULES}


def _app(module: str) -> str:
    return module.split(".")[0]


def _is_pure(module: str) -> bool:
    """No Django and no import of another app: a rules module (its own package's siblings only)."""
    path, _ = MODULES[module]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        else:
            continue
        if any(name.split(".")[0] == "django" for name in names):
            return False
    return all(_app(target) == _app(module) and _is_pure_cached(target) for target in GRAPH[module])


_PURE: dict[str, bool] = {}


def _is_pure_cached(module: str) -> bool:
    if module not in _PURE:
        _PURE[module] = False  # a circle among candidates is not pure
        _PURE[module] = _is_pure(module)
    return _PURE[module]


def _edges() -> Iterable[tuple[str, str]]:
    for module, targets in GRAPH.items():
        for target in sorted(targets):
            yield module, target


def _is_adapter(module: str) -> bool:
    return _app(module) not in UI_APPS and bool(set(module.split(".")[1:]) & ADAPTERS)


def _allowed(module: str, target: str) -> bool:
    source, dest = _app(module), _app(target)
    if source in (dest, COMPOSITION_ROOT) or module in ENTRY_POINTS:
        return True
    if dest == COMPOSITION_ROOT:
        return False
    if _is_adapter(module):
        return True
    if dest in UI_APPS:
        return False
    if _is_pure_cached(target):
        return True
    if source in UI_APPS or source == EXPORTS:
        return True
    if dest == EXPORTS or _is_adapter(target):
        return False
    if source in DOMAIN_ORDER and dest in DOMAIN_ORDER:
        return DOMAIN_ORDER.index(dest) < DOMAIN_ORDER.index(source)
    # An app not placed in DOMAIN_ORDER yet may import the domain apps (it sits above them);
    # a domain app may not import it until it is placed.
    return source not in DOMAIN_ORDER


def test_the_graph_is_read() -> None:
    assert {"portal.selectors", "escalation.selectors", "monitoring.pages.overview"} <= set(GRAPH)
    assert "escalation.selectors" in GRAPH["monitoring.pages.overview"]
    assert _is_pure_cached("escalation.rules.window")
    assert not _is_pure_cached("escalation.selectors")


@pytest.mark.parametrize("app", sorted(UI_APPS))
def test_no_user_interface_imports_another(app: str) -> None:
    crossing = [
        f"{module} -> {target}"
        for module, target in _edges()
        if _app(module) == app and _app(target) in UI_APPS - {app}
    ]
    assert not crossing, crossing


def test_no_app_below_the_user_interfaces_imports_them() -> None:
    upward = [
        f"{module} -> {target}"
        for module, target in _edges()
        if _app(target) in UI_APPS
        and _app(module) not in UI_APPS | {COMPOSITION_ROOT}
        and module not in ENTRY_POINTS
        and not _is_adapter(module)
    ]
    assert not upward, upward


def test_every_import_follows_the_layers() -> None:
    against = [
        f"{module} -> {target}" for module, target in _edges() if not _allowed(module, target)
    ]
    assert not against, "imports against docs/architecture.md §2:\n" + "\n".join(against)


def _circles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def _module_graph() -> dict[str, set[str]]:
    # A package importing its own submodules (re-exports) is not a circle of design.
    return {
        module: {t for t in targets if not t.startswith(module + ".")}
        for module, targets in GRAPH.items()
    }


def test_no_new_import_circle_between_modules() -> None:
    circles = _circles(_module_graph())
    assert not circles, sorted(sorted(c) for c in circles)


def test_no_import_circle_between_apps() -> None:
    # Pure rules modules, adapters and entry points are not dependencies of their app (above).
    apps: dict[str, set[str]] = defaultdict(set)
    for module, target in _edges():
        if _app(module) == _app(target) or _is_pure_cached(target):
            continue
        if _is_adapter(module) or module in ENTRY_POINTS or _app(module) == COMPOSITION_ROOT:
            continue
        apps[_app(module)].add(_app(target))
    assert not _circles(dict(apps)), _circles(dict(apps))


def test_the_circle_finder_finds_circles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert _circles(graph) == [frozenset({"a", "b", "c"})]


@pytest.mark.parametrize(
    ("module", "target", "allowed"),
    [
        ("monitoring.views", "escalation.selectors", True),  # a user interface over the domain
        ("escalation.services", "portal.selectors", False),  # the domain over a user interface
        ("subjects.services", "escalation.models", False),  # a domain app over one above it
        ("escalation.services", "subjects.selectors", True),  # ... and below it
        ("trial.models", "dosing.schedule", True),  # a pure rules module, from anywhere
        ("trial.admin", "subjects.models", True),  # an adapter over the domain
        ("visits.views", "portal.forms", True),  # an app's pages use the portal's form kit
        ("visits.models", "portal.forms", False),  # ... its data does not
        ("subjects.services", "standards.services", False),  # the domain over the exports
        ("subjects.sdtm", "standards.registry", True),  # the export plug-in into its registry
        ("escalation.selectors", "config.settings", False),  # nothing below wires the apps
    ],
)
def test_the_layer_rule_on_examples(module: str, target: str, allowed: bool) -> None:
    assert _allowed(module, target) is allowed
