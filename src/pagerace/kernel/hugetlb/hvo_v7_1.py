"""HVO and de-HVO of v7.1: one shared read-only frame of tail descriptors.

Models mm/hugetlb_vmemmap.c after Kiryl Shutsemau's "mm: Eliminate fake head pages from
vmemmap optimization" series (v7.1), with "hugetlb: Remove VMEMMAP_SYNCHRONIZE_RCU":

- optimize: VM_WARN_ON_ONCE_FOLIO(folio_ref_count(folio)); vmemmap_should_optimize_folio();
  vmemmap_get_tail() (the per-node, per-order frame of tail descriptors, compound_info
  mask | 1 and refcount 0, made once and published under the hugetlb_lock);
  folio_set_hugetlb_vmemmap_optimized(); a private copy of vmemmap page 0 mapped
  read-write and every other page mapped read-only onto the shared tail frame, one step
  per PTE; flush_tlb_kernel_range(); the old frames freed. No grace period.
- restore: the WARN; optimized?; then per page: compound_head() of its first descriptor
  (through the shared tail frame), fill a new frame with copies of the last descriptor of
  page 0, set_pte_at() read-write; flush.

Leaves out: what hvo.py leaves out; more than one node (nid 0).
"""

from __future__ import annotations

from typing import Any

from pagerace.engine.ops import Atomic, Load, Store
from pagerace.engine.view import StepView
from pagerace.kernel import struct_page as sp
from pagerace.kernel.descriptor import translate
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.hugetlb.hvo import (
    OPTIMIZE,
    copy_head_page,
    desc_fields,
    free_vmemmap_page_list,
    optimized_loc,
    remap_alloc_and_clear,
    should_optimize,
    test_optimized,
    vmemmap_remap_pte,
    warn_unless_frozen,
)
from pagerace.kernel.memory_model import locked_load
from pagerace.kernel.step import Gen
from pagerace.kernel.tlbflush import flush_tlb_kernel_range
from pagerace.kernel.vmemmap import (
    FLAGS,
    RO,
    RW,
    alloc_frame,
    free_frame,
    read_frame_slot,
    write_frame_slot,
)


def tail_loc(nid: int, order: int) -> tuple[str, int, int]:
    return ("vmemmap_tail", nid, order)


def vmemmap_get_tail(k: KernelHandle, order: int, nid: int = 0) -> Gen:
    """v7.1 vmemmap_get_tail(): the shared frame of tails of `order` on `nid`."""
    func = "vmemmap_get_tail"
    loc = tail_loc(nid, order)
    frame = yield Load(loc, f"{func}: NODE_DATA({nid})->vmemmap_tails[order {order}]",
                       default=None)
    if frame is not None:
        return frame
    info = k.geometry.compound_info_mask(order)

    def fill(view: StepView, outcome: int) -> int:
        new = alloc_frame(view, k)
        for slot in range(k.geometry.descs_per_vmemmap_page):
            write_frame_slot(view, new, slot, {k.compound_field: info})
        view.note(f"alloc frame {new}; prep_compound_tail() x "
                  f"{k.geometry.descs_per_vmemmap_page}: compound_info = {info:#x}",
                  func=func, access="copy", frame=new)
        return new

    mine = yield Atomic(fill, f"{func}: alloc_pages_node + prep_compound_tail")

    def publish(view: StepView, outcome: int) -> int:
        cur = locked_load(view, loc, None)
        if cur is None:
            view.store(loc, mine)
            view.note(f"vmemmap_tails[order {order}] = frame {mine}", func=func)
            return int(mine)
        free_frame(view, k, mine, func)
        return int(cur)

    return (yield Atomic(publish, f"{func}: spin_lock(&hugetlb_lock); publish"))


def vmemmap_remap_free_v7_1(k: KernelHandle, folio: int, order: int, tail: int) -> Gen:
    func = "vmemmap_remap_free"
    vpages = k.geometry.folio_vpages(folio, order)
    head = yield from copy_head_page(k, folio, func)
    old_frames: list[int] = []
    for v in vpages:
        frame, perm, alias = (head, RW, False) if v == vpages[0] else (tail, RO, True)
        old = yield from vmemmap_remap_pte(k, v, frame, perm, alias, func)
        old_frames += [old] if old is not None else []
    yield from flush_tlb_kernel_range(k, vpages.start, vpages.stop, func)
    return old_frames


def optimize_v7_1(k: KernelHandle, folio: int, order: int) -> Gen:
    yield from warn_unless_frozen(k, folio, "__hugetlb_vmemmap_optimize_folio")
    if not (yield from should_optimize(k, folio, order, OPTIMIZE)):
        return False
    tail = yield from vmemmap_get_tail(k, order)
    yield Store(optimized_loc(folio), True, f"{OPTIMIZE}: folio_set_hugetlb_vmemmap_optimized")
    old_frames = yield from vmemmap_remap_free_v7_1(k, folio, order, tail)
    yield from free_vmemmap_page_list(k, old_frames, OPTIMIZE)
    return True


def restore_copy_v7_1(k: KernelHandle, folio: int, vpage: int, new: int, func: str) -> Gen:
    """v7.1 vmemmap_restore_pte(): from = compound_head(addr) + per_page - 1; fill."""
    g = k.geometry
    fields = desc_fields(k)
    head = yield from sp.compound_head(k, g.vpage_first_pfn(vpage))
    src_pfn = head + g.descs_per_vmemmap_page - 1

    def fn(view: StepView, outcome: int) -> None:
        src = translate(view, k, src_pfn, FLAGS, "read", func)
        row: dict[str, Any] = read_frame_slot(view, src.frame, src.slot, fields, src.deps)
        for slot in range(g.descs_per_vmemmap_page):
            write_frame_slot(view, new, slot, row)
        view.note(f"fill frame {new} with copies of pfn {src_pfn}'s descriptor", func=func,
                  access="copy", vpage=vpage, frame=new)

    yield Atomic(fn, f"{func}: vmemmap_restore_pte: fill frame {new} from pfn {src_pfn}")


def restore_v7_1(k: KernelHandle, folio: int, order: int) -> Gen:
    yield from warn_unless_frozen(k, folio, "__hugetlb_vmemmap_restore_folio")
    if not (yield from test_optimized(folio)):
        return False
    return (yield from remap_alloc_and_clear(k, folio, order, restore_copy_v7_1))
