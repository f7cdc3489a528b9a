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
- v7.1 (G3): hvo_v7_1.py (the shared tail frame).

hugetlb_vmemmap_restore_folio():
- v6.2: if optimized, vmemmap_remap_alloc(): allocate N-1 frames; for each page 1..N-1
  vmemmap_restore_pte(): copy_page() of page 0 and reset_struct_pages() into the new frame
  (one step: reads page 0 through the vmemmap), then set_pte_at() read-write (one step);
  flush_tlb_kernel_range().
- v6.10: synchronize_rcu() first, then WARN, then as v6.2.
- v6.12: WARN, optimized?, synchronize_rcu(), then as v6.2.
- v7.1: hvo_v7_1.py.

Each version is one function (`optimize_v6_10`, `restore_v6_12`, ...); a generation's
entry (generations.py) names the pair it runs, so no code here asks which generation it is.

A WARN is Violation("warn", ...). Leaves out: vmemmap PMD splitting, the batched
hugetlb_vmemmap_optimize_folios() path and its single flush, allocation failures (frames
never run out), the static key, HPG flag storage in the head (kept as
`("hugetlb", folio, "vmemmap_optimized")`).
"""

from __future__ import annotations

from collections.abc import Callable

from pagerace.engine.ops import Atomic, Load, Store
from pagerace.engine.view import StepView
from pagerace.engine.violation import Violation
from pagerace.kernel import rcu
from pagerace.kernel import struct_page as sp
from pagerace.kernel.descriptor import translate
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.step import Gen
from pagerace.kernel.tlbflush import flush_tlb_kernel_range
from pagerace.kernel.vmemmap import (
    FLAGS,
    FLAGS_1,
    PAGE_TYPE,
    REFCOUNT,
    RO,
    RW,
    alloc_frame,
    free_frame,
    read_frame_slot,
    read_pte,
    set_pte,
    write_frame_slot,
)


def optimized_loc(folio: int) -> tuple[str, int, str]:
    return ("hugetlb", folio, "vmemmap_optimized")


def desc_fields(k: KernelHandle) -> tuple[str, ...]:
    return (FLAGS, k.compound_field, REFCOUNT, PAGE_TYPE, FLAGS_1)


def warn_unless_frozen(k: KernelHandle, folio: int, func: str) -> Gen:
    """VM_WARN_ON_ONCE_FOLIO(folio_ref_count(folio), folio)."""
    count = yield from sp.page_ref_count(k, folio, func)
    if count:
        raise Violation("warn", f"{func}: VM_WARN_ON_ONCE_FOLIO(folio_ref_count(folio)): "
                        f"folio {folio} has refcount {count}, not frozen")


def should_optimize(k: KernelHandle, folio: int, order: int, func: str) -> Gen:
    """vmemmap_should_optimize_folio(): not yet optimized and a vmemmap page to free."""
    done = yield Load(optimized_loc(folio), f"{func}: folio_test_hugetlb_vmemmap_optimized",
                      default=False)
    return not done and k.geometry.hvo_possible(order)


# -- HVO ---------------------------------------------------------------------------------------

def copy_head_page(k: KernelHandle, folio: int, func: str, fresh: bool = True) -> Gen:
    """alloc_pages_node() + copy_page(new, vmemmap page 0): one step; returns the frame."""
    g = k.geometry
    v0 = g.vpage(folio)
    fields = desc_fields(k)

    def fn(view: StepView, outcome: int) -> int:
        src = translate(view, k, g.vpage_first_pfn(v0), FLAGS, "read", func)
        new = alloc_frame(view, k)
        for slot in range(g.descs_per_vmemmap_page):
            write_frame_slot(view, new, slot,
                             read_frame_slot(view, src.frame, slot, fields, src.deps))
        view.note(f"alloc frame {new}; copy_page(frame {new}, vmemmap[{v0}] -> frame "
                  f"{src.frame})", func=func, access="copy", vpage=v0, frame=new)
        return new

    return (yield Atomic(fn, f"{func}: alloc_pages_node + copy_page(vmemmap[{v0}])"))


def vmemmap_remap_pte(k: KernelHandle, vpage: int, frame: int, perm: str, alias: bool,
                      func: str, wmb: bool = False) -> Gen:
    """vmemmap_remap_pte() / vmemmap_restore_pte(): set_pte_at() of one vmemmap page;
    returns the old frame. `wmb`: the smp_wmb() before set_pte_at() that orders the
    copied page contents before the PTE (vmemmap_remap_pte() for the head page since
    v6.2, vmemmap_restore_pte() always; nothing observable in a promise-free model, where
    stores are in program order anyway)."""
    def fn(view: StepView, outcome: int) -> int | None:
        old = read_pte(view, k, vpage)
        if wmb:
            view.fence("wmb")
        set_pte(view, k, vpage, frame, perm, alias)
        view.note(f"vmemmap[{vpage}]: frame {old[0] if old else 'hole'} -> frame {frame} "
                  f"({perm})", func=func, access="pte", vpage=vpage, frame=frame,
                  perm=perm)
        return old[0] if old else None

    return (yield Atomic(fn, f"{func}: set_pte_at(vmemmap[{vpage}] -> frame {frame}, "
                         f"{perm})"))


def free_vmemmap_page_list(k: KernelHandle, frames: list[int], func: str) -> Gen:
    def fn(view: StepView, outcome: int) -> None:
        for f in frames:
            free_frame(view, k, f, func)
        view.note(f"free_vmemmap_page_list: free frames {frames}", func=func,
                  access="free", frames=list(frames))
    if frames:
        yield Atomic(fn, f"{func}: free_vmemmap_page_list ({len(frames)} frames)")


def vmemmap_remap_free(k: KernelHandle, folio: int, order: int) -> Gen:
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
        old = yield from vmemmap_remap_pte(k, vpages[0], head, RW, False, func, wmb=True)
        old_frames += [old] if old is not None else []
    for v in vpages[1:]:
        old = yield from vmemmap_remap_pte(k, v, head, tail_perm, True, func)
        old_frames += [old] if old is not None else []
    yield from flush_tlb_kernel_range(k, vpages.start, vpages.stop, func)
    return old_frames


# -- de-HVO ------------------------------------------------------------------------------------

def alloc_vmemmap_page_list(k: KernelHandle, n: int, func: str) -> Gen:
    def fn(view: StepView, outcome: int) -> tuple[int, ...]:
        frames = tuple(alloc_frame(view, k) for _ in range(n))
        view.note(f"alloc_vmemmap_page_list: frames {list(frames)}", func=func,
                  access="alloc", frames=list(frames))
        return frames
    return (yield Atomic(fn, f"{func}: alloc_vmemmap_page_list ({n} frames)"))


def restore_copy_v6_2(k: KernelHandle, folio: int, vpage: int, new: int, func: str) -> Gen:
    """vmemmap_restore_pte(): copy_page(to, reuse_addr); reset_struct_pages(to)."""
    g = k.geometry
    fields = desc_fields(k)
    nr = g.nr_reset_struct_page

    def fn(view: StepView, outcome: int) -> None:
        src = translate(view, k, folio, FLAGS, "read", func)
        rows = [read_frame_slot(view, src.frame, s, fields, src.deps)
                for s in range(g.descs_per_vmemmap_page)]
        rows[:nr] = rows[nr:2 * nr]  # reset_struct_pages: memcpy(start, start + NR, NR)
        for slot, row in enumerate(rows):
            write_frame_slot(view, new, slot, row)
        view.note(f"copy_page(frame {new}, vmemmap[{g.vpage(folio)}] -> frame {src.frame}); "
                  f"reset_struct_pages (first {nr} descriptors)", func=func, access="copy",
                  vpage=vpage, frame=new)

    yield Atomic(fn, f"{func}: vmemmap_restore_pte: copy_page + reset_struct_pages "
                 f"(for vmemmap[{vpage}])")


RestoreCopy = Callable[[KernelHandle, int, int, int, str], Gen]


def vmemmap_remap_alloc(k: KernelHandle, folio: int, order: int,
                        restore_copy: RestoreCopy = restore_copy_v6_2) -> Gen:
    """vmemmap_remap_alloc(): allocate N-1 frames; per page, vmemmap_restore_pte() fills
    a new frame (`restore_copy`, which differs in v7.1) and maps it read-write."""
    func = "vmemmap_remap_alloc"
    vpages = k.geometry.folio_vpages(folio, order)
    frames = yield from alloc_vmemmap_page_list(k, len(vpages) - 1, func)
    for v, new in zip(vpages[1:], frames, strict=True):
        yield from restore_copy(k, folio, v, new, "vmemmap_restore_pte")
        yield from vmemmap_remap_pte(k, v, new, RW, False, "vmemmap_restore_pte", wmb=True)
    yield from flush_tlb_kernel_range(k, vpages.start, vpages.stop, func)


# -- hugetlb_vmemmap_optimize_folio() per version ------------------------------------------

OPTIMIZE = "hugetlb_vmemmap_optimize_folio"
RESTORE = "hugetlb_vmemmap_restore_folio"


def remap_and_free(k: KernelHandle, folio: int, order: int) -> Gen:
    """folio_set_hugetlb_vmemmap_optimized(); vmemmap_remap_free(); free the old frames."""
    yield Store(optimized_loc(folio), True, f"{OPTIMIZE}: folio_set_hugetlb_vmemmap_optimized")
    old_frames = yield from vmemmap_remap_free(k, folio, order)
    yield from free_vmemmap_page_list(k, old_frames, OPTIMIZE)
    return True


def optimize_v6_2(k: KernelHandle, folio: int, order: int) -> Gen:
    """v5.18 .. v6.9: no WARN, no grace period."""
    if not (yield from should_optimize(k, folio, order, OPTIMIZE)):
        return False
    return (yield from remap_and_free(k, folio, order))


def optimize_v6_10(k: KernelHandle, folio: int, order: int) -> Gen:
    """v6.10 (bd225530a4c7): synchronize_rcu() in the wrapper, then the WARN."""
    # avoid writes from page_ref_add_unless() while folding vmemmap
    yield from rcu.synchronize_rcu(k, OPTIMIZE)
    yield from warn_unless_frozen(k, folio, "__hugetlb_vmemmap_optimize_folio")
    if not (yield from should_optimize(k, folio, order, OPTIMIZE)):
        return False
    return (yield from remap_and_free(k, folio, order))


def optimize_v6_12(k: KernelHandle, folio: int, order: int) -> Gen:
    """v6.12 (c2a967f6ab0e): the WARN, should_optimize, then synchronize_rcu()."""
    yield from warn_unless_frozen(k, folio, "__hugetlb_vmemmap_optimize_folio")
    if not (yield from should_optimize(k, folio, order, OPTIMIZE)):
        return False
    yield from rcu.synchronize_rcu(k, OPTIMIZE)
    return (yield from remap_and_free(k, folio, order))


# -- hugetlb_vmemmap_restore_folio() per version -------------------------------------------

def test_optimized(folio: int) -> Gen:
    return (yield Load(optimized_loc(folio), f"{RESTORE}: folio_test_hugetlb_vmemmap_optimized",
                       default=False))


def remap_alloc_and_clear(k: KernelHandle, folio: int, order: int,
                          restore_copy: RestoreCopy = restore_copy_v6_2) -> Gen:
    yield from vmemmap_remap_alloc(k, folio, order, restore_copy)
    yield Store(optimized_loc(folio), False, f"{RESTORE}: folio_clear_hugetlb_vmemmap_optimized")
    return True


def restore_v6_2(k: KernelHandle, folio: int, order: int) -> Gen:
    if not (yield from test_optimized(folio)):
        return False
    return (yield from remap_alloc_and_clear(k, folio, order))


def restore_v6_10(k: KernelHandle, folio: int, order: int) -> Gen:
    # avoid writes from page_ref_add_unless() while unfolding vmemmap
    yield from rcu.synchronize_rcu(k, RESTORE)
    yield from warn_unless_frozen(k, folio, "__hugetlb_vmemmap_restore_folio")
    if not (yield from test_optimized(folio)):
        return False
    return (yield from remap_alloc_and_clear(k, folio, order))


def restore_v6_12(k: KernelHandle, folio: int, order: int) -> Gen:
    yield from warn_unless_frozen(k, folio, "__hugetlb_vmemmap_restore_folio")
    if not (yield from test_optimized(folio)):
        return False
    yield from rcu.synchronize_rcu(k, RESTORE)
    return (yield from remap_alloc_and_clear(k, folio, order))


def hugetlb_vmemmap_optimize_folio(k: KernelHandle, folio: int, order: int) -> Gen:
    """The generation's hugetlb_vmemmap_optimize_folio(): True if it remapped."""
    return (yield from k.gen.hugetlb_vmemmap_optimize_folio(k, folio, order))


def hugetlb_vmemmap_restore_folio(k: KernelHandle, folio: int, order: int) -> Gen:
    """The generation's hugetlb_vmemmap_restore_folio(): True if it restored."""
    return (yield from k.gen.hugetlb_vmemmap_restore_folio(k, folio, order))
