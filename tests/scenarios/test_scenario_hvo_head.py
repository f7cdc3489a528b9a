"""target=head and v7.1's frozen hugetlb allocation (G3), pinned as the checker finds them.

v7.1 allocates hugetlb folios frozen (alloc_buddy_frozen_folio -> __alloc_frozen_pages)
and frees them frozen (VM_BUG_ON_FOLIO(folio_ref_count) + free_frozen_pages), so the head
never holds the allocator's refcount 1 that G0-G2 freeze away, nor the 1 that G1+ set
before __free_pages(). A walker on the head page sees the difference: before v7.1 it can
take a reference in those windows (the freeze fails, or the walker's put_page() frees
the block), in v7.1 it never can. Every verdict below is FOUND (no record states one).
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping
from typing import Any

import pytest

from pagerace.engine import Program, Property, explore
from pagerace.kernel.arch import ARCH_NAMES
from pagerace.kernel.generations import GENERATION_NAMES, get_generation
from pagerace.kernel.hugetlb.hugetlb import pool_loc
from pagerace.kernel.kernel import Kernel, KernelConfig
from pagerace.kernel.observe import read_field
from pagerace.kernel.struct_page import PG_HEAD
from pagerace.kernel.vmemmap import FLAGS, REFCOUNT
from pagerace.scenarios.catalog import load_scenario
from pagerace.scenarios.common import SEED_GENERATIONS

FOLIO = 16  # scaled geometry: the folio's head pfn in both scenarios
CELLS = list(itertools.product(SEED_GENERATIONS, ARCH_NAMES))
# (gen, arch) -> verdict of target=head, in both HVO scenarios; every cell FOUND
FOUND = {cell: "pass" for cell in CELLS}


def verdict(name: str, gen: str, arch: str) -> str:
    r = explore(load_scenario(name).build({"gen": gen, "arch": arch, "target": "head"}),
                "dpor")
    return "pass" if r.violation is None else r.violation.kind


@pytest.mark.parametrize("gen,arch", CELLS)
def test_seed_scenario_head_cell(gen: str, arch: str) -> None:
    """FOUND: a walker on the head never faults - the head's vmemmap page stays
    read-write in every generation - and no reference is leaked or lost."""
    assert verdict("hvo-speculative-walker", gen, arch) == FOUND[gen, arch]


@pytest.mark.parametrize("gen,arch", CELLS)
def test_restore_scenario_head_cell(gen: str, arch: str) -> None:
    assert verdict("hvo-restore-vs-walker", gen, arch) == FOUND[gen, arch]


def test_only_g3_allocates_frozen() -> None:
    frozen = [g for g in GENERATION_NAMES if get_generation(g).hugetlb_frozen_alloc]
    assert frozen == ["G3", "G3-frozen-bit"]


def with_property(name: str, gen: str, prop: Property) -> Program:
    prog = load_scenario(name).build({"gen": gen, "arch": "x86", "target": "head"})
    return Program(threads=prog.threads, initial=prog.initial, properties=[prop])


def head_referenced_before_the_pool(k: Kernel) -> Property:
    """A compound head (PG_head) with a reference beyond the allocator's own, before
    init_new_hugetlb_folio() made it a hugetlb folio: the walker's window on the
    allocation path (page_ref_freeze(head, 1) must then fail)."""
    def check(state: Mapping[Hashable, Any]) -> bool:
        try:
            return bool(pool_loc(FOLIO) not in state
                        and read_field(k, state, FOLIO, FLAGS) & PG_HEAD
                        and read_field(k, state, FOLIO, REFCOUNT) >= 2)
        except Exception:
            return False
    return Property("head-referenced-before-pool", "sometimes", check, "")


@pytest.mark.parametrize("gen", SEED_GENERATIONS)
def test_walker_on_the_head_can_make_the_freeze_fail_until_v7_1(gen: str) -> None:
    """G0-G2: alloc_buddy_hugetlb_folio() gets the head at refcount 1, a walker's
    get_page_unless_zero() can raise it to 2, and page_ref_freeze(head, 1) fails (the
    allocation is dropped). G3: __alloc_frozen_pages() leaves the head at 0 - no window."""
    k = Kernel(KernelConfig(gen=gen))
    r = explore(with_property("hvo-speculative-walker", gen,
                              head_referenced_before_the_pool(k)), "dpor")
    assert r.complete
    hit = r.sometimes["head-referenced-before-pool"]
    assert hit == (gen != "G3")
    # a window never reached is reported as a vacuous "sometimes", nothing else fails
    assert r.violation is None if hit else r.violation.kind == "sometimes"


@pytest.mark.parametrize("gen", SEED_GENERATIONS)
def test_walker_on_the_head_holds_a_reference_on_the_free_path_until_v7_1(gen: str) -> None:
    """G0-G2 unfreeze the folio to 1 on the free path (G0 in remove_hugetlb_folio(), G1+
    after de-HVO) and __free_pages() drops it, so a walker can take a reference there and
    its put_page() frees the block; G3 frees the folio frozen and the walker's
    get_page_unless_zero() always reads 0 once remove_hugetlb_folio() ran."""
    k = Kernel(KernelConfig(gen=gen))

    def head_referenced(state: Mapping[Hashable, Any]) -> bool:
        try:
            return bool(state.get(pool_loc(FOLIO)) == "removed"
                        and read_field(k, state, FOLIO, REFCOUNT) >= 2)
        except Exception:
            return False

    prop = Property("walker-holds-head", "sometimes", head_referenced, "")
    r = explore(with_property("hvo-restore-vs-walker", gen, prop), "dpor")
    assert r.complete
    hit = r.sometimes["walker-holds-head"]
    assert hit == (gen != "G3")
    assert r.violation is None if hit else r.violation.kind == "sometimes"
