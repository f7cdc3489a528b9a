"""Litmus tests: refcounts, atomic_add_unless, put_page and the buddy allocator."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import pytest

from pagerace.engine.explorer import explore
from pagerace.engine.ops import Store
from pagerace.engine.program import Program, Property, ThreadSpec
from pagerace.engine.violation import Violation
from pagerace.kernel import Kernel, KernelConfig
from pagerace.kernel import buddy as bd
from pagerace.kernel.observe import read_field
from pagerace.kernel.step import Gen
from pagerace.kernel.struct_page import PG_HEAD
from pagerace.kernel.vmemmap import REFCOUNT

State = Mapping[Hashable, Any]
PAGE = 9
GOT = ("got",)


def frees_of(state: State, pfn: int) -> bool:
    return bd.pfn_is_free(dict(state), pfn)


@pytest.mark.parametrize("strategy", ["dfs", "dpor"])
def test_two_racing_put_page_free_exactly_once(strategy: str) -> None:
    k = Kernel()
    state = k.initial_state(lru={PAGE: 2})

    def cpu(i: int) -> Any:
        def body() -> Gen:
            yield from k.on_cpu(i).put_page(PAGE)
        return body

    prog = Program([ThreadSpec("cpu0", cpu(0)), ThreadSpec("cpu1", cpu(1))], initial=state,
                   properties=[Property("freed", "at_end", lambda s: frees_of(s, PAGE))])
    r = explore(prog, strategy, stop_on_violation=False)
    assert r.complete and r.violations == []
    assert len(r.terminal_states) == 1


def test_three_put_page_on_refcount_two_is_a_negative_refcount() -> None:
    k = Kernel()
    state = k.initial_state(lru={PAGE: 2})
    prog = Program([ThreadSpec(f"cpu{i}", lambda i=i: k.on_cpu(i).put_page(PAGE))
                    for i in range(3)], initial=state)
    r = explore(prog, "dpor", stop_on_violation=False)
    assert r.violations and {v.kind for v in r.violations} == {"refcount"}


def test_freeing_a_free_page_is_a_double_free() -> None:
    k = Kernel()
    state = k.initial_state()
    with pytest.raises(Violation) as e:
        k.run_setup(state, lambda: bd.free_one_page(k, PAGE, 0, "test"))
    assert e.value.kind == "bug" and "double free of pfn 9" in e.value.message


def test_aligned_block_is_handed_out_only_when_all_pages_are_free() -> None:
    k = Kernel()
    state = k.initial_state(lru=[PAGE])
    assert k.run_setup(state, lambda: k.alloc_pages(4, containing=PAGE)) is None
    got = k.run_setup(state, lambda: k.alloc_pages(4, containing=17))
    assert got == 16
    assert read_field(k, state, 16, REFCOUNT) == 1
    assert read_field(k, state, 16, "flags") == PG_HEAD
    assert not frees_of(state, 31) and frees_of(state, 32)
    k.run_setup(state, lambda: k.free_pages(16, 4))
    assert all(frees_of(state, p) for p in range(16, 32))
    assert read_field(k, state, 17, "compound_head") == 0


@pytest.mark.parametrize("strategy", ["dfs", "dpor"])
def test_atomic_add_unless_never_increments_a_zero_count(strategy: str) -> None:
    """put_page (1 -> 0, freed) races get_page_unless_zero: either the walker got its
    reference first and the page is not freed, or it fails and the page is free."""
    k = Kernel(KernelConfig(gen="G0"))
    state = k.initial_state(lru={PAGE: 1})

    def owner() -> Gen:
        yield from k.on_cpu(0).put_page(PAGE)

    def walker() -> Gen:
        w = k.on_cpu(1)
        got = yield from w.get_page_unless_zero(PAGE)
        yield Store(GOT, got)

    def consistent(s: State) -> bool:
        count = read_field(k, s, PAGE, REFCOUNT)
        if s[GOT]:
            return count == 1 and not frees_of(s, PAGE)
        return count == 0 and frees_of(s, PAGE)

    prog = Program([ThreadSpec("owner", owner), ThreadSpec("walker", walker)],
                   initial=state,
                   properties=[Property("no zero increment", "at_end", consistent),
                               Property("walker wins", "sometimes", lambda s: s.get(GOT) is True),
                               Property("walker loses", "sometimes",
                                        lambda s: s.get(GOT) is False)])
    r = explore(prog, strategy, stop_on_violation=False)
    assert r.complete and r.violations == []


def test_atomic_add_unless_on_zero_reads_once_and_does_not_write() -> None:
    k = Kernel()
    state = k.initial_state()
    before = dict(state)
    assert k.run_setup(state, lambda: k.atomic_add_unless(PAGE, 1, 0)) is False
    assert state == before


def test_atomic_add_unless_retries_with_the_value_the_cmpxchg_returned() -> None:
    """Two walkers on refcount 1: both succeed, one of them after a failed cmpxchg."""
    k = Kernel()
    state = k.initial_state(lru={PAGE: 1})
    prog = Program([ThreadSpec(f"w{i}", lambda i=i: k.on_cpu(i).get_page_unless_zero(PAGE))
                    for i in range(2)], initial=state,
                   properties=[Property("count 3", "at_end",
                                        lambda s: read_field(k, s, PAGE, REFCOUNT) == 3)])
    r = explore(prog, "dfs", stop_on_violation=False)
    assert r.complete and r.violations == []
    assert r.stats.executions > 2  # some interleaving needs the retry


def test_freeze_and_unfreeze() -> None:
    k = Kernel()
    state = k.initial_state(lru={PAGE: 2})
    assert k.run_setup(state, lambda: k.page_ref_freeze(PAGE, 1)) is False
    assert read_field(k, state, PAGE, REFCOUNT) == 2
    k.run_setup(state, lambda: k.page_ref_dec_and_test(PAGE))
    assert k.run_setup(state, lambda: k.page_ref_freeze(PAGE, 1)) is True
    assert read_field(k, state, PAGE, REFCOUNT) == 0
    k.run_setup(state, lambda: k.folio_ref_unfreeze(PAGE, 1))
    assert read_field(k, state, PAGE, REFCOUNT) == 1


@pytest.mark.parametrize("gen", ["G0", "G3"])
def test_compound_head_encodings(gen: str) -> None:
    k = Kernel(KernelConfig(gen=gen))
    state = k.initial_state()
    head = k.run_setup(state, lambda: k.alloc_pages(4, containing=20))
    for p in range(16, 32):
        assert k.run_setup(state, lambda p=p: k.compound_head(p)) == head
    assert k.run_setup(state, lambda: k.PageHead(16)) is True
    assert k.run_setup(state, lambda: k.PageTail(20)) is True
    assert k.run_setup(state, lambda: k.PageHead(20)) is False
    info = read_field(k, state, 21, k.compound_field)
    if gen == "G3":  # mask | 1: identical in every tail of this order
        assert info == k.geometry.compound_info_mask(4)
        assert read_field(k, state, 30, k.compound_field) == info
    else:
        assert info == k.geometry.desc_addr(16) | 1
