"""The shape of the code: adapters use the core's front door only; the core stays
platform-neutral; the core's modules import each other without cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """Every module a file imports: (name, line, inside a function)."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno, nested) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.append((child.module, child.lineno, nested))
                found.extend((f"{child.module}.{alias.name}", child.lineno, nested) for alias in child.names)
            visit(child, inner)

    visit(tree, False)
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("path", modules("adapters"), ids=lambda p: str(p.relative_to(ROOT)))
def test_adapters_use_the_front_door_only(path):
    """No adapter imports the core's models or database, SQLAlchemy, or the wiring (bot/)."""
    forbidden = ("core.models", "core.db", "sqlalchemy", "bot")
    bad = [f"{name} (line {line})" for name, line, _ in imports(path) if under(name, forbidden)]
    assert not bad, f"{path.relative_to(ROOT)} reaches around the core: {', '.join(bad)}"


@pytest.mark.parametrize("path", modules("core"), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_is_platform_neutral(path):
    forbidden = ("slack_bolt", "slack_sdk", "discord", "apscheduler", "aiohttp", "adapters", "bot")
    bad = [f"{name} (line {line})" for name, line, _ in imports(path) if under(name, forbidden)]
    assert not bad, f"{path.relative_to(ROOT)} imports outside the core: {', '.join(bad)}"


def test_core_imports_have_no_cycles_and_none_hide_in_functions():
    graph: dict[str, set[str]] = {}
    hidden: list[str] = []
    for path in modules("core"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        deps = graph.setdefault(name, set())
        for imported, line, nested in imports(path):
            if not under(imported, ("core",)):
                continue
            target = imported if (ROOT / Path(*imported.split("."))).with_suffix(".py").exists() or (
                ROOT / Path(*imported.split(".")) / "__init__.py").exists() else imported.rsplit(".", 1)[0]
            if target == name:
                continue
            if nested:
                hidden.append(f"{name} imports {target} inside a function (line {line})")
            deps.add(target)
    assert not hidden, "; ".join(hidden)

    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep):] + [dep]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
