"""Compaction's migration scanner on one pfn: the lockless checks, then the reference.

Models the per-pfn body of isolate_migratepages_block() in mm/compaction.c as the tree
this project reads has it (the v6.8-era loop: MAX_ORDER, isolate_movable_page();
cc->alloc_contig false, as for compaction proper), up to and including the speculative
reference, with every descriptor access one step in the kernel's order:

    if (PageHuge(page) && cc->alloc_contig)      PageHuge() is evaluated first:
        ...                                        page_folio(page), then the head's
                                                   page_type (folio_test_hugetlb)
    if (PageBuddy(page)) { skip the free block; continue; }
    if (PageCompound(page) && !cc->alloc_contig) {
        order = compound_order(page); skip it; goto isolate_fail;
    }
    if (!PageLRU(page)) {
        if (__PageMovable(page) && !PageIsolated(page)) isolate_movable_page(...);
        goto isolate_fail;
    }
    folio = folio_get_nontail_page(page);       get_page_unless_zero(page), cast
    if (!folio) goto isolate_fail;

`isolate_migratepages_pfn()` returns the folio it holds a reference on (the caller drops
it: the scenarios' walker has no use for the page) or None. PageCompound() is the
v6.x definition, `test_bit(PG_head) || READ_ONCE(page->compound_head) & 1`, with no
fake-head check: a fake head reads as compound and is skipped.

Leaves out: everything after the reference (folio_mapping, the lru lock, isolation
proper), the skip hints and pageblock bookkeeping, PageBuddy as the allocator sets it
(this model's buddy allocator keeps its free lists apart and marks no page PageBuddy, so
the check is one read of page_type that never skips), and movable_ops pages (no page of
the model has page->mapping & PAGE_MAPPING_MOVABLE, so __PageMovable() reads false and a
non-LRU page is skipped).
"""

from __future__ import annotations

from pagerace.kernel import page_ref_add_unless as pra
from pagerace.kernel import struct_page as sp
from pagerace.kernel.descriptor import read_desc
from pagerace.kernel.handle import KernelHandle as Kernel
from pagerace.kernel.step import Gen
from pagerace.kernel.vmemmap import FLAGS, PAGE_TYPE

FUNC = "isolate_migratepages_block"
PGTY_BUDDY = "buddy"


def PageHuge(k: Kernel, page: int) -> Gen:  # noqa: N802 - the kernel's name
    """PageHuge(): folio_test_hugetlb(page_folio(page))."""
    folio = yield from sp.compound_head(k, page)
    return (yield from sp.page_type(k, folio, "PageHuge")) == sp.PGTY_HUGETLB


def PageBuddy(k: Kernel, page: int) -> Gen:  # noqa: N802 - the kernel's name
    return (yield from read_desc(k, page, PAGE_TYPE, FUNC,
                                 f"{FUNC}: PageBuddy (page_type) [pfn {page}]")) == PGTY_BUDDY


def PageCompound(k: Kernel, page: int) -> Gen:  # noqa: N802 - the kernel's name
    """test_bit(PG_head, &page->flags) || READ_ONCE(page->compound_head) & 1."""
    flags = yield from read_desc(k, page, FLAGS, FUNC,
                                 f"{FUNC}: PageCompound: test_bit(PG_head) [pfn {page}]")
    if flags & sp.PG_HEAD:
        return True
    info = yield from read_desc(k, page, k.compound_field, FUNC,
                                f"{FUNC}: PageCompound: READ_ONCE(page->"
                                f"{k.compound_field}) & 1 [pfn {page}]")
    return bool(info & 1)


def compound_order(k: Kernel, page: int) -> Gen:
    """compound_order(page): 0 unless PG_head, then page[1]'s order (folio_order)."""
    return (yield from sp.folio_order(k, page, "compound_order"))


def PageLRU(k: Kernel, page: int) -> Gen:  # noqa: N802 - the kernel's name
    flags = yield from read_desc(k, page, FLAGS, FUNC,
                                 f"{FUNC}: PageLRU: test_bit(PG_lru) [pfn {page}]")
    return bool(flags & sp.PG_LRU)


def folio_get_nontail_page(k: Kernel, page: int) -> Gen:
    """folio_get_nontail_page() (include/linux/mm.h, 3c1ea2c729ef, v6.3):
    `if (!get_page_unless_zero(page)) return NULL; return (struct folio *)page;` - a tail
    reads refcount 0, so a reference means a head or an order-0 page."""
    if not (yield from pra.page_ref_add_unless(k, page, 1, 0)):
        return None
    return page


def isolate_migratepages_pfn(k: Kernel, page: int) -> Gen:
    """One pfn of isolate_migratepages_block() (compaction, not alloc_contig)."""
    yield from PageHuge(k, page)  # && cc->alloc_contig: false for compaction
    if (yield from PageBuddy(k, page)):
        return None
    if (yield from PageCompound(k, page)):
        yield from compound_order(k, page)  # skip the compound page at once
        return None
    if not (yield from PageLRU(k, page)):
        return None  # __PageMovable(page) is false: isolate_fail
    return (yield from folio_get_nontail_page(k, page))
