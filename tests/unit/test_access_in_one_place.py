"""Access is decided in one place (docs/architecture.md §6): outside `accounts/`, no module reads
a user's memberships or the roles tables to decide what the user may do; it asks
`accounts/scoping.py`."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Reading these is deciding access from roles: `accounts.scoping` does it for everyone.
ROLE_TABLES = frozenset({"CAPABILITIES", "SITE_ROLES", "STUDY_ROLES", "EXPORT_ROLES"})


def _app_modules() -> list[Path]:
    return sorted(
        path
        for app in ROOT.iterdir()
        if (app / "__init__.py").exists() and app.name not in ("tests", "bench", "accounts")
        for path in app.rglob("*.py")
        if "migrations" not in path.parts
    )


def _role_checks(path: Path) -> list[str]:
    """`file:line what` of each memberships read or roles-table use in the module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Attribute) and node.attr == "memberships_cached":
            found.append(f"{path.name}:{node.lineno} memberships_cached")
        elif isinstance(node, ast.Name) and node.id in ROLE_TABLES:
            found.append(f"{path.name}:{node.lineno} {node.id}")
        elif isinstance(node, ast.ImportFrom) and node.module == "accounts.roles":
            names = {alias.name for alias in node.names} & ROLE_TABLES
            found.extend(f"{path.name}:{node.lineno} {name}" for name in names)
    return sorted(found)


def test_the_modules_are_read() -> None:
    paths = {p.relative_to(ROOT).as_posix() for p in _app_modules()}
    assert {"portal/templatetags/portal.py", "api/views/base.py", "standards/services.py"} <= paths


def test_no_role_check_outside_accounts() -> None:
    found = [
        f"{path.parent.relative_to(ROOT)}/{check}"
        for path in _app_modules()
        for check in _role_checks(path)
    ]
    assert not found, "ask accounts/scoping.py instead:\n" + "\n".join(found)


def test_a_role_check_is_found(tmp_path: Path) -> None:
    module = tmp_path / "views.py"
    module.write_text(
        "from accounts.roles import SITE_ROLES\n"
        "def f(user):\n"
        "    return any(m.role in SITE_ROLES for m in user.memberships_cached())\n"
    )
    assert _role_checks(module) == [
        "views.py:1 SITE_ROLES",
        "views.py:3 SITE_ROLES",
        "views.py:3 memberships_cached",
    ]
