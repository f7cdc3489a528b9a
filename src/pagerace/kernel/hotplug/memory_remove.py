"""Memory removal: try_remove_memory() -> arch_remove_memory() -> vmemmap_free().

Models mm/memory_hotplug.c try_remove_memory() / offline_and_remove_memory(), the x86-64
arch_remove_memory() -> __remove_pages() -> sparse_remove_section() -> section_deactivate()
chain (mm/sparse.c, v6.x) and x86's vmemmap_free() -> remove_pagetable() ->
remove_pte_table() (arch/x86/mm/init_64.c), in which each vmemmap frame is freed
(free_pagetable()) BEFORE its PTE is cleared, and the TLB is flushed once at the end
(remove_pagetable(): flush_tlb_all()). The model performs that order; a frame freed while
still mapped is the ghost "freed while mapped" (a Violation("bug") under
KernelConfig.ghost_violations="raise", counted under "record"); with per-CPU TLBs
(tlb.py) a walker that then touches the frame - through the PTE not yet cleared, or
through its TLB before the flush reaches it - is a "vmemmap-use-after-free" or
"stale-tlb-write" violation.

Two variants of what removal leaves in the vmemmap (`HotplugConfig.vmemmap`):
- "hole" (the kernel): the PTEs are cleared; any later descriptor access is an oops;
- "zero-page" (proposed in the linux-mm thread of June 2024, never posted as a patch): each
  PTE is pointed read-only at one shared frame of zeroed descriptors (refcount 0), the TLB
  flushed, then the old frame freed - the order HVO's vmemmap_remap_free() uses.
With `HotplugConfig.sync_rcu` (the same proposal: "the logic on the hot removal side would
be similar to that of HVO") a synchronize_rcu() precedes the vmemmap changes.

Leaves out: the direct map (kernel_physical_mapping_remove), PMD-mapped vmemmap and
page-table pages, altmap / memmap_on_memory, resources and firmware maps, arm64's
unmap_hotplug_range() (which clears and flushes before freeing).
"""

from __future__ import annotations

from collections.abc import Sequence

from pagerace.engine.ops import Atomic
from pagerace.engine.view import StepView
from pagerace.kernel import rcu
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.hotplug.memory_hotplug import (
    EBUSY,
    SECTION_BOOT,
    SECTION_HAS_MEM_MAP,
    MemoryNotifier,
    block_loc,
    section_loc,
    set_block_state,
)
from pagerace.kernel.hotplug.offline_pages import memory_block_offline
from pagerace.kernel.memory_model import locked_load
from pagerace.kernel.step import Gen
from pagerace.kernel.tlbflush import flush_tlb_all, flush_tlb_kernel_range
from pagerace.kernel.vmemmap import RO, free_frame, read_pte, set_pte


def offline_and_remove_memory(k: KernelHandle, block: int,
                              notifiers: Sequence[MemoryNotifier]) -> Gen:
    """offline_and_remove_memory(start, size) for one memory block (virtio-mem's path)."""
    ret = yield from memory_block_offline(k, block, notifiers)
    if ret:
        return ret
    return (yield from try_remove_memory(k, block))


def try_remove_memory(k: KernelHandle, block: int) -> Gen:
    """All blocks must be offline (check_memblock_offlined_cb); then the memory block
    devices go and arch_remove_memory() tears the range down."""
    def offlined(view: StepView, outcome: int) -> bool:
        return bool(locked_load(view, block_loc(block), "online") == "offline")
    if not (yield Atomic(offlined, f"try_remove_memory: check_memblock_offlined_cb "
                         f"(memory{block})")):
        return -EBUSY
    yield from set_block_state(block, "removed", "remove_memory_block_devices")
    if k.hotplug.sync_rcu:
        yield from rcu.synchronize_rcu(k, "try_remove_memory")
    yield from arch_remove_memory(k, block)
    return 0


def arch_remove_memory(k: KernelHandle, block: int) -> Gen:
    """x86-64: __remove_pages() -> __remove_section() for each section of the range."""
    geo = k.hotplug.geometry
    pfns = geo.block_range(block)
    for nr in geo.sections(pfns.start, pfns.stop):
        yield from section_deactivate(k, nr)


def section_deactivate(k: KernelHandle, nr: int) -> Gen:
    """Clear SECTION_HAS_MEM_MAP, free the section's memmap, then section_mem_map = NULL."""
    def clear_has_mem_map(view: StepView, outcome: int) -> None:
        flags = locked_load(view, section_loc(nr), SECTION_BOOT)
        view.store(section_loc(nr), flags & ~SECTION_HAS_MEM_MAP)
        view.note(f"section_deactivate: section {nr}: ~SECTION_HAS_MEM_MAP",
                  func="section_deactivate", access="write")
    yield Atomic(clear_has_mem_map, f"section_deactivate: section {nr} invalid")
    g, geo = k.geometry, k.hotplug.geometry
    first = nr * geo.pages_per_section
    yield from vmemmap_free(k, g.vpage(first),
                            g.vpage(first + geo.pages_per_section - 1) + 1)

    def clear(view: StepView, outcome: int) -> None:
        view.store(section_loc(nr), 0)
        view.note(f"section_deactivate: section {nr}: section_mem_map = NULL",
                  func="section_deactivate", access="write")
    yield Atomic(clear, f"section_deactivate: section {nr} section_mem_map = NULL")


def vmemmap_free(k: KernelHandle, first_vpage: int, end_vpage: int) -> Gen:
    if k.hotplug.vmemmap == "zero-page":
        yield from vmemmap_remap_zero(k, first_vpage, end_vpage)
    else:
        yield from remove_pte_table(k, first_vpage, end_vpage)


def remove_pte_table(k: KernelHandle, first_vpage: int, end_vpage: int) -> Gen:
    """x86 remove_pte_table(direct=false): free_pagetable(pte_page(*pte)); pte_clear();
    ... flush_tlb_all()."""
    func = "remove_pte_table"
    for vpage in range(first_vpage, end_vpage):
        def free(view: StepView, outcome: int, vpage: int = vpage) -> None:
            pte = read_pte(view, k, vpage)
            if pte is None:
                return  # !pte_present(*pte): continue
            view.note(f"{func}: free_pagetable(frame {pte[0]}) of vmemmap[{vpage}] "
                      f"(still mapped)", func=func, vpage=vpage, frame=pte[0],
                      access="free")
            free_frame(view, k, pte[0], func)
        yield Atomic(free, f"{func}: free_pagetable(pte_page(vmemmap[{vpage}]))")

        def clear(view: StepView, outcome: int, vpage: int = vpage) -> None:
            set_pte(view, k, vpage, None, "", alias=False)
            view.note(f"{func}: pte_clear(vmemmap[{vpage}]): a hole", func=func,
                      vpage=vpage, access="unmap")
        yield Atomic(clear, f"{func}: pte_clear(vmemmap[{vpage}])")
    # remove_pagetable(): flush_tlb_all() once the page tables are torn down
    yield from flush_tlb_all(k, "remove_pagetable")


def vmemmap_remap_zero(k: KernelHandle, first_vpage: int,
                       end_vpage: int) -> Gen:
    """The proposal: point each PTE read-only at the shared zero-struct-page frame, flush
    the TLB, then free the old frames (HVO's vmemmap_remap_free() order)."""
    func = "vmemmap_remap_zero"
    zero = k.hotplug.zero_frame
    if zero is None:
        raise ValueError("the zero-page variant needs HotplugConfig.zero_frame")
    old: list[int] = []
    for vpage in range(first_vpage, end_vpage):
        def remap(view: StepView, outcome: int, vpage: int = vpage) -> int | None:
            pte = read_pte(view, k, vpage)
            set_pte(view, k, vpage, zero, RO, alias=False)
            view.note(f"{func}: vmemmap[{vpage}] -> zero struct page frame {zero} (ro)",
                      func=func, vpage=vpage, frame=zero, perm=RO, access="remap")
            return pte[0] if pte else None
        frame = yield Atomic(remap, f"{func}: set_pte(vmemmap[{vpage}], zero page, ro)")
        if frame is not None:
            old.append(frame)
    yield from flush_tlb_kernel_range(k, first_vpage, end_vpage, func)
    for frame in old:
        def free(view: StepView, outcome: int, frame: int = frame) -> None:
            free_frame(view, k, frame, func)
            view.note(f"{func}: free old vmemmap frame {frame}", func=func, frame=frame,
                      access="free")
        yield Atomic(free, f"{func}: free vmemmap frame {frame}")
