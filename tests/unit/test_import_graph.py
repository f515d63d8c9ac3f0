"""The house's floors, read from the source: imports only point down.

Entry (`main`) → doors (`launch` | `cli` + `commands/`) → library (the rest).
Every import counts, also the lazy ones inside functions and those only for
type checking, so a loop cannot hide behind a deferred import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import codex_cf

PACKAGE = Path(codex_cf.__file__).parent
ENTRY = {"codex_cf.main", "codex_cf.__main__"}
DOORS = {"codex_cf.launch", "codex_cf.cli", "codex_cf.commands"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (PACKAGE.parent / relative).with_suffix(".py").exists() or (
        PACKAGE.parent / relative / "__init__.py"
    ).exists()


def imports_of(path: Path) -> set[str]:
    """The codex_cf modules a file imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path.name}: relative import"
            found.add(node.module)
            found |= {
                f"{node.module}.{alias.name}"
                for alias in node.names
                if _is_module(f"{node.module}.{alias.name}")
            }
    return {name for name in found if name.split(".")[0] == "codex_cf"}


def graph() -> dict[str, set[str]]:
    return {_module_name(path): imports_of(path) for path in sorted(PACKAGE.rglob("*.py"))}


def _in(name: str, floor: set[str]) -> bool:
    return any(name == top or name.startswith(top + ".") for top in floor)


def reachable(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += edges.get(name, set())
    return seen


def test_the_reader_sees_lazy_imports() -> None:
    """The control: main's lazy import of the launch and cli is found."""
    edges = graph()
    assert {"codex_cf.launch", "codex_cf.cli", "codex_cf.terminal"} <= edges["codex_cf.main"]
    assert "codex_cf.commands.setup_cmd" in edges["codex_cf.main"]


def test_nothing_imports_the_entry() -> None:
    importers = {
        name: sorted(n for n in targets if n == "codex_cf.main")
        for name, targets in graph().items()
        if name != "codex_cf.__main__"
    }
    assert {name: found for name, found in importers.items() if found} == {}


def test_the_launch_reaches_no_command_nor_the_click_layer() -> None:
    reached = reachable("codex_cf.launch", graph())
    assert "codex_cf.profile_facts" in reached  # the walk does go down
    assert sorted(n for n in reached if _in(n, {"codex_cf.commands", "codex_cf.cli"})) == []
    assert sorted(n for n in reached if _in(n, ENTRY)) == []


def test_the_library_imports_neither_door() -> None:
    upward = {
        name: sorted(n for n in targets if _in(n, DOORS | ENTRY))
        for name, targets in graph().items()
        if not _in(name, DOORS | ENTRY)
    }
    assert {name: found for name, found in upward.items() if found} == {}


def test_commands_do_not_import_the_launch() -> None:
    upward = {
        name: sorted(n for n in targets if n == "codex_cf.launch")
        for name, targets in graph().items()
        if _in(name, {"codex_cf.cli", "codex_cf.commands"})
    }
    assert {name: found for name, found in upward.items() if found} == {}
