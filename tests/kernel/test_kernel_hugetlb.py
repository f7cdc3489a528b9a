"""The hugetlb life cycle, and the HVO vs speculative-walker race where the record is clear.

The race programs below follow bd225530a4c7's diagram (CPU 1 frees an LRU page, reuses it
as a hugetlb tail, HVO, hands the folio out; CPU 2 is a speculative PFN walker). Only the
verdicts the kernel record states are asserted: G0 faults on x86 (Frank van der Linden,
June 2024); G1 faults through a fake head on every architecture (the race in v6.15's
page_count_writable() comment); G2 does not fault. Everything else is left to the checker.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import pytest

from pagerace.engine.explorer import explore
from pagerace.engine.ops import Store
from pagerace.engine.program import Program, Property, ThreadSpec
from pagerace.kernel import GENERATION_NAMES, Kernel, KernelConfig
from pagerace.kernel.buddy import pfn_is_free
from pagerace.kernel.hugetlb.hugetlb import pool_loc
from pagerace.kernel.observe import pte_of, read_field
from pagerace.kernel.step import Gen
from pagerace.kernel.vmemmap import REFCOUNT

State = Mapping[Hashable, Any]
GOT = ("got",)


@pytest.mark.parametrize("gen", GENERATION_NAMES)
def test_life_cycle_alloc_hvo_pool_user_free(gen: str) -> None:
    k = Kernel(KernelConfig(gen=gen))
    state = k.initial_state()
    folio = k.run_setup(state, lambda: k.alloc_hugetlb_folio(containing=3))
    assert folio == 0 and read_field(k, state, 0, REFCOUNT) == 0  # frozen
    assert read_field(k, state, 0, "page_type") == "hugetlb"
    k.run_setup(state, lambda: k.hugetlb_vmemmap_optimize_folio(folio))
    k.run_setup(state, lambda: k.enqueue_hugetlb_folio(folio))
    assert state[pool_loc(folio)] == "free"
    k.run_setup(state, lambda: k.dequeue_hugetlb_folio(folio))
    assert read_field(k, state, 0, REFCOUNT) == 1 and state[pool_loc(folio)] == "active"
    k.run_setup(state, lambda: k.put_page(9))  # the user drops it via a tail
    assert all(pfn_is_free(dict(state), p) for p in range(16))
    assert all(pte_of(k, state, v)[1] == "rw" for v in range(4))  # type: ignore[index]
    assert read_field(k, state, 0, "page_type") is None


def test_free_to_the_pool_keeps_the_folio_frozen() -> None:
    k = Kernel(KernelConfig(hugetlb_free_to_buddy=False))
    state = k.initial_state()
    folio = k.run_setup(state, lambda: k.alloc_hugetlb_folio(containing=3))
    k.run_setup(state, lambda: k.hugetlb_vmemmap_optimize_folio(folio))
    k.run_setup(state, lambda: k.dequeue_hugetlb_folio(folio))
    k.run_setup(state, lambda: k.put_page(folio))
    assert state[pool_loc(folio)] == "free" and read_field(k, state, 0, REFCOUNT) == 0
    assert pte_of(k, state, 1)[1] == "ro"  # type: ignore[index]
    assert k.run_setup(state, lambda: k.dissolve_free_hugetlb_folio(folio))
    assert all(pfn_is_free(dict(state), p) for p in range(16))


def test_a_speculative_reference_makes_the_freeze_fail() -> None:
    k = Kernel()
    state = k.initial_state()

    def allocator() -> Gen:
        folio = yield from k.on_cpu(0).alloc_hugetlb_folio(containing=0)
        yield Store(("folio",), folio)

    def walker() -> Gen:
        w = k.on_cpu(1)
        if (yield from w.get_page_unless_zero(0)):
            yield from w.put_page(0)

    def consistent(s: State) -> bool:
        if s[("folio",)] == 0:
            return read_field(k, s, 0, REFCOUNT) == 0
        return all(pfn_is_free(dict(s), p) for p in range(16))

    prog = Program([ThreadSpec("alloc", allocator), ThreadSpec("walker", walker)],
                   initial=state,
                   properties=[Property("frozen or given back", "at_end", consistent),
                               Property("freeze failed", "sometimes",
                                        lambda s: s.get(("folio",), 0) is None)])
    r = explore(prog, "dpor", stop_on_violation=False)
    assert r.complete and r.violations == []


def hvo_race(gen: str, arch: str, page1: int) -> Program:
    k = Kernel(KernelConfig(gen=gen, arch=arch))
    modifier, walker_k = k.on_cpu(0), k.on_cpu(1)

    def cpu1_vmemmap_modifier() -> Gen:
        yield from modifier.put_page(page1)
        folio = yield from modifier.alloc_hugetlb_folio(containing=page1)
        if folio is None:
            return
        yield from modifier.hugetlb_vmemmap_optimize_folio(folio)
        yield from modifier.dequeue_hugetlb_folio(folio)

    def cpu2_pfn_walker() -> Gen:
        got = yield from walker_k.get_page_unless_zero(page1)
        yield Store(GOT, got)
        if got:
            yield from walker_k.put_page(page1)

    return Program([ThreadSpec("cpu1", cpu1_vmemmap_modifier),
                    ThreadSpec("cpu2", cpu2_pfn_walker)],
                   initial=k.initial_state(lru=[page1]),
                   properties=[Property("walker got a reference", "sometimes",
                                        lambda s: s.get(GOT) is True),
                               Property("walker failed", "sometimes",
                                        lambda s: s.get(GOT) is False)],
                   observe=k.observer([page1]))


@pytest.mark.parametrize("page1", [4, 5])  # a fake-head position and a plain tail
def test_g0_faults_on_x86(page1: int) -> None:
    r = explore(hvo_race("G0", "x86", page1), "dpor")
    assert r.violation is not None and r.violation.kind == "oops"
    assert "read-only vmemmap" in r.violation.message


@pytest.mark.parametrize("arch", ["x86", "arm64-lse", "arm64-nolse"])
def test_g1_faults_through_a_fake_head_on_every_architecture(arch: str) -> None:
    r = explore(hvo_race("G1", arch, 4), "dpor")
    assert r.violation is not None and r.violation.kind == "oops"


@pytest.mark.parametrize("arch", ["x86", "arm64-lse", "arm64-nolse", "riscv-zacas"])
@pytest.mark.parametrize("page1", [4, 5])
def test_g2_does_not_fault(arch: str, page1: int) -> None:
    r = explore(hvo_race("G2", arch, page1), "dpor", stop_on_violation=False)
    assert r.complete and r.violations == []


def test_observe_is_json() -> None:
    import json

    prog = hvo_race("G0", "x86", 4)
    k = Kernel(KernelConfig(gen="G0"))
    state = dict(prog.initial)
    k.run_setup(state, lambda: k.put_page(4))
    folio = k.run_setup(state, lambda: k.alloc_hugetlb_folio(containing=4))
    k.run_setup(state, lambda: k.hugetlb_vmemmap_optimize_folio(folio))
    assert prog.observe is not None
    snap = prog.observe(state)
    json.dumps(snap)
    assert [(e["vpage"], e["perm"], e["alias"]) for e in snap["vmemmap"]] == [
        (0, "rw", False), (1, "ro", True), (2, "ro", True), (3, "ro", True)]
    (page,) = snap["pages"]
    assert page["fake_head"] and page["flags"] == ["PG_head"] and page["head"] == 0
