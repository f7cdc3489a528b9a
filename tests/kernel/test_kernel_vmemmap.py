"""Litmus tests: translation through the vmemmap, aliasing, read-only and hole faults."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import pytest

from pagerace.engine.execution import Execution
from pagerace.engine.program import Program, ThreadSpec
from pagerace.engine.violation import Violation
from pagerace.kernel import Geometry, Kernel, KernelConfig
from pagerace.kernel.descriptor import read_desc, write_desc
from pagerace.kernel.step import Gen
from pagerace.kernel.tracepoint import Tracepoint
from pagerace.kernel.vmemmap import FLAGS, HOLE, REFCOUNT, field_loc, pte_loc

K = Kernel()
G = K.geometry  # scaled: 4 descriptors per vmemmap page


def run(state: dict[Hashable, Any], body: Any) -> Any:
    return K.run_setup(state, body)


def test_scaled_geometry_shape() -> None:
    assert G.descs_per_vmemmap_page == 4
    assert G.vmemmap_pages(G.hugetlb_order) == 4
    assert (G.vpage(9), G.slot(9)) == (2, 1)
    assert G.desc_page_aligned(8) and not G.desc_page_aligned(9)
    real = Geometry.real()
    assert real.descs_per_vmemmap_page == 64
    assert real.vmemmap_pages(9) == 8 and real.vmemmap_pages(18) == 4096


def test_boot_mapping_is_implicit_and_private() -> None:
    state = K.initial_state()
    run(state, lambda: write_desc(K, 9, REFCOUNT, 7, "test"))
    assert state[field_loc(2, 1, REFCOUNT)] == 7  # frame of vmemmap[2] is frame 2
    assert run(state, lambda: read_desc(K, 13, REFCOUNT, "test")) == 0  # vmemmap[3] is not


def test_aliasing_is_visible_through_both_mappings() -> None:
    state = K.initial_state()
    state[pte_loc(3)] = (2, "rw")  # vmemmap[3] aliases vmemmap[2]'s frame
    run(state, lambda: write_desc(K, 9, REFCOUNT, 5, "test"))  # slot 1 via vmemmap[2]
    assert run(state, lambda: read_desc(K, 13, REFCOUNT, "test")) == 5  # slot 1 via [3]
    run(state, lambda: write_desc(K, 14, FLAGS, 64, "test"))  # slot 2 via vmemmap[3]
    assert run(state, lambda: read_desc(K, 10, FLAGS, "test")) == 64


def test_write_through_read_only_pte_faults_and_names_everything() -> None:
    state = K.initial_state()
    state[pte_loc(2)] = (5, "ro")
    assert run(state, lambda: read_desc(K, 9, REFCOUNT, "reader")) == 0  # reads are fine
    with pytest.raises(Violation) as e:
        run(state, lambda: write_desc(K, 9, REFCOUNT, 1, "some_kernel_function"))
    v = e.value
    assert v.kind == "oops"
    for part in ("some_kernel_function", "pfn 9", "vmemmap[2]", "frame 5", "(ro)"):
        assert part in v.message


@pytest.mark.parametrize("how", ["explicit hole", "outside present memory"])
def test_access_to_a_hole_faults(how: str) -> None:
    k = Kernel(KernelConfig(memory=((0, 16),)))
    state = k.initial_state()
    pfn = 9 if how == "explicit hole" else 40
    if how == "explicit hole":
        state[pte_loc(2)] = HOLE
    with pytest.raises(Violation) as e:
        k.run_setup(state, lambda: read_desc(k, pfn, REFCOUNT, "pfn_walker"))
    assert e.value.kind == "oops" and "hole" in e.value.message
    assert f"pfn {pfn}" in e.value.message and "pfn_walker" in e.value.message


def test_each_access_is_one_step_with_a_note() -> None:
    state = K.initial_state(lru={9: 1})

    def body() -> Gen:
        yield from read_desc(K, 9, REFCOUNT, "page_ref_count")

    ex = Execution(Program([ThreadSpec("cpu0", body)], initial=state))
    ev = ex.step(0)
    assert ex.finished()
    (note,) = ev.notes
    assert note["text"] == "pfn 9 via vmemmap[2] -> frame 2 (rw): read _refcount = 1"
    assert {k: note[k] for k in ("pfn", "vpage", "frame", "perm", "field", "access",
                                 "value")} == {
        "pfn": 9, "vpage": 2, "frame": 2, "perm": "rw", "field": REFCOUNT,
        "access": "read", "value": 1}
    assert pte_loc(2) in ev.fp[0] and field_loc(2, 1, REFCOUNT) in ev.fp[0]


def test_refcount_never_negative() -> None:
    state = K.initial_state()
    with pytest.raises(Violation) as e:
        K.run_setup(state, lambda: K.page_ref_dec_and_test(9))
    assert e.value.kind == "refcount" and "-1" in e.value.message


def test_dedup_write_through_an_alias_is_caught_or_recorded() -> None:
    for mode in ("raise", "record"):
        k = Kernel(KernelConfig(ghost_violations=mode))
        state = k.initial_state()
        # vmemmap[3] remapped read-write onto vmemmap[2]'s frame by "HVO"
        k.run_setup(state, lambda k=k: _alias(k))
        if mode == "raise":
            with pytest.raises(Violation) as e:
                k.run_setup(state, lambda k=k: write_desc(k, 13, REFCOUNT, 1, "walker"))
            assert e.value.kind == "dedup-write"
        else:
            k.run_setup(state, lambda k=k: write_desc(k, 13, REFCOUNT, 1, "walker"))
            assert k.observe(state)["ghost"]["dedup_writes"] == 1
        # writing the same value back is not a change
        k.run_setup(state, lambda k=k: write_desc(k, 13, FLAGS, 0, "walker"))


def _alias(k: Kernel) -> Gen:
    from pagerace.kernel.hugetlb.hvo import vmemmap_remap_pte
    yield from vmemmap_remap_pte(k, 3, 2, "rw", True, "test")


def test_terabyte_memory_costs_nothing_until_touched() -> None:
    k = Kernel(KernelConfig(geometry=Geometry.real(), memory=((0, 1 << 28),)))
    state = k.initial_state(lru=[(1 << 28) - 1])
    assert len(state) < 10
    assert k.run_setup(state, lambda: k.page_ref_count((1 << 28) - 1)) == 1
    assert k.run_setup(state, lambda: k.page_ref_count(12345)) == 0


def _witnessed(state: dict[Hashable, Any], body: Callable[[], Gen], tp: Tracepoint) -> bool:
    """Run `body` alone on a copy of `state` with `tp` attached; did it witness?"""
    prog = Program([ThreadSpec("t", body)], initial=dict(state),
                   properties=[tp.sometimes()], instruments=[tp])
    ex = Execution(prog)
    while not ex.over():
        ex.step(0)
    assert ex.violation is None
    state.clear()
    state.update(ex.state)
    return tp.name in ex.sometimes_hit


def test_tracepoint_marks_the_step_that_reaches_a_window() -> None:
    tp = Tracepoint("walker-reads-zero-via-boot-mapping", cpu=1, pfn=9, field=REFCOUNT,
                    access="read", value=0, boot_mapping=True)
    k = Kernel(KernelConfig())
    state = k.initial_state(lru={9: 1})
    assert not _witnessed(state, lambda: k.on_cpu(1).page_ref_count(9), tp)  # reads 1
    assert not _witnessed(state, lambda: k.on_cpu(0).put_page(9), tp)  # rmw, CPU 0
    assert not _witnessed(state, lambda: k.on_cpu(0).page_ref_count(9), tp)  # wrong CPU
    state[pte_loc(2)] = (2, "rw")  # same frame, but no longer the boot mapping
    assert not _witnessed(state, lambda: k.on_cpu(1).page_ref_count(9), tp)
    del state[pte_loc(2)]
    assert _witnessed(state, lambda: k.on_cpu(1).page_ref_count(9), tp)
    assert not any(loc[0] == "ghost" for loc in state if isinstance(loc, tuple)
                   and "tracepoint" in loc)  # it writes no state


def test_tracepoint_sees_batched_stores() -> None:
    """prep_compound_page()'s stores are one step with one summary note: a tracepoint
    still matches each store in it."""
    tp = Tracepoint("tail-gets-its-head", pfn=17, field="compound_head", access="write")
    k = Kernel(KernelConfig())
    state = k.initial_state()
    assert _witnessed(state, lambda: k.alloc_pages(order=4, containing=16), tp)
