"""HVO and de-HVO leave the mapping the kernel documentation describes, per generation."""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Any

import pytest

from pagerace.engine.execution import apply_op
from pagerace.engine.ops import Op
from pagerace.engine.view import StepView
from pagerace.engine.violation import Violation
from pagerace.kernel import GENERATION_NAMES, Geometry, Kernel, KernelConfig
from pagerace.kernel.buddy import pfn_is_free
from pagerace.kernel.hugetlb.hvo_v7_1 import tail_loc
from pagerace.kernel.observe import pte_of, read_field
from pagerace.kernel.step import Gen
from pagerace.kernel.struct_page import PG_HEAD
from pagerace.kernel.vmemmap import FLAGS, FLAGS_1, REFCOUNT, ghost_loc

ORDER = 4  # scaled: 16 pages, 4 vmemmap pages


def hvo_folio(gen: str, **cfg: Any) -> tuple[Kernel, dict[Hashable, Any], int]:
    k = Kernel(KernelConfig(gen=gen, **cfg))
    state = k.initial_state()
    folio = k.run_setup(state, lambda: k.alloc_hugetlb_folio(ORDER, containing=5))
    assert folio == 0
    assert k.run_setup(state, lambda: k.hugetlb_vmemmap_optimize_folio(folio, ORDER))
    return k, state, folio


def ask(k: Kernel, state: dict[Hashable, Any], body: Any) -> Any:
    """Run a query (a generator) and check it did not change the state."""
    before = dict(state)
    out = k.run_setup(state, body)
    assert state == before
    return out


@pytest.mark.parametrize("gen", ["G0", "G1", "G1b", "G2", "rw-tails"])
def test_hvo_maps_tail_pages_onto_a_copy_of_page_0(gen: str) -> None:
    k, state, folio = hvo_folio(gen)
    head_frame, perm0 = pte_of(k, state, 0) or (None, None)
    assert perm0 == "rw" and head_frame is not None
    assert head_frame >= k.first_fresh_frame  # a fresh copy, not the boot frame 0
    tail_perm = "rw" if gen == "rw-tails" else "ro"
    for v in (1, 2, 3):
        assert pte_of(k, state, v) == (head_frame, tail_perm)
        assert state[ghost_loc("alias", v)] is True
    for old in (0, 1, 2, 3):  # the boot frames went back
        assert state[ghost_loc("frame_free", old)] is True
    assert state[ghost_loc("frame_maps", head_frame)] == 4


@pytest.mark.parametrize("gen", ["G0", "G1", "G2"])
def test_hvo_creates_a_fake_head_at_each_remapped_page_start(gen: str) -> None:
    k, state, folio = hvo_folio(gen)
    for p in (4, 8, 12):
        assert read_field(k, state, p, FLAGS) & PG_HEAD  # reads as the head...
        assert ask(k, state, lambda p=p: k.page_is_fake_head(p)) is True  # ...detected
        assert ask(k, state, lambda p=p: k.page_fixed_fake_head(p)) == folio
        assert ask(k, state, lambda p=p: k.compound_head(p)) == folio
        assert ask(k, state, lambda p=p: k.PageHead(p)) is False
        assert ask(k, state, lambda p=p: k.PageTail(p)) is True
    assert ask(k, state, lambda: k.PageHead(folio)) is True
    for p in (5, 6, 7, 13):
        assert ask(k, state, lambda p=p: k.compound_head(p)) == folio
        assert read_field(k, state, p, REFCOUNT) == 0
    pages = {d["pfn"]: d for d in k.observe(state, [0, 4, 5])["pages"]}
    assert pages[4]["fake_head"] and pages[4]["head"] == 0 and not pages[5]["fake_head"]


def test_hvo_before_v6_2_reuses_the_frame_of_page_0() -> None:
    k, state, folio = hvo_folio("G0", hvo_reuse_head_frame=True)
    assert pte_of(k, state, 0) == (0, "rw")
    assert [pte_of(k, state, v) for v in (1, 2, 3)] == [(0, "ro")] * 3
    assert not state.get(ghost_loc("frame_free", 0), False)


def test_g3_hvo_maps_a_shared_tail_frame_and_has_no_fake_heads() -> None:
    k, state, folio = hvo_folio("G3")
    head_frame = pte_of(k, state, 0)
    tail = state[tail_loc(0, ORDER)]
    assert head_frame is not None and head_frame[1] == "rw" and head_frame[0] != tail
    assert [pte_of(k, state, v) for v in (1, 2, 3)] == [(tail, "ro")] * 3
    for p in range(4, 16):
        assert read_field(k, state, p, FLAGS) == 0  # no PG_head: no fake head
        assert read_field(k, state, p, REFCOUNT) == 0
        assert read_field(k, state, p, "compound_info") == k.geometry.compound_info_mask(ORDER)
        assert ask(k, state, lambda p=p: k.compound_head(p)) == folio
        assert ask(k, state, lambda p=p: k.PageHead(p)) is False
    # a second folio of the same order shares the same tail frame
    f2 = k.run_setup(state, lambda: k.alloc_hugetlb_folio(ORDER, containing=40))
    k.run_setup(state, lambda: k.hugetlb_vmemmap_optimize_folio(f2, ORDER))
    v2 = k.geometry.vpage(f2)
    assert pte_of(k, state, v2 + 1) == (tail, "ro")
    assert pte_of(k, state, v2)[0] not in (tail, head_frame[0])  # type: ignore[index]
    assert state[ghost_loc("frame_maps", tail)] == 6


@pytest.mark.parametrize("gen", GENERATION_NAMES)
def test_de_hvo_restores_private_rw_frames_with_plain_tails(gen: str) -> None:
    k, state, folio = hvo_folio(gen)
    head_frame = pte_of(k, state, 0)
    assert k.run_setup(state, lambda: k.hugetlb_vmemmap_restore_folio(folio, ORDER))
    frames = [pte_of(k, state, v) for v in range(4)]
    assert frames[0] == head_frame
    assert all(perm == "rw" for _, perm in frames)  # type: ignore[misc]
    assert len({f for f, _ in frames}) == 4  # type: ignore[misc]
    for v in (1, 2, 3):
        assert not state[ghost_loc("alias", v)]
    assert read_field(k, state, 0, FLAGS) == PG_HEAD
    assert read_field(k, state, 1, FLAGS_1) == ORDER
    for p in range(1, 16):
        assert ask(k, state, lambda p=p: k.compound_head(p)) == folio
        assert read_field(k, state, p, REFCOUNT) == 0
        if p >= 4:
            assert read_field(k, state, p, FLAGS) == 0
            assert read_field(k, state, p, FLAGS_1) == 0
    # the descriptors are private again: a write to one tail shows nowhere else
    k.run_setup(state, lambda: k.write_field(5, REFCOUNT, 3))
    assert [read_field(k, state, p, REFCOUNT) for p in (1, 5, 9, 13)] == [0, 3, 0, 0]


@pytest.mark.parametrize("gen", ["G1", "G1b", "G2", "G3"])
@pytest.mark.parametrize("what", ["optimize", "restore"])
def test_hvo_warns_unless_the_folio_is_frozen(gen: str, what: str) -> None:
    k = Kernel(KernelConfig(gen=gen))
    state = k.initial_state()
    folio = k.run_setup(state, lambda: k.alloc_hugetlb_folio(ORDER, containing=5))
    if what == "restore":
        k.run_setup(state, lambda: k.hugetlb_vmemmap_optimize_folio(folio, ORDER))
    k.run_setup(state, lambda: k.dequeue_hugetlb_folio(folio))  # refcount 1: a user's
    body = (k.hugetlb_vmemmap_optimize_folio if what == "optimize"
            else k.hugetlb_vmemmap_restore_folio)
    with pytest.raises(Violation) as e:
        k.run_setup(state, lambda: body(folio, ORDER))
    assert e.value.kind == "warn" and "refcount 1" in e.value.message


def test_g0_does_not_warn() -> None:
    k = Kernel(KernelConfig(gen="G0"))
    state = k.initial_state()
    folio = k.run_setup(state, lambda: k.alloc_hugetlb_folio(ORDER, containing=5))
    k.run_setup(state, lambda: k.dequeue_hugetlb_folio(folio))
    assert k.run_setup(state, lambda: k.hugetlb_vmemmap_optimize_folio(folio, ORDER))


def refcount_during_restore(gen: str) -> list[int]:
    """Free a user's HVO'd folio with put_page(); the head's refcount at each restored PTE."""
    k, state, folio = hvo_folio(gen)
    k.run_setup(state, lambda: k.dequeue_hugetlb_folio(folio))
    seen: list[int] = []
    gen_body: Gen = k.put_page(7)
    value: Any = None
    while True:
        try:
            op: Op = gen_body.send(value)
        except StopIteration:
            break
        if "vmemmap_restore_pte: set_pte_at" in op.label:
            seen.append(read_field(k, state, folio, REFCOUNT))
        value = apply_op(op, StepView(state, commit=True), 0)
    assert all(pfn_is_free(state, p) for p in range(16))
    assert all(pte_of(k, state, v)[1] == "rw" for v in range(4))  # type: ignore[index]
    return seen


def test_free_path_unfreezes_before_de_hvo_in_g0_and_after_since_g1() -> None:
    assert refcount_during_restore("G0") == [1, 1, 1]
    for gen in ("G1", "G2", "G3"):
        assert refcount_during_restore(gen) == [0, 0, 0]


@pytest.mark.parametrize("gen", GENERATION_NAMES)
def test_real_geometry_2mib_folio(gen: str) -> None:
    k = Kernel(KernelConfig(geometry=Geometry.real(), gen=gen, memory=((0, 1 << 28),)))
    state = k.initial_state()
    folio = k.run_setup(state, lambda: k.alloc_hugetlb_folio(9, containing=(1 << 27) + 700))
    assert folio == (1 << 27) + 512
    k.run_setup(state, lambda: k.hugetlb_vmemmap_optimize_folio(folio, 9))
    v0 = k.geometry.vpage(folio)
    assert v0 == ((1 << 27) + 512) // 64
    vps = [pte_of(k, state, v0 + i) for i in range(8)]
    assert vps[0][1] == "rw" and len({f for f, _ in vps[1:]}) == 1  # type: ignore[index,misc]
    assert ask(k, state, lambda: k.compound_head(folio + 64 * 3 + 5)) == folio
    k.run_setup(state, lambda: k.hugetlb_vmemmap_restore_folio(folio, 9))
    assert len({pte_of(k, state, v0 + i) for i in range(8)}) == 8


def test_real_geometry_1gib_folio_without_touching_a_terabyte() -> None:
    k = Kernel(KernelConfig(geometry=Geometry.real(), gen="G3", memory=((0, 1 << 28),)))
    state = k.initial_state()
    t0 = time.perf_counter()
    top = (1 << 28) - 1
    folio = k.run_setup(state, lambda: k.alloc_hugetlb_folio(18, containing=top))
    assert folio == (1 << 28) - (1 << 18)
    k.run_setup(state, lambda: k.hugetlb_vmemmap_optimize_folio(folio, 18))
    v0 = k.geometry.vpage(folio)
    tail = state[tail_loc(0, 18)]
    assert pte_of(k, state, v0 + 4095) == (tail, "ro")
    assert ask(k, state, lambda: k.compound_head(top)) == folio
    assert read_field(k, state, top, REFCOUNT) == 0
    # state grows with the folio (descriptors written by prep_compound_page), not with the
    # terabyte of pfns
    assert len(state) < 4 * (1 << 18)
    assert time.perf_counter() - t0 < 60
