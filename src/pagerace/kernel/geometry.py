"""Geometry of the memory map: page size, struct page size, folio orders.

Models the arithmetic of the vmemmap (SPARSEMEM_VMEMMAP, include/asm-generic/memory_model.h):
the descriptor of pfn `n` lives at `VMEMMAP_BASE + n * desc_size`, so one vmemmap page of
`page_size` bytes holds `page_size // desc_size` descriptors, and a folio of order `o` has
`2**o * desc_size / page_size` vmemmap pages (HVO needs at least 2 of them).

Two geometries are provided:
- `Geometry.real()`: x86-64 / arm64-4K: 4 KiB pages, 64-byte struct page, 64 descriptors per
  vmemmap page, 2 MiB hugetlb folios (order 9, 8 vmemmap pages) and 1 GiB gigantic folios
  (order 18, 4096 vmemmap pages).
- `Geometry.scaled()`: the same structure shrunk for fast checks: 4 descriptors per vmemmap
  page, hugetlb order 4 (16 pages, 4 vmemmap pages: the head's page and three remapped ones,
  so aligned tails other than the head exist), gigantic order 6 (16 vmemmap pages).

`nr_reset_struct_page` is NR_RESET_STRUCT_PAGE of mm/hugetlb_vmemmap.c (3 from v6.0, 4 in
the 2026 tree); the kernel's BUILD_BUG_ON(NR_RESET_STRUCT_PAGE * 2 > PAGE_SIZE /
sizeof(struct page)) is kept, so the scaled geometry resets 2.

Leaves out: non-power-of-2 struct page sizes other than as a flag that disables HVO (the
kernel refuses HVO then), PMD-mapped vmemmap (the model's vmemmap is PTE-mapped from boot,
so split_vmemmap_huge_pmd() is not modelled), NUMA placement.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# x86-64 vmemmap_base with 4-level paging (Documentation/arch/x86/x86_64/mm.rst); aligned far
# beyond the largest folio, as the 2026 mask encoding of compound_info requires.
VMEMMAP_BASE = 0xFFFF_EA00_0000_0000
BITS_PER_LONG = 64


def _is_power_of_2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


@dataclass(frozen=True)
class Geometry:
    name: str
    page_size: int
    desc_size: int
    hugetlb_order: int
    gigantic_order: int
    nr_reset_struct_page: int

    def __post_init__(self) -> None:
        if self.page_size <= 0 or self.desc_size <= 0 or self.page_size % self.desc_size:
            raise ValueError("page_size must be a positive multiple of desc_size")
        if not 0 < self.hugetlb_order <= self.gigantic_order:
            raise ValueError("need 0 < hugetlb_order <= gigantic_order")
        if self.nr_reset_struct_page * 2 > self.descs_per_vmemmap_page:
            raise ValueError("NR_RESET_STRUCT_PAGE * 2 > PAGE_SIZE / sizeof(struct page)")

    # -- constructors ---------------------------------------------------------------------
    @classmethod
    def real(cls, nr_reset_struct_page: int = 3) -> Geometry:
        return cls("real", page_size=4096, desc_size=64, hugetlb_order=9,
                   gigantic_order=18, nr_reset_struct_page=nr_reset_struct_page)

    @classmethod
    def scaled(cls, hugetlb_order: int = 4, gigantic_order: int = 6) -> Geometry:
        return cls("scaled", page_size=256, desc_size=64, hugetlb_order=hugetlb_order,
                   gigantic_order=gigantic_order, nr_reset_struct_page=2)

    def with_(self, **changes: int | str) -> Geometry:
        return replace(self, **changes)  # type: ignore[arg-type]

    # -- derived sizes --------------------------------------------------------------------
    @property
    def descs_per_vmemmap_page(self) -> int:
        return self.page_size // self.desc_size

    @property
    def desc_power_of_2(self) -> bool:
        return _is_power_of_2(self.desc_size)

    def nr_pages(self, order: int) -> int:
        return 1 << order

    def folio_bytes(self, order: int) -> int:
        return self.page_size << order

    def vmemmap_pages(self, order: int) -> int:
        """Vmemmap pages holding the descriptors of one folio (hugetlb_vmemmap_size())."""
        return max(1, (self.nr_pages(order) * self.desc_size) // self.page_size)

    def hvo_possible(self, order: int) -> bool:
        """vmemmap_should_optimize_folio(): at least one vmemmap page can be freed."""
        return self.desc_power_of_2 and self.vmemmap_pages(order) >= 2

    # -- addresses ------------------------------------------------------------------------
    def desc_addr(self, pfn: int) -> int:
        """Virtual address of pfn's struct page (pfn_to_page)."""
        return VMEMMAP_BASE + pfn * self.desc_size

    def addr_pfn(self, addr: int) -> int:
        """page_to_pfn of a descriptor address."""
        off = addr - VMEMMAP_BASE
        if off < 0 or off % self.desc_size:
            raise ValueError(f"{addr:#x} is not a struct page address")
        return off // self.desc_size

    def vpage(self, pfn: int) -> int:
        """Index of the vmemmap page holding pfn's descriptor."""
        return pfn // self.descs_per_vmemmap_page

    def slot(self, pfn: int) -> int:
        """Index of pfn's descriptor inside its vmemmap page."""
        return pfn % self.descs_per_vmemmap_page

    def vpage_first_pfn(self, vpage: int) -> int:
        return vpage * self.descs_per_vmemmap_page

    def vpage_addr(self, vpage: int) -> int:
        return VMEMMAP_BASE + vpage * self.page_size

    def desc_page_aligned(self, pfn: int) -> bool:
        """IS_ALIGNED((unsigned long)page, PAGE_SIZE): a possible fake head."""
        return self.desc_addr(pfn) % self.page_size == 0

    def folio_vpages(self, head: int, order: int) -> range:
        first = self.vpage(head)
        return range(first, first + self.vmemmap_pages(order))

    def compound_info_mask(self, order: int) -> int:
        """set_compound_head() with compound_info_has_mask(): GENMASK(63, shift) | 1."""
        shift = order + (self.desc_size.bit_length() - 1)
        return ((1 << BITS_PER_LONG) - 1) & ~((1 << shift) - 1) | 1

    def describe(self) -> str:
        return (f"{self.name}: {self.page_size}-byte pages, {self.desc_size}-byte struct "
                f"page, {self.descs_per_vmemmap_page} per vmemmap page; hugetlb order "
                f"{self.hugetlb_order} ({self.vmemmap_pages(self.hugetlb_order)} vmemmap "
                f"pages), gigantic order {self.gigantic_order} "
                f"({self.vmemmap_pages(self.gigantic_order)} vmemmap pages)")
