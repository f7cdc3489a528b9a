"""The vmemmap of one folio, and how many of its pages each HVO generation frees.

Models Documentation/mm/vmemmap_dedup.rst and mm/hugetlb_vmemmap.h. A folio of N base
pages has N descriptors (struct page) in the vmemmap: N * sizeof(struct page) bytes, i.e.
ceil(N * size / PAGE_SIZE) vmemmap pages. With 4 KiB pages and 64-byte descriptors a
2 MiB folio has 512 descriptors in 8 vmemmap pages (32 KiB) and a 1 GiB folio 4096.

HugeTLB Vmemmap Optimization keeps a few of those pages and remaps the rest read-only:
- G0a (v5.14): keeps pages 0 and 1, maps 2..7 onto page 1: frees 6 of 8 (4094 of 4096).
- G0 (v5.18, commit e7d324850bfc "mm: hugetlb: free the 2nd vmemmap page associated
  with each HugeTLB page"), G1 (v6.10, bd225530a4c7) and G2 (v6.15): keep page 0 only,
  free 7 of 8 (28 KiB per 2 MiB folio) and 4095 of 4096. G1 and G2 change the RCU
  protocol, not the memory accounting.
- G3 (v7.1, "mm: Eliminate fake head pages from vmemmap optimization"): keeps a private
  copy of page 0 and points every other page at one read-only frame of tail descriptors
  shared per node and per folio order: frees the same per folio, plus that shared frame.

As `hugetlb_vmemmap_optimizable_size()` does, nothing is freed when the descriptor size
is not a power of two, or when the folio's descriptors do not fill more vmemmap pages
than are kept (e.g. 64 KiB base pages: a 2 MiB folio's 32 descriptors are 2 KiB, a part
of one vmemmap page shared with neighbouring folios).

Leaves out: the page-table page a PMD-mapped vmemmap needs once split to PTEs for the
remap, bootmem (early) HVO details, architectures where HVO is compiled out, and
memmap_on_memory ranges whose self-hosted vmemmap is never optimized.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pagerace.kernel.generations import get_generation
from pagerace.memmap.sizes import ceil_div, format_size, is_power_of_two

# generations the kernel model does not run; their accounting is kept here
_ACCOUNTING_ONLY: dict[str, tuple[int | None, bool]] = {"none": (None, False),
                                                        "G0a": (2, False)}


class Generation(enum.Enum):
    """An HVO generation, as far as memory accounting tells them apart. The names are the
    kernel model's (kernel/generations.py), whose entries say how many vmemmap pages a
    folio keeps and whether tails share a frame; `none` (HVO off) and `G0a` (v5.14,
    which the kernel model leaves out) are known only here."""

    NONE = "none"
    G0A = "G0a"
    G0 = "G0"
    G1 = "G1"
    G2 = "G2"
    G3 = "G3"

    @property
    def kept_vmemmap_pages(self) -> int | None:
        """Vmemmap pages each folio keeps private; None when HVO is off."""
        if self.value in _ACCOUNTING_ONLY:
            return _ACCOUNTING_ONLY[self.value][0]
        return get_generation(self.value).kept_vmemmap_pages

    @property
    def shares_tail_frame(self) -> bool:
        """G3: tails map onto a frame shared per node and folio order."""
        if self.value in _ACCOUNTING_ONLY:
            return _ACCOUNTING_ONLY[self.value][1]
        return get_generation(self.value).shares_tail_frame

    @property
    def summary(self) -> str:
        return _SUMMARIES[self]


_SUMMARIES: dict[Generation, str] = {
    Generation.NONE: "no HVO: every descriptor has its own vmemmap memory",
    Generation.G0A: "v5.14..v5.17: 2 vmemmap pages kept per folio",
    Generation.G0: "v5.18 (e7d324850bfc): 1 vmemmap page kept per folio",
    Generation.G1: "v6.10 (bd225530a4c7): as G0, plus RCU",
    Generation.G2: "v6.15: as G1, ordered loads",
    Generation.G3: "v7.1: 1 page kept per folio, plus a shared tail frame per node and order",
}

GENERATION_NAMES: tuple[str, ...] = tuple(g.value for g in Generation)


def parse_generation(name: str) -> Generation:
    """The generation called `name` (case-insensitive); ValueError naming the known ones."""
    for g in Generation:
        if g.value.lower() == name.strip().lower():
            return g
    raise ValueError(f"unknown HVO generation {name!r} (known: {', '.join(GENERATION_NAMES)})")


@dataclass(frozen=True)
class FolioVmemmap:
    """The vmemmap geometry of one folio (or one deduplicated chunk) and what is freed."""

    folio_bytes: int
    page_size: int
    descriptor_size: int
    kept_target: int | None
    """Vmemmap pages the optimization wants to keep; None when nothing is optimized."""

    @property
    def descriptors(self) -> int:
        return self.folio_bytes // self.page_size

    @property
    def vmemmap_bytes(self) -> int:
        return self.descriptors * self.descriptor_size

    @property
    def vmemmap_pages(self) -> int:
        """Vmemmap pages the descriptors touch: ceil(descriptors * size / PAGE_SIZE)."""
        return ceil_div(self.vmemmap_bytes, self.page_size)

    @property
    def why_nothing_freed(self) -> str | None:
        """Why the optimization frees nothing for this folio; None when it frees pages."""
        if self.kept_target is None:
            return "not optimized"
        if not is_power_of_two(self.descriptor_size):
            return (
                f"{self.descriptor_size}-byte descriptors are not a power of two: "
                "the kernel does not optimize"
            )
        if self.vmemmap_bytes % self.page_size != 0:
            return (
                f"descriptors take {format_size(self.vmemmap_bytes)}, less than one "
                f"{format_size(self.page_size)} vmemmap page"
            )
        if self.vmemmap_pages <= self.kept_target:
            return (
                f"only {self.vmemmap_pages} vmemmap page(s), "
                f"{self.kept_target} must be kept"
            )
        return None

    @property
    def freed_pages(self) -> int:
        """Vmemmap pages freed per folio."""
        if self.why_nothing_freed is not None or self.kept_target is None:
            return 0
        return self.vmemmap_pages - self.kept_target

    @property
    def freed_bytes(self) -> int:
        return self.freed_pages * self.page_size

    @property
    def kept_pages(self) -> int:
        """Vmemmap pages still private to the folio (touched ones when nothing is freed)."""
        return self.vmemmap_pages - self.freed_pages


def folio_vmemmap(
    folio_bytes: int, page_size: int, descriptor_size: int, generation: Generation
) -> FolioVmemmap:
    """The vmemmap of one hugetlb folio of `folio_bytes` under `generation`."""
    return FolioVmemmap(folio_bytes, page_size, descriptor_size, generation.kept_vmemmap_pages)
