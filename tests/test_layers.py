"""The import-layer contract, checked on the source: imports point one way.

cli -> check -> (report, scenarios); scenarios -> kernel -> engine; memmap and probe stand
beside kernel. Every import counts, including those under `if TYPE_CHECKING:` and inside
functions, since a lazy import is still a dependency. The whole package's module graph
must have no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = "pagerace"

# subpackage -> the subpackages it may import (itself always allowed)
ALLOWED: dict[str, set[str]] = {
    "engine": set(),
    "kernel": {"engine"},
    "memmap": {"kernel", "engine"},
    "probe": {"kernel", "engine"},
    "litmus": {"engine"},
    "scenarios": {"kernel", "engine"},
    "report": {"engine", "check"},
    "check": {"scenarios", "kernel", "engine", "report", "memmap"},
    "cli": {"check", "report", "scenarios", "kernel", "engine", "memmap", "probe", "litmus"},
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = _module_name(path)
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith(PKG))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = me.split(".")
                base = base if is_pkg else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith(PKG):
                out.add(mod)
                for a in node.names:  # `from pagerace.x import module`
                    out.add(f"{mod}.{a.name}")
    return out


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in (SRC / PKG).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        graph[name] = {m for m in _imports(path) if m in files and m != name}
    return graph


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_import_respects_the_layers() -> None:
    bad = []
    for mod, deps in _graph().items():
        me = _layer(mod)
        if me is None or me not in ALLOWED:
            continue
        for d in deps:
            other = _layer(d)
            if other is None or other == me:
                continue
            if other not in ALLOWED[me]:
                bad.append(f"{mod} imports {d}")
    assert not bad, "\n".join(sorted(bad))


def test_the_module_graph_has_no_cycle() -> None:
    graph = _graph()
    # a package's __init__ re-exporting its own modules is not a cycle of concepts
    for mod in graph:
        graph[mod] = {d for d in graph[mod] if not mod.startswith(d + ".")}
    color: dict[str, int] = {}
    path: list[str] = []
    cycles: list[str] = []

    def visit(m: str) -> None:
        color[m] = 1
        path.append(m)
        for d in sorted(graph[m]):
            if color.get(d) == 1:
                cycles.append(" -> ".join(path[path.index(d):] + [d]))
            elif d not in color:
                visit(d)
        path.pop()
        color[m] = 2

    for m in sorted(graph):
        if m not in color:
            visit(m)
    assert not cycles, "\n".join(cycles[:20])


def test_the_analyser_sees_lazy_relative_and_type_checking_imports(tmp_path: Path) -> None:
    global SRC
    pkg = tmp_path / PKG / "kernel"
    pkg.mkdir(parents=True)
    f = pkg / "x.py"
    f.write_text("from typing import TYPE_CHECKING\n"
                 "if TYPE_CHECKING:\n    from pagerace.scenarios import base\n"
                 "def g():\n    from ..report import text\n"
                 "from . import y\n", encoding="utf-8")
    saved, SRC = SRC, tmp_path
    try:
        found = _imports(f)
    finally:
        SRC = saved
    assert {"pagerace.scenarios.base", "pagerace.report.text", "pagerace.kernel.y"} <= found
