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

Sizes: x86-64 sections are 128 MiB (SECTION_SIZE_BITS 27: 32768 pages, 512 vmemmap pages
of 64 descriptors), memory blocks 128 MiB .. 2 GiB. The scaled geometry keeps one section
per block, with 4 pages per section (one vmemmap page of 4 descriptors) and 2-page
pageblocks, so the offlining code touches every descriptor in a few dozen steps.

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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pagerace.engine.ops import Atomic
from pagerace.engine.view import StepView
from pagerace.engine.violation import Violation
from pagerace.kernel import struct_page as sp
from pagerace.kernel.buddy import FREE_LOC
from pagerace.kernel.vmemmap import (
    FLAGS,
    PAGE_TYPE,
    REFCOUNT,
    Gen,
    ghost_loc,
    read_desc,
)

if TYPE_CHECKING:
    from pagerace.kernel.kernel import Kernel

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

OfflineRule = Literal["refcount", "skippable"]
WarnMode = Literal["report", "ignore"]
WARNINGS = ghost_loc("warnings")

# a memory notifier: (k, action, start_pfn, nr_pages) -> NOTIFY_OK (0) or an errno
MemoryNotifier = Callable[["Kernel", str, int, int], Gen]


@dataclass(frozen=True)
class HotplugGeometry:
    """Sections, memory blocks and pageblocks, in pages."""

    name: str
    pages_per_section: int
    sections_per_block: int
    pageblock_pages: int

    @classmethod
    def real(cls, block_mib: int = 128) -> HotplugGeometry:
        """x86-64: 128 MiB sections of 4 KiB pages; blocks of 128 MiB .. 2 GiB."""
        if block_mib not in (128, 256, 512, 1024, 2048):
            raise ValueError("x86-64 memory blocks are 128 MiB .. 2 GiB, a power of 2")
        return cls("real", 32768, block_mib // 128, 512)

    @classmethod
    def scaled(cls) -> HotplugGeometry:
        return cls("scaled", 4, 1, 2)

    @property
    def block_pages(self) -> int:
        return self.pages_per_section * self.sections_per_block

    def section_nr(self, pfn: int) -> int:
        return pfn // self.pages_per_section

    def block_id(self, pfn: int) -> int:
        return pfn // self.block_pages

    def block_range(self, block: int) -> range:
        return range(block * self.block_pages, (block + 1) * self.block_pages)

    def sections(self, start_pfn: int, end_pfn: int) -> range:
        return range(self.section_nr(start_pfn), self.section_nr(end_pfn - 1) + 1)

    def pageblocks(self, start_pfn: int, end_pfn: int) -> range:
        return range(start_pfn // self.pageblock_pages,
                     (end_pfn - 1) // self.pageblock_pages + 1)

    def block_bytes(self, page_size: int = 4096) -> int:
        return self.block_pages * page_size


@dataclass(frozen=True)
class HotplugConfig:
    """Which variant of the offlining / removal code runs."""

    geometry: HotplugGeometry = HotplugGeometry.scaled()
    offline_rule: OfflineRule = "refcount"
    warn: WarnMode = "report"  # "ignore": panic_on_warn=0, the WARN is only counted
    sync_rcu: bool = False  # the seed thread's proposal: grace periods on the offline path
    vmemmap: Literal["hole", "zero-page"] = "hole"  # what removal leaves in the vmemmap
    zero_frame: int | None = None  # the shared read-only "zero struct page" frame
    window: str | None = None  # sometimes-property witnessed by offline_mem_sections()


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

def WARN(k: Kernel, hp: HotplugConfig, func: str, message: str) -> Gen:  # noqa: N802
    """WARN_ON() firing: a violation of kind "warn", or (warn="ignore") a counted ghost."""
    def fn(view: StepView, outcome: int) -> None:
        view.note(f"WARNING: {func}: {message}", func=func, access="warn")
        if hp.warn == "report":
            raise Violation("warn", f"{func}: {message}")
        view.store(WARNINGS, view.peek(WARNINGS, 0) + 1)
    yield Atomic(fn, f"{func}: WARN_ON fires: {message}")


def BUG(func: str, message: str) -> Violation:  # noqa: N802 - the kernel's name
    return Violation("bug", f"{func}: kernel BUG: {message}")


def PageBuddy(k: Kernel, pfn: int, func: str) -> Gen:  # noqa: N802 - the kernel's name
    """PageBuddy(page): here, whether pfn sits in the buddy allocator's free ranges."""
    def fn(view: StepView, outcome: int) -> bool:
        free = any(a <= pfn < b for a, b in view.load(FREE_LOC, ()))
        view.note(f"{func}: PageBuddy(pfn {pfn}) = {free}", func=func, pfn=pfn,
                  access="read")
        return free
    return (yield Atomic(fn, f"{func}: PageBuddy [pfn {pfn}]"))


def PageOffline(k: Kernel, pfn: int, func: str) -> Gen:  # noqa: N802
    return (yield from read_desc(k, pfn, PAGE_TYPE, func,
                                 f"{func}: PageOffline [pfn {pfn}]")) == sp.PGTY_OFFLINE


def PageOfflineSkippable(k: Kernel, pfn: int, func: str) -> Gen:  # noqa: N802
    flags = yield from read_desc(k, pfn, FLAGS, func,
                                 f"{func}: PageOfflineSkippable [pfn {pfn}]")
    return bool(flags & PG_OFFLINE_SKIPPABLE)


def page_count(k: Kernel, pfn: int, func: str) -> Gen:
    """page_count(page) = folio_ref_count(page_folio(page)): two loads."""
    folio = yield from sp.compound_head(k, pfn)
    return (yield from read_desc(k, folio, REFCOUNT, func,
                                 f"{func}: page_count [pfn {folio}]"))


def pfn_to_online_page(k: Kernel, pfn: int, geo: HotplugGeometry) -> Gen:
    """pfn_to_online_page(): the struct page if pfn's section is online, else NULL."""
    nr = geo.section_nr(pfn)
    cpu = k.cpu

    def fn(view: StepView, outcome: int) -> int | None:
        flags = view.load(section_loc(nr), SECTION_BOOT)
        online = bool(flags & SECTION_IS_ONLINE and flags & SECTION_HAS_MEM_MAP)
        view.note(f"pfn_to_online_page(pfn {pfn}): section {nr} "
                  f"{'online' if online else 'not online: NULL'}", func="pfn_to_online_page",
                  pfn=pfn, access="read")
        if online:
            view.store(online_page_loc(cpu), pfn)
        return pfn if online else None
    return (yield Atomic(fn, f"pfn_to_online_page: online_section_nr({nr}) [pfn {pfn}]"))


def memory_notify(k: Kernel, notifiers: Sequence[MemoryNotifier], action: str,
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
