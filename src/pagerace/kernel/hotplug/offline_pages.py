"""offline_pages(): isolate, notify, scan, test, commit - or cancel.

Models mm/memory_hotplug.c offline_pages() and scan_movable_pages() (v6.10-v6.15) and
drivers/base/memory.c memory_block_offline(), with the PageOffline rule of
`HotplugConfig.offline_rule` (memory_hotplug.py):

    start_isolate_page_range()
    memory_notify(MEM_GOING_OFFLINE)          (virtio-mem's mainline driver drops its refs)
    [synchronize_rcu()]                       (HotplugConfig.sync_rcu: the 2024 proposal)
    do { scan_movable_pages()                 (-EBUSY: a PageOffline page that is neither
         ...                                   count 0 ("refcount") nor skippable)
         test_pages_isolated() } while (ret)
    __offline_isolated_pages()                (point of no return)
    memory_notify(MEM_OFFLINE)
  failure: undo_isolate_page_range(); memory_notify(MEM_CANCEL_OFFLINE)

Where the proposal's synchronize_rcu() goes is not stated in the thread; it is put where
HVO puts its grace period relative to its refcount change: after the references were
dropped (MEM_GOING_OFFLINE, the analogue of the freeze) and before the range is scanned
and committed.

Leaves out: see memory_hotplug.py; a movable (PG_lru) page or a hugetlb folio in the range
makes the model raise (migration and dissolving are not modelled), and the endless retry
of the kernel's loop is a wait for the state it failed on to change.
"""

from __future__ import annotations

from collections.abc import Sequence

from pagerace.engine.ops import Atomic, Await
from pagerace.engine.view import StepView
from pagerace.kernel import rcu
from pagerace.kernel import struct_page as sp
from pagerace.kernel.buddy import FREE_LOC
from pagerace.kernel.descriptor import read_desc
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.hotplug import page_isolation as iso
from pagerace.kernel.hotplug.memory_hotplug import (
    EBUSY,
    ENOENT,
    MEM_CANCEL_OFFLINE,
    MEM_GOING_OFFLINE,
    MEM_OFFLINE,
    MemoryNotifier,
    PageOffline,
    PageOfflineSkippable,
    memory_notify,
    page_count,
    set_block_state,
)
from pagerace.kernel.memory_model import locked_load
from pagerace.kernel.step import Gen
from pagerace.kernel.vmemmap import FIELD_DEFAULTS, FLAGS, REFCOUNT, field_loc, read_pte


def scan_movable_pages(k: KernelHandle, start: int, end: int) -> Gen:
    """scan_movable_pages(): (0, pfn) for a movable page, (-ENOENT, end) when none,
    (-EBUSY, pfn) for a definitely unmovable PageOffline page."""
    func = "scan_movable_pages"
    for pfn in range(start, end):
        flags = yield from read_desc(k, pfn, FLAGS, func, f"{func}: PageLRU [pfn {pfn}]")
        if flags & sp.PG_LRU:
            return 0, pfn
        if (yield from PageOffline(k, pfn, func)):
            if k.hotplug.offline_rule == "refcount":
                if (yield from page_count(k, pfn, func)):
                    return -EBUSY, pfn
            elif not (yield from PageOfflineSkippable(k, pfn, func)):
                return -EBUSY, pfn
        folio = yield from sp.compound_head(k, pfn)  # PageHuge(page)
        if (yield from sp.page_type(k, folio, func)) == sp.PGTY_HUGETLB:
            raise ValueError(f"{func}: hugetlb folio at pfn {pfn}: not modelled")
    return -ENOENT, end


def wait_for_change(k: KernelHandle, pfn: int, func: str) -> Gen:
    """The retry of offline_pages() after test_pages_isolated() failed on pfn: it can only
    succeed once pfn's refcount or the free lists change, so wait for that."""
    g = k.geometry

    def snapshot(view: StepView) -> tuple[object, object]:
        pte = read_pte(view, k, g.vpage(pfn))
        ref = locked_load(view, field_loc(pte[0], g.slot(pfn), REFCOUNT),
                        FIELD_DEFAULTS[REFCOUNT]) if pte else None
        return ref, locked_load(view, FREE_LOC, ())

    seen = yield Atomic(lambda view, _: snapshot(view), f"{func}: cond_resched (retry)")
    yield Await(lambda view: snapshot(view) != seen,
                f"{func}: pfn {pfn} changed: retry the offlining loop")


def offline_pages(k: KernelHandle, start_pfn: int, nr_pages: int,
                  notifiers: Sequence[MemoryNotifier]) -> Gen:
    """offline_pages(start_pfn, nr_pages): 0, or a negative errno after MEM_CANCEL_OFFLINE."""
    func = "offline_pages"
    end_pfn = start_pfn + nr_pages
    yield from iso.start_isolate_page_range(k, start_pfn, end_pfn)
    ret = yield from memory_notify(k, notifiers, MEM_GOING_OFFLINE, start_pfn, nr_pages)
    if ret:
        return (yield from _failed_removal_isolated(k, start_pfn, nr_pages, notifiers,
                                                    -EBUSY))
    if k.hotplug.sync_rcu:  # the proposal: no reference may be taken by a reader that began before
        yield from rcu.synchronize_rcu(k, func)
    while True:
        pfn = start_pfn
        while True:
            ret, pfn = yield from scan_movable_pages(k, pfn, end_pfn)
            if ret:
                break
            raise ValueError(f"{func}: movable page at pfn {pfn}: migration not modelled")
        if ret != -ENOENT:  # "unmovable page"
            return (yield from _failed_removal_isolated(k, start_pfn, nr_pages,
                                                        notifiers, ret))
        ret, bad = yield from iso.test_pages_isolated(k, start_pfn, end_pfn)
        if not ret:
            break
        yield from wait_for_change(k, bad, func)
    yield from iso.__offline_isolated_pages(k, start_pfn, end_pfn)
    yield from memory_notify(k, notifiers, MEM_OFFLINE, start_pfn, nr_pages)
    return 0


def _failed_removal_isolated(k: KernelHandle, start_pfn: int, nr_pages: int,
                             notifiers: Sequence[MemoryNotifier], ret: int) -> Gen:
    yield from iso.undo_isolate_page_range(k, start_pfn, start_pfn + nr_pages)
    yield from memory_notify(k, notifiers, MEM_CANCEL_OFFLINE, start_pfn, nr_pages)
    return ret


def memory_block_offline(k: KernelHandle, block: int,
                         notifiers: Sequence[MemoryNotifier]) -> Gen:
    """drivers/base/memory.c memory_block_offline(): offline_pages(), then mem->state."""
    pfns = k.hotplug.geometry.block_range(block)
    ret = yield from offline_pages(k, pfns.start, len(pfns), notifiers)
    if ret == 0:
        yield from set_block_state(block, "offline", "memory_block_change_state")
    return ret
