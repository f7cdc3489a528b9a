"""The import-layer contract, checked on the source: imports point one way.

cli -> check -> (report, scenarios); scenarios -> kernel -> engine; memmap and probe stand
beside kernel. Every import counts, including those under `if TYPE_CHECKING:` and inside
functions, since a lazy import is still a dependency. The whole package's module graph
must have no cycle, and the kernel layer's ground floor (the handle and what it is made
of) imports none of the modelled functions above it.
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


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    color: dict[str, int] = {}  # 1 on the stack, 2 done
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
    return cycles


def test_the_module_graph_has_no_cycle() -> None:
    graph = _graph()
    assert sum(m.startswith(f"{PKG}.kernel.") for m in graph) > 20  # the walk found it
    # a package's __init__ re-exporting its own modules is not a cycle of concepts
    for mod in graph:
        graph[mod] = {d for d in graph[mod] if not mod.startswith(d + ".")}
    cycles = _cycles(graph)
    assert not cycles, "\n".join(cycles[:20])


def test_a_cycle_is_found() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a -> b -> c -> a"]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_kernel_ground_floor_imports_nothing_above_it() -> None:
    """step, generation, geometry, arch, the configurations and the handle: every
    modelled function takes a handle, so none of these may import a modelled function."""
    graph = _graph()
    ground = {f"{PKG}.kernel.{m}" for m in ("step", "generation", "geometry", "arch",
                                             "hotplug.config", "config", "handle")}
    for m in sorted(ground):
        above = {d for d in graph[m] if _layer(d) == "kernel" and d not in ground
                 and d not in (f"{PKG}.kernel", f"{PKG}.kernel.hotplug")}
        assert not above, f"{m} imports {sorted(above)}"


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
