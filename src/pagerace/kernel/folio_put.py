"""Dropping a reference: put_page(), folio_put(), __folio_put().

Models include/linux/mm.h put_page() / folio_put() and mm/swap.c __folio_put() (v6.10 ..
v6.15): the reference that reaches zero sends a hugetlb folio to free_huge_folio() and
any other folio to the page allocator (free_frozen_pages()). It sits above both
hugetlb/hugetlb.py and buddy.py, which is where the C code's call graph puts it.

Leaves out: the LRU (__page_cache_release, lruvec locks), mlock, memcg uncharging,
large-folio deferred split, zone-device pages.
"""

from __future__ import annotations

from pagerace.kernel import buddy
from pagerace.kernel import struct_page as sp
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.hugetlb import hugetlb
from pagerace.kernel.step import Gen


def folio_put(k: KernelHandle, folio: int) -> Gen:
    """folio_put(): if (folio_put_testzero(folio)) __folio_put(folio)."""
    if (yield from sp.page_ref_dec_and_test(k, folio, "folio_put")):
        yield from __folio_put(k, folio)


def __folio_put(k: KernelHandle, folio: int) -> Gen:
    """__folio_put(): hugetlb folios go to free_huge_folio(), others to the buddy."""
    if (yield from sp.page_type(k, folio, "__folio_put")) == sp.PGTY_HUGETLB:
        yield from hugetlb.free_huge_folio(k, folio)
        return
    order = yield from sp.folio_order(k, folio, "__folio_put")
    yield from buddy.free_frozen_pages(k, folio, order)


def put_page(k: KernelHandle, page: int) -> Gen:
    """put_page(): folio_put(page_folio(page))."""
    folio = yield from sp.compound_head(k, page)
    yield from folio_put(k, folio)
