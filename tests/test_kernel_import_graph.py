"""The import graph of the kernel layer has no cycle (TYPE_CHECKING imports included).

Built with `ast` from the sources: every `import X` and `from X import Y` anywhere in a
module (inside `if TYPE_CHECKING:` and inside functions too) is an edge; `from pkg import
name` where `pkg.name` is a module is an edge to that module. Extend `ROOTS` to check more
of the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
ROOTS = ("pagerace.kernel",)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: str) -> dict[str, Path]:
    base = SRC / root.replace(".", "/")
    return {module_name(p): p for p in sorted(base.rglob("*.py"))}


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                pkg = name if is_pkg else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    pkg = pkg.rpartition(".")[0]
                base = f"{pkg}.{node.module}" if node.module else pkg
            else:
                base = node.module or ""
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.add(sub if sub in known else base)
    return {m for m in out if m in known and m != name}


def import_graph(roots: tuple[str, ...]) -> dict[str, set[str]]:
    mods: dict[str, Path] = {}
    for r in roots:
        mods.update(modules(r))
    known = set(mods)
    return {m: imports_of(p, m, known) for m, p in mods.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state and (found := visit(n)) is not None:
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)) is not None:
            return found
    return None


def test_the_kernel_layer_has_no_import_cycle() -> None:
    graph = import_graph(ROOTS)
    assert len(graph) > 20  # the walk found the layer
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_ground_floor_imports_nothing_above_it() -> None:
    graph = import_graph(ROOTS)
    ground = {"pagerace.kernel.step", "pagerace.kernel.generation",
              "pagerace.kernel.geometry", "pagerace.kernel.arch",
              "pagerace.kernel.hotplug.config", "pagerace.kernel.config",
              "pagerace.kernel.handle"}
    for m in ground:
        above = {n for n in graph[m] if n not in ground and n != "pagerace.kernel.hotplug"}
        assert not above, f"{m} imports {above}"


@pytest.mark.parametrize("source, edges", [
    ("if TYPE_CHECKING:\n    from pagerace.kernel.kernel import Kernel\n",
     {"pagerace.kernel.kernel"}),
    ("from pagerace.kernel import buddy\n", {"pagerace.kernel.buddy"}),
    ("def f():\n    from . import rcu\n", {"pagerace.kernel.rcu"}),
])
def test_the_graph_sees_every_kind_of_import(tmp_path: Path, source: str,
                                             edges: set[str]) -> None:
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    known = set(modules("pagerace.kernel"))
    assert imports_of(path, "pagerace.kernel.probe", known) == edges


def test_a_cycle_is_found() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
