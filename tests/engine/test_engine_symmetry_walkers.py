"""The walker scenario's symmetry: the stateful search with and without it against DPOR
(itself cross-checked against naive DFS) - same violation kinds, same terminal states up
to renaming the walkers - and the renaming of per-CPU state."""

from __future__ import annotations

import pytest
from twin_programs import orbit_fp

from pagerace.engine import explore
from pagerace.engine.execution import Execution
from pagerace.engine.symmetry import check_initial, transposition
from pagerace.kernel.symmetry import CpuList, CpuPairs, CpuRenaming
from pagerace.scenarios.catalog import load_scenario

CELLS = [("G2", "x86", "unaligned", "pfn"), ("G0", "x86", "aligned", "pfn"),
         ("G2", "x86", "unaligned", "pagecache")]


@pytest.mark.parametrize("gen,arch,target,walker", CELLS)
def test_stateful_matches_dpor_on_two_walkers(gen: str, arch: str, target: str,
                                              walker: str) -> None:
    sc = load_scenario("hvo-speculative-walker")
    p = sc.build({"gen": gen, "arch": arch, "target": target, "walker": walker,
                  "walkers": "2"})
    assert p.symmetry is not None
    check_initial(p.symmetry, p.initial, len(p.threads))
    ends: set[str] = set()

    def seen(ex: Execution) -> None:
        if ex.violation is None and ex.finished():
            ends.add(orbit_fp(p, ex.state, ex.results))
    d = explore(p, "dpor", stop_on_violation=False, on_execution=seen)
    sym = explore(p, "stateful", stop_on_violation=False)
    plain = explore(p, "stateful", stop_on_violation=False, symmetry=False)
    kinds = {v.kind for v in d.violations}
    assert {v.kind for v in sym.violations} == kinds == {v.kind for v in plain.violations}
    assert sym.terminal_states == ends
    assert d.sometimes == sym.sometimes == plain.sometimes
    assert sym.stats.states < plain.stats.states


def test_cpu_renaming() -> None:
    r = CpuRenaming([0, 1, 2])
    swap = transposition(3, 1, 2)
    assert r.rename(("rcu", 1, "nesting"), 1, swap) == (("rcu", 2, "nesting"), 1)
    assert r.rename(("tlb", 2), ((5, 64, "ro"),), swap) == (("tlb", 1), ((5, 64, "ro"),))
    assert r.rename(("tlb", 0), (), swap) == (("tlb", 0), ())
    assert r.rename(("ghost", "frame_freed_by", 7), "put_page on CPU 1", swap) == \
        (("ghost", "frame_freed_by", 7), "put_page on CPU 2")
    assert r.rename(("desc", 1, 2, "refcount"), 1, swap) == (("desc", 1, 2, "refcount"), 1)
    assert r.rename_result(CpuList((1, 2)), swap) == (2, 1)
    assert r.rename_result(CpuPairs(((2, 5),)), swap) == ((1, 5),)
    assert r.rename_result((1, 2), swap) == (1, 2)  # an untyped tuple names no CPU


@pytest.mark.parametrize("gen,arch,target,walker", CELLS)
def test_dpor_with_symmetry_matches_dpor_without(gen: str, arch: str, target: str,
                                                 walker: str) -> None:
    p = load_scenario("hvo-speculative-walker").build(
        {"gen": gen, "arch": arch, "target": target, "walker": walker, "walkers": "2"})
    ends: set[str] = set()

    def seen(ex: Execution) -> None:
        if ex.violation is None and ex.finished():
            ends.add(orbit_fp(p, ex.state, ex.results))
    plain = explore(p, "dpor", stop_on_violation=False, symmetry=False, on_execution=seen)
    sym = explore(p, "dpor", stop_on_violation=False)
    assert {v.kind for v in sym.violations} == {v.kind for v in plain.violations}
    assert sym.terminal_states == ends
    assert sym.sometimes == plain.sometimes
    assert sym.stats.executions < plain.stats.executions
