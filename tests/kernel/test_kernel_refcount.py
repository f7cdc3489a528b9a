"""Litmus tests: refcounts, atomic_add_unless, put_page and the buddy allocator."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import pytest

from pagerace.engine.execution import Execution
from pagerace.engine.explorer import explore
from pagerace.engine.ops import Atomic, Store
from pagerace.engine.program import Program, Property, ThreadSpec
from pagerace.engine.view import StepView
from pagerace.engine.violation import Violation
from pagerace.kernel import Kernel, KernelConfig
from pagerace.kernel import buddy as bd
from pagerace.kernel import page_ref as pr
from pagerace.kernel.arch import ARCH_NAMES
from pagerace.kernel.observe import read_field
from pagerace.kernel.step import Gen
from pagerace.kernel.struct_page import PG_HEAD
from pagerace.kernel.vmemmap import REFCOUNT, field_loc, pte_loc

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


@pytest.mark.parametrize("arch", ARCH_NAMES)
@pytest.mark.parametrize("strategy", ["dfs", "dpor"])
def test_atomic_add_unless_never_increments_a_zero_count(strategy: str, arch: str) -> None:
    """put_page (1 -> 0, freed) races get_page_unless_zero: either the walker got its
    reference first and the page is not freed, or it fails and the page is free."""
    k = Kernel(KernelConfig(gen="G0", arch=arch))
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


# -- atomic_add_unless() per profile: generic fallback vs the arch's own LL/SC loop --------

def remap_race(arch: str) -> Program:
    """The seed race in miniature: a walker's atomic_add_unless(page, 1, 0) on a count of
    1 against one step that frees the page (count 0) and remaps its vmemmap page (vpage 2)
    read-only onto a fresh frame."""
    k = Kernel(KernelConfig(arch=arch))
    state = k.initial_state(lru={PAGE: 1})
    frame = k.first_fresh_frame

    def remap() -> Gen:
        def fn(view: StepView, outcome: int) -> None:
            view.store(field_loc(frame, 1, REFCOUNT), 0)
            view.store(pte_loc(2), (frame, "ro"))
        yield Atomic(fn, "free, remap vmemmap[2] read-only")

    def walker() -> Gen:
        got = yield from k.on_cpu(1).atomic_add_unless(PAGE, 1, 0)
        yield Store(GOT, got)

    return Program([ThreadSpec("remap", remap), ThreadSpec("walker", walker)], initial=state)


@pytest.mark.parametrize("arch, faults", [("x86", True), ("arm64-lse", True),
                                          ("arm64-nolse", False), ("riscv", False),
                                          ("riscv-zacas", False), ("loongarch", False)])
def test_read_then_remap_then_cmpxchg_faults_only_where_the_loop_runs_a_writing_cas(
        arch: str, faults: bool) -> None:
    """x86 / arm64: the generic loop reads 1, the page is remapped, the cmpxchg(1 -> 2)
    fails its compare and (x86 always, LSE maybe) writes. riscv (even with Zacas) and
    loongarch: one LL/SC step, no separate read: before the remap it stores on rw, after it
    finds 0 and branches out before the store-conditional."""
    r = explore(remap_race(arch), "dfs", stop_on_violation=False)
    assert r.complete
    assert bool(r.violations) is faults
    assert all(v.kind == "oops" and "compare failed" in v.message for v in r.violations)


def test_llsc_fetch_add_unless_is_one_step_without_a_separate_read() -> None:
    """Longest execution: the remap, the walker's atomic_add_unless() and its Store."""
    for arch in ("riscv", "riscv-zacas", "loongarch"):
        r = explore(remap_race(arch), "dfs", stop_on_violation=False)
        assert r.stats.max_depth == 3, arch  # one LL/SC step
    for arch in ("x86", "arm64-nolse"):
        r = explore(remap_race(arch), "dfs", stop_on_violation=False)
        assert r.stats.max_depth == 4, arch  # atomic_read, then one cmpxchg


def test_llsc_fetch_add_unless_on_u_notes_no_write_cycle() -> None:
    k = Kernel(KernelConfig(arch="riscv"))
    state = k.initial_state()
    ex = Execution(Program([ThreadSpec("w", lambda: k.atomic_add_unless(PAGE, 1, 0))],
                           initial=state))
    ev = ex.step(0)
    note = ev.notes[-1]
    assert note["access"] == "cmpxchg" and note["write_cycle"] is False
    assert "lr.w" in note["text"] and "before the store-conditional" in note["text"]
    assert ex.results[0] is False  # finished after its one step


# -- the pending frozen-bit series: page_ref_add_unless_zero() ------------------------------

F = pr.PAGEREF_FROZEN_BIT


def _count(k: Kernel, state: dict[Hashable, Any]) -> int:
    return int(read_field(k, state, PAGE, REFCOUNT))


def test_frozen_bit_get_adds_and_checks_the_bit() -> None:
    k = Kernel()
    state = k.initial_state(lru={PAGE: 1})
    assert k.run_setup(state, lambda: pr.page_ref_add_unless_zero_frozen_bit(k, PAGE, 1))
    assert _count(k, state) == 2
    state = k.initial_state(lru={PAGE: F})
    assert not k.run_setup(state, lambda: pr.page_ref_add_unless_zero_frozen_bit(k, PAGE, 1))
    assert _count(k, state) == F + 1  # the failed get does not subtract its add


def test_frozen_bit_get_resets_a_count_past_the_limit() -> None:
    k = Kernel()
    state = k.initial_state(lru={PAGE: pr.PAGEREF_FROZEN_LIMIT})
    assert not k.run_setup(state, lambda: pr.page_ref_add_unless_zero_frozen_bit(k, PAGE, 1))
    assert _count(k, state) == F


@pytest.mark.parametrize("arch", ARCH_NAMES)
def test_frozen_bit_get_writes_a_read_only_page_on_every_architecture(arch: str) -> None:
    """atomic_add_return() always writes: unlike atomic_add_unless() on a zero count, it
    faults on a read-only struct page even on LL/SC architectures."""
    k = Kernel(KernelConfig(arch=arch))
    state = k.initial_state()
    state[pte_loc(2)] = (k.first_fresh_frame, "ro")
    get = Program([ThreadSpec("w", lambda: pr.page_ref_add_unless_zero_frozen_bit(k, PAGE, 1))],
                  initial=state)
    r = explore(get, "dfs", stop_on_violation=False)
    assert [v.kind for v in r.violations] == ["oops"]
    assert "read-modify-write" in r.violations[0].message
    plain = Program([ThreadSpec("w", lambda: k.atomic_add_unless(PAGE, 1, 0))], initial=state)
    assert explore(plain, "dfs", stop_on_violation=False).violations == []


@pytest.mark.parametrize("arch", ["x86", "riscv"])
@pytest.mark.parametrize("strategy", ["dfs", "dpor"])
def test_frozen_bit_put_and_get_never_both_win(strategy: str, arch: str) -> None:
    """The last put (dec_and_test, then cmpxchg 0 -> frozen) against a get: exactly one of
    them wins in every interleaving, and the count ends 1 (got) or frozen (freed)."""
    k = Kernel(KernelConfig(arch=arch))
    state = k.initial_state(lru={PAGE: 1})
    freed, got = ("freed",), GOT

    def put() -> Gen:
        yield Store(freed, (yield from pr.page_ref_dec_and_test_frozen_bit(k.on_cpu(0), PAGE)))

    def get() -> Gen:
        yield Store(got, (yield from pr.page_ref_add_unless_zero_frozen_bit(k.on_cpu(1),
                                                                             PAGE, 1)))

    def one_winner(s: State) -> bool:
        count = read_field(k, s, PAGE, REFCOUNT)
        if s[got]:
            return not s[freed] and count == 1
        return bool(s[freed]) and count in (F, F + 1)  # frozen, maybe plus a failed get

    prog = Program([ThreadSpec("put", put), ThreadSpec("get", get)], initial=state,
                   properties=[Property("one winner", "at_end", one_winner),
                               Property("get wins", "sometimes", lambda s: s.get(got) is True),
                               Property("put wins", "sometimes",
                                        lambda s: s.get(freed) is True)])
    r = explore(prog, strategy, stop_on_violation=False)
    assert r.complete and r.violations == []
    assert r.sometimes and all(r.sometimes.values())
