"""HVO and de-HVO (mm/hugetlb_vmemmap.c), per generation, in the kernel's access order.

hugetlb_vmemmap_optimize_folio():
- v6.2 (G0, rw-tails; fresh head since 11aad2631bf7, v6.2):
  vmemmap_should_optimize_folio(); folio_set_hugetlb_vmemmap_optimized();
  vmemmap_remap_free(): alloc_pages_node() a frame and copy_page() vmemmap page 0 into it;
  vmemmap_remap_pte() maps page 0 to it read-write, then each of pages 1..N-1 to it
  read-only (read-write for rw-tails), one step per PTE; flush_tlb_kernel_range();
  free_vmemmap_page_list() frees the old frames. With
  `KernelConfig.hvo_reuse_head_frame` (v5.18-v6.1) page 0 keeps its own frame instead.
- v6.10 (G1, bd225530a4c7): synchronize_rcu() in the wrapper first, then
  VM_WARN_ON_ONCE_FOLIO(folio_ref_count(folio)), then as v6.2.
- v6.12 (G1b, G2; c2a967f6ab0e): WARN, should_optimize, then synchronize_rcu(), then as v6.2.
- v7.1 (G3): WARN, should_optimize, vmemmap_get_tail() (the shared per-node, per-order
  frame of tail descriptors, refcount 0, made once), a private copy of page 0 mapped
  read-write, every other page mapped read-only to the shared tail frame; no RCU.

hugetlb_vmemmap_restore_folio():
- v6.2: if optimized, vmemmap_remap_alloc(): allocate N-1 frames; for each page 1..N-1
  vmemmap_restore_pte(): copy_page() of page 0 and reset_struct_pages() into the new frame
  (one step: reads page 0 through the vmemmap), then set_pte_at() read-write (one step);
  flush_tlb_kernel_range().
- v6.10: synchronize_rcu() first, then WARN, then as v6.2.
- v6.12: WARN, optimized?, synchronize_rcu(), then as v6.2.
- v7.1: WARN, optimized?, then per page: compound_head() of its first descriptor (through
  the shared tail frame), fill a new frame with copies of the last descriptor of page 0,
  set_pte_at() read-write.

A WARN is Violation("warn", ...). Leaves out: vmemmap PMD splitting, the batched
hugetlb_vmemmap_optimize_folios() path and its single flush, allocation failures (frames
never run out), the static key, HPG flag storage in the head (kept as
`("hugetlb", folio, "vmemmap_optimized")`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pagerace.engine.ops import Atomic, Load, Store
from pagerace.engine.view import StepView
from pagerace.engine.violation import Violation
from pagerace.kernel import rcu
from pagerace.kernel import struct_page as sp
from pagerace.kernel.vmemmap import (
    FLAGS,
    FLAGS_1,
    PAGE_TYPE,
    REFCOUNT,
    RO,
    RW,
    Gen,
    alloc_frame,
    flush_tlb_kernel_range,
    free_frame,
    read_frame_slot,
    read_pte,
    set_pte,
    translate,
    write_frame_slot,
)

if TYPE_CHECKING:
    from pagerace.kernel.kernel import Kernel


def optimized_loc(folio: int) -> tuple[str, int, str]:
    return ("hugetlb", folio, "vmemmap_optimized")


def tail_loc(nid: int, order: int) -> tuple[str, int, int]:
    return ("vmemmap_tail", nid, order)


def desc_fields(k: Kernel) -> tuple[str, ...]:
    return (FLAGS, k.compound_field, REFCOUNT, PAGE_TYPE, FLAGS_1)


def warn_unless_frozen(k: Kernel, folio: int, func: str) -> Gen:
    """VM_WARN_ON_ONCE_FOLIO(folio_ref_count(folio), folio)."""
    count = yield from sp.page_ref_count(k, folio, func)
    if count:
        raise Violation("warn", f"{func}: VM_WARN_ON_ONCE_FOLIO(folio_ref_count(folio)): "
                        f"folio {folio} has refcount {count}, not frozen")


def should_optimize(k: Kernel, folio: int, order: int, func: str) -> Gen:
    """vmemmap_should_optimize_folio(): not yet optimized and a vmemmap page to free."""
    done = yield Load(optimized_loc(folio), f"{func}: folio_test_hugetlb_vmemmap_optimized",
                      default=False)
    return not done and k.geometry.hvo_possible(order)


# -- HVO ---------------------------------------------------------------------------------------

def copy_head_page(k: Kernel, folio: int, func: str, fresh: bool = True) -> Gen:
    """alloc_pages_node() + copy_page(new, vmemmap page 0): one step; returns the frame."""
    g = k.geometry
    v0 = g.vpage(folio)
    fields = desc_fields(k)

    def fn(view: StepView, outcome: int) -> int:
        src = translate(view, k, g.vpage_first_pfn(v0), FLAGS, "read", func)
        new = alloc_frame(view, k)
        for slot in range(g.descs_per_vmemmap_page):
            write_frame_slot(view, new, slot, read_frame_slot(view, src.frame, slot, fields))
        view.note(f"alloc frame {new}; copy_page(frame {new}, vmemmap[{v0}] -> frame "
                  f"{src.frame})", func=func, access="copy", vpage=v0, frame=new)
        return new

    return (yield Atomic(fn, f"{func}: alloc_pages_node + copy_page(vmemmap[{v0}])"))


def vmemmap_remap_pte(k: Kernel, vpage: int, frame: int, perm: str, alias: bool,
                      func: str) -> Gen:
    """vmemmap_remap_pte(): set_pte_at() of one vmemmap page; returns the old frame."""
    def fn(view: StepView, outcome: int) -> int | None:
        old = read_pte(view, k, vpage)
        set_pte(view, k, vpage, frame, perm, alias)
        view.note(f"vmemmap[{vpage}]: frame {old[0] if old else 'hole'} -> frame {frame} "
                  f"({perm})", func=func, access="pte", vpage=vpage, frame=frame,
                  perm=perm)
        return old[0] if old else None

    return (yield Atomic(fn, f"{func}: set_pte_at(vmemmap[{vpage}] -> frame {frame}, "
                         f"{perm})"))


def free_vmemmap_page_list(k: Kernel, frames: list[int], func: str) -> Gen:
    def fn(view: StepView, outcome: int) -> None:
        for f in frames:
            free_frame(view, k, f, func)
        view.note(f"free_vmemmap_page_list: free frames {frames}", func=func,
                  access="free", frames=list(frames))
    if frames:
        yield Atomic(fn, f"{func}: free_vmemmap_page_list ({len(frames)} frames)")


def vmemmap_remap_free(k: Kernel, folio: int, order: int) -> Gen:
    """v6.2..v6.15: remap pages 1..N-1 onto (a copy of) page 0; returns the old frames."""
    func = "vmemmap_remap_free"
    g = k.geometry
    vpages = g.folio_vpages(folio, order)
    tail_perm = RW if k.gen.tails_rw else RO
    old_frames: list[int] = []
    if k.config.hvo_reuse_head_frame:
        reuse = yield Atomic(lambda view, o: read_pte(view, k, vpages[0]),
                             f"{func}: vmemmap_pte_range: reuse_page = "
                             f"pte_page(vmemmap[{vpages[0]}])")
        if reuse is None:
            raise Violation("oops", f"{func}: vmemmap[{vpages[0]}] is a hole")
        head = reuse[0]
    else:
        head = yield from copy_head_page(k, folio, func)
        old = yield from vmemmap_remap_pte(k, vpages[0], head, RW, False, func)
        old_frames += [old] if old is not None else []
    for v in vpages[1:]:
        old = yield from vmemmap_remap_pte(k, v, head, tail_perm, True, func)
        old_frames += [old] if old is not None else []
    yield from flush_tlb_kernel_range(k, vpages.start, vpages.stop, func)
    return old_frames


def vmemmap_get_tail(k: Kernel, order: int, nid: int = 0) -> Gen:
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
        cur = view.load(loc, None)
        if cur is None:
            view.store(loc, mine)
            view.note(f"vmemmap_tails[order {order}] = frame {mine}", func=func)
            return int(mine)
        free_frame(view, k, mine, func)
        return int(cur)

    return (yield Atomic(publish, f"{func}: spin_lock(&hugetlb_lock); publish"))


def hugetlb_vmemmap_optimize_folio(k: Kernel, folio: int, order: int) -> Gen:
    func = "hugetlb_vmemmap_optimize_folio"
    variant = k.gen.hvo_variant
    if variant == "v6.10":
        # avoid writes from page_ref_add_unless() while folding vmemmap
        yield from rcu.synchronize_rcu(k, func)
    if variant != "v6.2":
        yield from warn_unless_frozen(k, folio, "__hugetlb_vmemmap_optimize_folio")
    if not (yield from should_optimize(k, folio, order, func)):
        return False
    if variant == "v7.1":
        tail = yield from vmemmap_get_tail(k, order)
    if variant == "v6.12":
        yield from rcu.synchronize_rcu(k, func)
    yield Store(optimized_loc(folio), True, f"{func}: folio_set_hugetlb_vmemmap_optimized")
    if variant == "v7.1":
        old_frames = yield from vmemmap_remap_free_v7_1(k, folio, order, tail)
    else:
        old_frames = yield from vmemmap_remap_free(k, folio, order)
    yield from free_vmemmap_page_list(k, old_frames, func)
    return True


def vmemmap_remap_free_v7_1(k: Kernel, folio: int, order: int, tail: int) -> Gen:
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


# -- de-HVO ------------------------------------------------------------------------------------

def alloc_vmemmap_page_list(k: Kernel, n: int, func: str) -> Gen:
    def fn(view: StepView, outcome: int) -> tuple[int, ...]:
        frames = tuple(alloc_frame(view, k) for _ in range(n))
        view.note(f"alloc_vmemmap_page_list: frames {list(frames)}", func=func,
                  access="alloc", frames=list(frames))
        return frames
    return (yield Atomic(fn, f"{func}: alloc_vmemmap_page_list ({n} frames)"))


def restore_copy_v6_2(k: Kernel, folio: int, vpage: int, new: int, func: str) -> Gen:
    """vmemmap_restore_pte(): copy_page(to, reuse_addr); reset_struct_pages(to)."""
    g = k.geometry
    fields = desc_fields(k)
    nr = g.nr_reset_struct_page

    def fn(view: StepView, outcome: int) -> None:
        src = translate(view, k, folio, FLAGS, "read", func)
        rows = [read_frame_slot(view, src.frame, s, fields)
                for s in range(g.descs_per_vmemmap_page)]
        rows[:nr] = rows[nr:2 * nr]  # reset_struct_pages: memcpy(start, start + NR, NR)
        for slot, row in enumerate(rows):
            write_frame_slot(view, new, slot, row)
        view.note(f"copy_page(frame {new}, vmemmap[{g.vpage(folio)}] -> frame {src.frame}); "
                  f"reset_struct_pages (first {nr} descriptors)", func=func, access="copy",
                  vpage=vpage, frame=new)

    yield Atomic(fn, f"{func}: vmemmap_restore_pte: copy_page + reset_struct_pages "
                 f"(for vmemmap[{vpage}])")


def restore_copy_v7_1(k: Kernel, vpage: int, new: int, func: str) -> Gen:
    """v7.1 vmemmap_restore_pte(): from = compound_head(addr) + per_page - 1; fill."""
    g = k.geometry
    fields = desc_fields(k)
    head = yield from sp.compound_head(k, g.vpage_first_pfn(vpage))
    src_pfn = head + g.descs_per_vmemmap_page - 1

    def fn(view: StepView, outcome: int) -> None:
        src = translate(view, k, src_pfn, FLAGS, "read", func)
        row: dict[str, Any] = read_frame_slot(view, src.frame, src.slot, fields)
        for slot in range(g.descs_per_vmemmap_page):
            write_frame_slot(view, new, slot, row)
        view.note(f"fill frame {new} with copies of pfn {src_pfn}'s descriptor", func=func,
                  access="copy", vpage=vpage, frame=new)

    yield Atomic(fn, f"{func}: vmemmap_restore_pte: fill frame {new} from pfn {src_pfn}")


def vmemmap_remap_alloc(k: Kernel, folio: int, order: int) -> Gen:
    func = "vmemmap_remap_alloc"
    vpages = k.geometry.folio_vpages(folio, order)
    frames = yield from alloc_vmemmap_page_list(k, len(vpages) - 1, func)
    for v, new in zip(vpages[1:], frames, strict=True):
        if k.gen.hvo_variant == "v7.1":
            yield from restore_copy_v7_1(k, v, new, "vmemmap_restore_pte")
        else:
            yield from restore_copy_v6_2(k, folio, v, new, "vmemmap_restore_pte")
        yield from vmemmap_remap_pte(k, v, new, RW, False, "vmemmap_restore_pte")
    yield from flush_tlb_kernel_range(k, vpages.start, vpages.stop, func)


def hugetlb_vmemmap_restore_folio(k: Kernel, folio: int, order: int) -> Gen:
    func = "hugetlb_vmemmap_restore_folio"
    variant = k.gen.hvo_variant
    if variant == "v6.10":
        # avoid writes from page_ref_add_unless() while unfolding vmemmap
        yield from rcu.synchronize_rcu(k, func)
    if variant != "v6.2":
        yield from warn_unless_frozen(k, folio, "__hugetlb_vmemmap_restore_folio")
    done = yield Load(optimized_loc(folio), f"{func}: folio_test_hugetlb_vmemmap_optimized",
                      default=False)
    if not done:
        return False
    if variant == "v6.12":
        yield from rcu.synchronize_rcu(k, func)
    yield from vmemmap_remap_alloc(k, folio, order)
    yield Store(optimized_loc(folio), False,
                f"{func}: folio_clear_hugetlb_vmemmap_optimized")
    return True
