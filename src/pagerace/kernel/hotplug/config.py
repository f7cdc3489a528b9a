"""The memory-hotplug part of the kernel configuration: geometry and code variants.

`HotplugGeometry`: sections, memory blocks and pageblocks in pages. x86-64 sections are
128 MiB (SECTION_SIZE_BITS 27: 32768 pages, 512 vmemmap pages of 64 descriptors), memory
blocks 128 MiB .. 2 GiB. The scaled geometry keeps one section per block, with 4 pages per
section (one vmemmap page of 4 descriptors) and 2-page pageblocks, so the offlining code
touches every descriptor in a few dozen steps.

`HotplugConfig`: which variant of the offlining / removal code runs (the PageOffline rule,
see memory_hotplug.py; what a WARN does; the June 2024 proposal's grace periods and zero
struct page). It is a field of `KernelConfig` (`k.hotplug`), so no modelled function takes
it as a parameter.

Pure data: imports nothing of the kernel layer. Leaves out: memory blocks of mixed sizes,
altmap / memmap_on_memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

OfflineRule = Literal["refcount", "skippable"]
WarnMode = Literal["report", "ignore"]
VmemmapRemoval = Literal["hole", "zero-page"]

OFFLINE_RULES: tuple[OfflineRule, ...] = ("refcount", "skippable")
WARN_MODES: tuple[WarnMode, ...] = ("report", "ignore")
VMEMMAP_REMOVALS: tuple[VmemmapRemoval, ...] = ("hole", "zero-page")


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

    def section_range(self, nr: int) -> range:
        return range(nr * self.pages_per_section, (nr + 1) * self.pages_per_section)

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

    geometry: HotplugGeometry = field(default_factory=HotplugGeometry.scaled)
    offline_rule: OfflineRule = "refcount"
    warn: WarnMode = "report"  # "ignore": panic_on_warn=0, the WARN is only counted
    sync_rcu: bool = False  # the seed thread's proposal: grace periods on the offline path
    vmemmap: VmemmapRemoval = "hole"  # what removal leaves in the vmemmap
    zero_frame: int | None = None  # the shared read-only "zero struct page" frame

    def __post_init__(self) -> None:
        if self.offline_rule not in OFFLINE_RULES:
            raise ValueError(f"offline_rule must be one of {OFFLINE_RULES}")
        if self.warn not in WARN_MODES:
            raise ValueError(f"warn must be one of {WARN_MODES}")
        if self.vmemmap not in VMEMMAP_REMOVALS:
            raise ValueError(f"vmemmap must be one of {VMEMMAP_REMOVALS}")
