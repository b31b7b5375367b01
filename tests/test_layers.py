"""The package layering of ``src/voiceops``: ``core/`` is the leaf and no two parts import
each other, directly or around a loop.

Every import counts: module level, inside functions and under ``TYPE_CHECKING``, since each
one is a dependency a reader has to hold in mind. A part is a subpackage (``agent``,
``store`` …) or a top-level module (``config``, ``metrics`` …).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import voiceops

ROOT = Path(voiceops.__file__).parent


def _part_of(module: str) -> str | None:
    """``voiceops.store.repo`` -> ``store``; ``voiceops`` itself -> ``voiceops``."""
    parts = module.split(".")
    if parts[0] != "voiceops":
        return None
    return parts[1] if len(parts) > 1 else "voiceops"


def _own_part(path: Path) -> str:
    relative = path.relative_to(ROOT)
    if len(relative.parts) == 1:
        return "voiceops" if relative.name == "__init__.py" else relative.stem
    return relative.parts[0]


def _imports(source: str, package: str) -> Iterator[tuple[str, int]]:
    """Absolute module names a module of ``package`` imports, with their line numbers."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module, node.lineno
            for alias in node.names:
                # ``from voiceops import agent`` imports the part ``agent``.
                if module == "voiceops" and (ROOT / alias.name).exists():
                    yield f"voiceops.{alias.name}", node.lineno


def part_graph() -> dict[str, dict[str, list[str]]]:
    """part -> {imported part -> ["file:line", ...]} for every cross-part import."""
    graph: dict[str, dict[str, list[str]]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        source = _own_part(path)
        edges = graph.setdefault(source, {})
        package = ".".join(("voiceops", *path.relative_to(ROOT).parent.parts))
        for module, line in _imports(path.read_text(), package):
            target = _part_of(module)
            if target is None or target == source:
                continue
            edges.setdefault(target, []).append(f"{path.relative_to(ROOT)}:{line}")
    return graph


def _cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """Strongly connected components with more than one part (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_cycle_between_parts() -> None:
    graph = part_graph()
    cycles = _cycles(graph)
    detail = [
        f"{a} -> {b}: {', '.join(graph[a][b][:3])}"
        for cycle in cycles
        for a in cycle
        for b in cycle
        if b in graph.get(a, {})
    ]
    assert not cycles, "import cycles between parts:\n" + "\n".join(detail)


def test_core_is_the_leaf() -> None:
    assert part_graph()["core"] == {}


def test_graph_sees_type_checking_local_and_relative_imports() -> None:
    # The walk must not miss the imports that hide cycles: under TYPE_CHECKING, inside
    # functions, relative ones.
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from voiceops.store.repo import CallRepo\n"
        "def f() -> None:\n"
        "    from voiceops import web\n"
        "from ..core import events\n"
        "from .brain import x\n"
    )
    found = sorted(m for m, _ in _imports(source, "voiceops.flow"))
    assert found == [
        "typing",
        "voiceops",
        "voiceops.core",
        "voiceops.flow.brain",
        "voiceops.store.repo",
        "voiceops.web",
    ]


def test_cycle_finder_finds_a_loop() -> None:
    graph = {"a": {"b": ["x"]}, "b": {"c": ["y"]}, "c": {"a": ["z"]}, "d": {"a": ["w"]}}
    assert _cycles(graph) == [["a", "b", "c"]]
