"""hvo-memory-failure: memory_failure() against de-HVO / HVO, per flag order; hugetlb_lock.

RECORD: the kernel record states the verdict (commit cited). FOUND: the checker found it
and nobody in the record stated it. Every pinned cell is in exactly one of the two.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import pytest

from pagerace.engine import explore
from pagerace.engine.ops import Load, Store
from pagerace.engine.program import Program, Property, ThreadSpec
from pagerace.kernel.config import KernelConfig
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.spinlock import spin_lock, spin_unlock
from pagerace.kernel.step import Gen
from pagerace.scenarios.catalog import load_scenario

Cell = tuple[str, str, str, str]  # gen, arch, order, cpu1

# "If the page with error is a tail page without vmemmap, a write error will occur when
# trying to set the flag" - 32c877191e02 (Mike Kravetz, 2023-07-11), the free path
OOPS_FREE = "32c877191e02 'hugetlb: do not clear hugetlb dtor until allocating vmemmap'"
# "vmemmap optimization ... is performed before the hugetlb flag ... is set ... memory
# error handling that may want to write to tail struct pages" - the allocation path
OOPS_ALLOC = ("d8f5f7e445f0 'hugetlb: set hugetlb page flag before optimizing vmemmap' "
              "<20230829213734.69673-1-mike.kravetz@oracle.com>")
# the race diagram: folio_clear_hugetlb_hwpoison before __folio_clear_hugetlb, "raw error
# pages won't have hwpoisoned flag set and hit pcplists/buddy"; the fix defers the move
LOST = ("5596d9e8b553 'mm/hugetlb: fix potential race in __update_and_free_hugetlb_folio()'"
        " <20240708025127.107713-1-linmiaohe@huawei.com>")

RECORD: dict[Cell, tuple[str, str]] = {
    ("G0", "x86", "pre-v6.5", "free"): ("oops", OOPS_FREE),
    ("G0", "arm64-nolse", "pre-v6.5", "free"): ("oops", OOPS_FREE),
    ("G0", "x86", "v6.5", "free"): ("hwpoison-lost", LOST),
    ("G1", "x86", "v6.5", "free"): ("hwpoison-lost", LOST),  # v6.10 still had it
    ("G2", "x86", "v6.11", "free"): ("pass", LOST + ": 'So all raw error pages will have "
                                     "hwpoisoned flag set'"),
    ("G0", "x86", "pre-v6.5", "hvo"): ("oops", OOPS_ALLOC),
    ("G0", "x86", "v6.5", "hvo"): ("oops", OOPS_ALLOC),
}

FOUND: dict[Cell, str] = {
    # the later generations' free paths with each order (no record speaks of them)
    ("G1", "x86", "pre-v6.5", "free"): "oops",
    ("G1", "x86", "v6.11", "free"): "pass",
    ("G1b", "x86", "v6.11", "free"): "pass",
    ("G2", "riscv", "pre-v6.5", "free"): "oops",
    ("G3", "x86", "pre-v6.5", "free"): "oops",
    ("G3", "x86", "v6.5", "free"): "hwpoison-lost",
    ("G3", "x86", "v6.11", "free"): "pass",
    ("G3", "loongarch", "v6.11", "free"): "pass",
    ("G0", "x86", "v6.11", "free"): "pass",
    # d8f5f7e445f0's order still loses to a memory_failure() that found the page not
    # hugetlb (a free buddy page) and sets PG_hwpoison after HVO: check, then act
    ("G0", "x86", "v6.11", "hvo"): "oops",
    ("G2", "x86", "v6.11", "hvo"): "oops",
}


def _verdict(cell: Cell, **extra: str) -> str:
    gen, arch, order, cpu1 = cell
    sc = load_scenario("hvo-memory-failure")
    r = explore(sc.build({"gen": gen, "arch": arch, "order": order, "cpu1": cpu1, **extra}),
                "dpor")
    return "pass" if r.violation is None else r.violation.kind


def test_every_pinned_cell_is_record_or_found_not_both() -> None:
    assert not set(RECORD) & set(FOUND)
    assert all(cite for _, cite in RECORD.values())


@pytest.mark.parametrize("cell", sorted(RECORD))
def test_record_cell(cell: Cell) -> None:
    assert _verdict(cell) == RECORD[cell][0], RECORD[cell][1]


@pytest.mark.parametrize("cell", sorted(FOUND))
def test_found_cell(cell: Cell) -> None:
    assert _verdict(cell) == FOUND[cell]


def test_golden_counts_default_v6_11_free() -> None:
    """DPOR, default parameters (G0, x86, unaligned, per-CPU TLBs) with order=v6.11."""
    sc = load_scenario("hvo-memory-failure")
    r = explore(sc.build({"order": "v6.11"}), "dpor", stop_on_violation=False)
    assert r.complete and r.violation is None
    assert (r.stats.executions, len(r.terminal_states)) == (243, 16)
    assert r.sometimes == {"memory-failure-reads-ro-vmemmap": True}


def test_v6_5_finds_the_lost_poison_and_no_oops() -> None:
    sc = load_scenario("hvo-memory-failure")
    r = explore(sc.build({"gen": "G2", "order": "v6.5", "tlb": "current"}), "dpor",
                stop_on_violation=False)
    assert r.complete
    assert {kind for kind, _ in r.violation_set()} == {"hwpoison-lost"}


def test_the_oops_is_set_page_hwpoison_on_the_tail_after_the_flag_is_gone() -> None:
    sc = load_scenario("hvo-memory-failure")
    r = explore(sc.build({"order": "pre-v6.5"}), "dpor")
    assert r.violation is not None and r.violation.kind == "oops"
    assert "TestSetPageHWPoison" in r.violation.message and "(ro)" in r.violation.message


def test_fake_head_target_and_real_geometry() -> None:
    assert _verdict(("G0", "x86", "pre-v6.5", "free"), target="aligned") == "oops"
    assert _verdict(("G2", "x86", "v6.11", "free"), target="aligned") == "pass"
    assert _verdict(("G0", "x86", "pre-v6.5", "free"), geometry="real") == "oops"


# -- the spinlock itself -------------------------------------------------------------------

def _counter_program(locked: bool) -> Program:
    counter = ("counter",)

    def body(cpu: int) -> Any:
        kk = KernelHandle(KernelConfig(ncpus=2)).on_cpu(cpu)

        def run() -> Gen:
            if locked:
                yield from spin_lock(kk, "l")
            v = yield Load(counter, "read")
            yield Store(counter, v + 1, "write")
            if locked:
                yield from spin_unlock(kk, "l")
        return run

    def both_counted(state: dict[Hashable, Any]) -> bool:
        return bool(state.get(counter) == 2)

    return Program(threads=[ThreadSpec("A", body(0)), ThreadSpec("B", body(1))],
                   properties=[Property("no-lost-update", "at_end", both_counted)])


def test_spin_lock_makes_a_read_modify_write_exclusive() -> None:
    unlocked = explore(_counter_program(False), "dpor")
    assert unlocked.violation is not None and unlocked.violation.kind == "property"
    dpor = explore(_counter_program(True), "dpor", stop_on_violation=False)
    dfs = explore(_counter_program(True), "dfs", stop_on_violation=False)
    assert dpor.complete and dpor.violation is None
    assert dfs.complete and dfs.violation is None
    assert dpor.terminal_states == dfs.terminal_states
    assert dpor.stats.executions <= dfs.stats.executions


def test_spin_unlock_by_a_non_owner_is_a_bug() -> None:
    k = KernelHandle()

    def body() -> Gen:
        yield from spin_unlock(k, "l")

    r = explore(Program(threads=[ThreadSpec("A", body)]), "dpor")
    assert r.violation is not None and r.violation.kind == "bug"
