"""Memory blocks and sections, the memory notifier chain, and the PageOffline rules.

Models the sizes and states of memory blocks and sections, memory_notify() and the
helpers the offlining code (offline_pages.py, page_isolation.py) reads descriptors with,
and the section-online bit of mm/sparse.c (pfn_to_online_page()), as of v6.10-v6.15.
The rule for PageOffline pages is selectable:

- "refcount" (v5.7 .. v6.15, the rule virtio-mem's MEM_GOING_OFFLINE handler relies on):
  a PageOffline page with a nonzero count makes scan_movable_pages() fail with -EBUSY,
  test_pages_isolated() treats a PageOffline page with count 0 as isolated, and
  __offline_isolated_pages() BUGs on a PageOffline page with a nonzero count;
- "skippable" (David Hildenbrand, "mm/memory_hotplug: PG_offline_skippable for offlining
  memory blocks with PageOffline pages", v2, May 2025; merge status unconfirmed): the
  PG_offline_skippable flag replaces the count in the first two checks, and
  __offline_isolated_pages() WARN_ON_ONCE()s unless the page is skippable with count 1.

Sizes and variants: hotplug/config.py (`k.hotplug`).

State: `("mem_section", nr)` -> section_mem_map flag bits (absent: present, has a memmap
and online, as boot memory is); `("memory_block", id)` -> "online" | "offline" |
"removed" (absent: "online"); `("pageblock_isolate", pb)` -> MIGRATE_ISOLATE set.

Leaves out: zones and pcplists (zone_pcp_disable, lru_cache_disable), node notifiers,
movable_ops / __PageMovable pages, HWPoison, dissolving free hugetlb folios (no hugetlb in
the offlined block), migration (do_migrate_range: a movable page makes the model raise),
signals (the retry loop waits for the state it failed on to change instead of spinning),
managed / present page counters, the mem_hotplug_lock and device_hotplug_lock (one
offliner at a time, as those locks ensure).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pagerace.engine.ops import Atomic
from pagerace.engine.view import StepView
from pagerace.engine.violation import Violation
from pagerace.kernel import struct_page as sp
from pagerace.kernel.buddy import FREE_LOC
from pagerace.kernel.descriptor import read_desc
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.memory_model import locked_load
from pagerace.kernel.page_ref import ref_count_value
from pagerace.kernel.step import Gen
from pagerace.kernel.vmemmap import FLAGS, PAGE_TYPE, REFCOUNT, ghost_loc

EBUSY = 16
ENOENT = 2

# include/linux/mmzone.h: section_mem_map flag bits
SECTION_MARKED_PRESENT = 1 << 0
SECTION_HAS_MEM_MAP = 1 << 1
SECTION_IS_ONLINE = 1 << 2
SECTION_BOOT = SECTION_MARKED_PRESENT | SECTION_HAS_MEM_MAP | SECTION_IS_ONLINE

# include/linux/page-flags.h: PG_offline_skippable = PG_owner_2 (2025 series)
PG_OFFLINE_SKIPPABLE = 1 << 12

MEM_GOING_OFFLINE = "MEM_GOING_OFFLINE"
MEM_OFFLINE = "MEM_OFFLINE"
MEM_CANCEL_OFFLINE = "MEM_CANCEL_OFFLINE"

WARNINGS = ghost_loc("warnings")

# a memory notifier: (k, action, start_pfn, nr_pages) -> NOTIFY_OK (0) or an errno
MemoryNotifier = Callable[[KernelHandle, str, int, int], Gen]


def section_loc(nr: int) -> tuple[str, int]:
    return ("mem_section", nr)


def block_loc(block: int) -> tuple[str, int]:
    return ("memory_block", block)


def isolate_loc(pageblock: int) -> tuple[str, int]:
    return ("pageblock_isolate", pageblock)


def online_page_loc(cpu: int) -> tuple[str | int, ...]:
    """Ghost: the pfn whose struct page `cpu` last got from pfn_to_online_page()."""
    return ghost_loc("online_page", cpu)


# -- small helpers: one step each --------------------------------------------------------

def WARN(k: KernelHandle, func: str, message: str) -> Gen:  # noqa: N802
    """WARN_ON() firing: a violation of kind "warn", or (warn="ignore") a counted ghost."""
    def fn(view: StepView, outcome: int) -> None:
        view.note(f"WARNING: {func}: {message}", func=func, access="warn")
        if k.hotplug.warn == "report":
            raise Violation("warn", f"{func}: {message}")
        view.ghost(WARNINGS, view.peek(WARNINGS, 0) + 1)
    yield Atomic(fn, f"{func}: WARN_ON fires: {message}")


def BUG(func: str, message: str) -> Violation:  # noqa: N802 - the kernel's name
    return Violation("bug", f"{func}: kernel BUG: {message}")


def PageBuddy(k: KernelHandle, pfn: int, func: str) -> Gen:  # noqa: N802 - the kernel's name
    """PageBuddy(page): here, whether pfn sits in the buddy allocator's free ranges."""
    def fn(view: StepView, outcome: int) -> bool:
        free = any(a <= pfn < b for a, b in locked_load(view, FREE_LOC, ()))
        view.note(f"{func}: PageBuddy(pfn {pfn}) = {free}", func=func, pfn=pfn,
                  access="read")
        return free
    return (yield Atomic(fn, f"{func}: PageBuddy [pfn {pfn}]"))


def PageOffline(k: KernelHandle, pfn: int, func: str) -> Gen:  # noqa: N802
    return (yield from read_desc(k, pfn, PAGE_TYPE, func,
                                 f"{func}: PageOffline [pfn {pfn}]")) == sp.PGTY_OFFLINE


def PageOfflineSkippable(k: KernelHandle, pfn: int, func: str) -> Gen:  # noqa: N802
    flags = yield from read_desc(k, pfn, FLAGS, func,
                                 f"{func}: PageOfflineSkippable [pfn {pfn}]")
    return bool(flags & PG_OFFLINE_SKIPPABLE)


def page_count(k: KernelHandle, pfn: int, func: str) -> Gen:
    """page_count(page) = folio_ref_count(page_folio(page)): two loads."""
    folio = yield from sp.compound_head(k, pfn)
    return ref_count_value(k, (yield from read_desc(k, folio, REFCOUNT, func,
                                                    f"{func}: page_count [pfn {folio}]")))


def pfn_to_online_page(k: KernelHandle, pfn: int) -> Gen:
    """pfn_to_online_page(): the struct page if pfn's section is online, else NULL."""
    nr = k.hotplug.geometry.section_nr(pfn)
    cpu = k.cpu

    def fn(view: StepView, outcome: int) -> int | None:
        flags = locked_load(view, section_loc(nr), SECTION_BOOT)
        online = bool(flags & SECTION_IS_ONLINE and flags & SECTION_HAS_MEM_MAP)
        view.note(f"pfn_to_online_page(pfn {pfn}): section {nr} "
                  f"{'online' if online else 'not online: NULL'}", func="pfn_to_online_page",
                  pfn=pfn, access="read")
        if online:
            view.store(online_page_loc(cpu), pfn)
        return pfn if online else None
    return (yield Atomic(fn, f"pfn_to_online_page: online_section_nr({nr}) [pfn {pfn}]"))


def memory_notify(k: KernelHandle, notifiers: Sequence[MemoryNotifier], action: str,
                  start_pfn: int, nr_pages: int) -> Gen:
    """blocking_notifier_call_chain(&memory_chain, action, arg): stops at an error."""
    def fn(view: StepView, outcome: int) -> None:
        view.note(f"memory_notify({action}, pfns {start_pfn}..{start_pfn + nr_pages - 1})",
                  func="memory_notify", access="notify")
    yield Atomic(fn, f"memory_notify({action})")
    for nb in notifiers:
        ret = yield from nb(k, action, start_pfn, nr_pages)
        if ret:
            return ret
    return 0


def set_block_state(block: int, value: str, func: str) -> Gen:
    def fn(view: StepView, outcome: int) -> None:
        view.store(block_loc(block), value)
        view.note(f"{func}: memory block {block} is {value}", func=func, access="write")
    yield Atomic(fn, f"{func}: memory{block} -> {value}")
