"""No module under bot/ imports itself back, at any distance. Every import of a bot.* module that can run counts,
at the top of a file or inside a function, so a cycle hidden by a late import still fails here. Imports under
`if TYPE_CHECKING:` never run (they name types for mypy: bot/keys.py names a class of every layer that way) and are
left out."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
# Cycles that were allowed while they were untied; an entry that no longer closes a cycle fails below, so this
# list only shrinks. It is empty: keep it so.
ALLOWED: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(BOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(BOT.rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The bot.* modules this file imports anywhere: `from bot.x import y` names bot.x.y when y is a module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runnable(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                child = f"{source}.{alias.name}"
                found.add(child if child in known else source)
    return {target for target in found if target in known and target != name}


def _runnable(tree: ast.AST) -> list[ast.AST]:
    """Every node, but for the bodies of `if TYPE_CHECKING:` (their `else:` does run)."""
    nodes: list[ast.AST] = []
    pending = [tree]
    while pending:
        node = pending.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)
        else:
            pending.extend(ast.iter_child_nodes(node))
    return nodes


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imported(name, path, known) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan), shortest from its first module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return [_shortest_cycle(edges, group) for group in groups]


def _shortest_cycle(edges: dict[str, set[str]], group: set[str]) -> list[str]:
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(edges[node] & group):
                if target == start:
                    return paths[node] + [start]
                if target not in paths:
                    paths[target] = paths[node] + [target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle in {sorted(group)}")


def test_the_checker_sees_a_cycle_through_a_late_import() -> None:
    edges = {"bot.a": {"bot.b"}, "bot.b": {"bot.c"}, "bot.c": {"bot.a"}, "bot.d": {"bot.a"}}
    assert cycles(edges) == [["bot.a", "bot.b", "bot.c", "bot.a"]]


def test_the_checker_reads_function_level_and_from_imports(tmp_path: Path) -> None:
    source = tmp_path / "web.py"
    source.write_text(
        "from typing import TYPE_CHECKING\nfrom bot import keys\nfrom . import pages\n\n"
        "if TYPE_CHECKING:\n    from bot.app import create_app\n\n"
        "def late():\n    from bot.staff.pages import overview\n"
    )
    known = {"bot.app", "bot.keys", "bot.staff.pages", "bot.staff.pages.overview", "bot.staff.web"}
    assert imported("bot.staff.web", source, known) == {"bot.keys", "bot.staff.pages", "bot.staff.pages.overview"}


def test_no_module_under_bot_imports_itself_back() -> None:
    edges = graph()
    assert len(edges) > 50, "the graph should cover every module under bot/"
    for source, target in ALLOWED:
        edges[source].discard(target)
    found = cycles(edges)
    assert not found, "import cycles under bot/:\n" + "\n".join(describe(edges, cycle) for cycle in found)


def describe(edges: dict[str, set[str]], cycle: list[str]) -> str:
    """The cycle, and every module tied into the same knot with it."""
    knot = sorted(m for m in reachable(edges, cycle[0]) if cycle[0] in reachable(edges, m))
    others = [m for m in knot if m not in cycle]
    return " -> ".join(cycle) + (f"\n    (with {', '.join(others)})" if others else "")


def test_every_allowed_import_still_closes_a_cycle() -> None:
    edges = graph()
    for source, target in sorted(ALLOWED):
        assert target in edges[source], f"{source} no longer imports {target}: drop it from ALLOWED"
        assert source in reachable(edges, target), f"{source} -> {target} closes no cycle now: drop it from ALLOWED"


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    pending = [start]
    while pending:
        for target in edges[pending.pop()] - seen:
            seen.add(target)
            pending.append(target)
    return seen
