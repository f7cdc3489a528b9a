"""Page isolation for offlining: isolate, test_pages_isolated(), __offline_isolated_pages().

Models mm/page_isolation.c (start_isolate_page_range(), undo_isolate_page_range(),
test_pages_isolated() / __test_page_isolated_in_pageblock()) and mm/page_alloc.c
__offline_isolated_pages() with offline_mem_sections() (mm/sparse.c), v6.10-v6.15, with
the PageOffline rule of `HotplugConfig.offline_rule` (see memory_hotplug.py):

    __test_page_isolated_in_pageblock()          __offline_isolated_pages()
      PageBuddy            -> skip                 offline_mem_sections()   (the point of
      PageOffline && !page_count   ("refcount")    PageOffline:              no return)
      PageOffline && Skippable     ("skippable")     BUG_ON(page_count)     ("refcount")
      else                 -> -EBUSY                 WARN_ON_ONCE(!skippable || count != 1)
                                                   else BUG_ON(page_count), BUG_ON(!PageBuddy),
                                                        del_page_from_free_list()

Leaves out: has_unmovable_pages() (with MEMORY_OFFLINE it skips every PageOffline page
before any refcount load, and ZONE_MOVABLE blocks entirely, so isolation is one step on
the pageblock flags), HWPoison pages, buddy orders (each free page leaves the free lists
on its own: `pfn += 1 << buddy_order(page)` with order 0), the zone lock (one offliner).
"""

from __future__ import annotations

from pagerace.engine.ops import Atomic
from pagerace.engine.view import StepView
from pagerace.kernel.buddy import FREE_LOC, subtract
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.hotplug.memory_hotplug import (
    BUG,
    EBUSY,
    SECTION_BOOT,
    SECTION_IS_ONLINE,
    WARN,
    PageBuddy,
    PageOffline,
    PageOfflineSkippable,
    isolate_loc,
    page_count,
    section_loc,
)
from pagerace.kernel.memory_model import locked_load
from pagerace.kernel.step import Gen


def _set_isolate(k: KernelHandle, start_pfn: int, end_pfn: int, value: bool,
                 func: str) -> Gen:
    blocks = k.hotplug.geometry.pageblocks(start_pfn, end_pfn)

    def fn(view: StepView, outcome: int) -> None:
        for pb in blocks:
            view.store(isolate_loc(pb), value)
        what = "MIGRATE_ISOLATE" if value else "MIGRATE_MOVABLE"
        view.note(f"{func}: pageblocks {blocks.start}..{blocks.stop - 1} -> {what}",
                  func=func, access="write", pfn=start_pfn)
    yield Atomic(fn, f"{func}(pfns {start_pfn}..{end_pfn - 1})")


def start_isolate_page_range(k: KernelHandle, start_pfn: int,
                             end_pfn: int) -> Gen:
    """Mark the range MIGRATE_ISOLATE: nothing in it is handed out any more."""
    yield from _set_isolate(k, start_pfn, end_pfn, True, "start_isolate_page_range")


def undo_isolate_page_range(k: KernelHandle, start_pfn: int,
                            end_pfn: int) -> Gen:
    yield from _set_isolate(k, start_pfn, end_pfn, False, "undo_isolate_page_range")


def test_pages_isolated(k: KernelHandle, start_pfn: int, end_pfn: int) -> Gen:
    """test_pages_isolated(start, end, MEMORY_OFFLINE): (0, end) or (-EBUSY, first busy pfn)."""
    func = "test_pages_isolated"

    def all_isolated(view: StepView, outcome: int) -> bool:
        return all(locked_load(view, isolate_loc(pb), False)
                   for pb in k.hotplug.geometry.pageblocks(start_pfn, end_pfn))
    if not (yield Atomic(all_isolated, f"{func}: get_pageblock_isolate")):
        return -EBUSY, start_pfn
    for pfn in range(start_pfn, end_pfn):
        if (yield from PageBuddy(k, pfn, func)):
            continue
        if (yield from PageOffline(k, pfn, func)):
            if k.hotplug.offline_rule == "refcount":
                if not (yield from page_count(k, pfn, func)):
                    continue  # the driver dropped its reference in MEM_GOING_OFFLINE
            elif (yield from PageOfflineSkippable(k, pfn, func)):
                continue  # the driver re-discovers these pages when re-onlining
        return -EBUSY, pfn
    return 0, end_pfn


def offline_mem_sections(k: KernelHandle, start_pfn: int, end_pfn: int) -> Gen:
    """ms->section_mem_map &= ~SECTION_IS_ONLINE for each section: pfn_to_online_page()
    returns NULL from now on (checks.py's HeldAcrossOffline watches this step)."""
    for nr in k.hotplug.geometry.sections(start_pfn, end_pfn):
        def fn(view: StepView, outcome: int, nr: int = nr) -> None:
            flags = locked_load(view, section_loc(nr), SECTION_BOOT)
            view.store(section_loc(nr), flags & ~SECTION_IS_ONLINE)
            view.note(f"offline_mem_sections: section {nr} is no longer online",
                      func="offline_mem_sections", access="write", section=nr)
        yield Atomic(fn, f"offline_mem_sections: section {nr}")


def __offline_isolated_pages(k: KernelHandle, start_pfn: int,
                             end_pfn: int) -> Gen:
    """Mark the sections offline and take the free pages off the free lists. Returns the
    number of managed (non-PageOffline) pages."""
    func = "__offline_isolated_pages"
    yield from offline_mem_sections(k, start_pfn, end_pfn)
    already_offline = 0
    for pfn in range(start_pfn, end_pfn):
        if (yield from PageOffline(k, pfn, func)):
            if k.hotplug.offline_rule == "refcount":
                # "all remaining PageOffline() pages have a reference count of 0"
                count = yield from page_count(k, pfn, func)
                if count:
                    raise BUG(func, f"BUG_ON(page_count(page)): PageOffline pfn {pfn} has "
                              f"refcount {count}")
                if (yield from PageBuddy(k, pfn, func)):
                    raise BUG(func, f"BUG_ON(PageBuddy(page)): PageOffline pfn {pfn}")
            else:
                if not (yield from PageOfflineSkippable(k, pfn, func)):
                    yield from WARN(k, func, f"WARN_ON_ONCE(!PageOfflineSkippable): "
                                    f"pfn {pfn}")
                count = yield from page_count(k, pfn, func)
                if count != 1:
                    yield from WARN(k, func, f"WARN_ON_ONCE(page_count(page) != 1): "
                                    f"PageOffline pfn {pfn} has refcount {count}")
            already_offline += 1
            continue
        count = yield from page_count(k, pfn, func)
        if count:
            raise BUG(func, f"BUG_ON(page_count(page)): pfn {pfn} has refcount {count}")
        if not (yield from PageBuddy(k, pfn, func)):
            raise BUG(func, f"BUG_ON(!PageBuddy(page)): pfn {pfn} is not free")
        yield from del_page_from_free_list(pfn, func)
    return end_pfn - start_pfn - already_offline


def del_page_from_free_list(pfn: int, func: str) -> Gen:
    def fn(view: StepView, outcome: int) -> None:
        view.store(FREE_LOC, subtract(tuple(locked_load(view, FREE_LOC, ())), pfn, pfn + 1))
        view.note(f"{func}: del_page_from_free_list(pfn {pfn})", func=func, pfn=pfn,
                  access="alloc")
    yield Atomic(fn, f"{func}: del_page_from_free_list [pfn {pfn}]")
