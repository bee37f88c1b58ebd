"""The layering rules of design.md, checked on the source: pure layers import no I/O stacks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "symphony_mesh"
PURE = ("model", "expr", "engine")
IO_STACKS = ("grpc", "grpc_health", "grpc_reflection", "grpc_status", "aiosqlite", "sqlite3")
GRPC_ALLOWED = ("server", "federation", "security", "cli", "api")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _modules(package: str) -> list[Path]:
    return sorted((PACKAGE / package).rglob("*.py"))


@pytest.mark.parametrize("package", PURE)
def test_pure_layers_import_no_grpc_or_sql(package: str) -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(_imports(path) & set(IO_STACKS))
        for path in _modules(package)
        if _imports(path) & set(IO_STACKS)
    }
    assert offenders == {}


def test_only_the_store_speaks_sql() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.parts[len(PACKAGE.parts)] != "store" and {"sqlite3", "aiosqlite"} & _imports(path)
    ]
    assert offenders == []


def test_grpc_stays_at_the_edges() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.parts[len(PACKAGE.parts)] not in GRPC_ALLOWED and "grpc" in _imports(path)
    ]
    assert offenders == []
