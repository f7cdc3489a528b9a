"""A minimal buddy allocator: free pfn ranges, aligned blocks, exactly-once freeing.

Models the page allocator as far as these races need it (mm/page_alloc.c, v6.x):
- `("buddy", "free")` -> a sorted tuple of disjoint half-open free pfn ranges (one location,
  as zone->lock serialises the free lists). Present memory is free at boot except the
  pages a scenario allocates.
- rmqueue: an aligned block of order n is handed out only if all its pages are free (one
  step); then prep_new_page(): post_alloc_hook() sets the head's refcount to 1 and
  prep_compound_page() sets PG_head, the tails' compound_head and folio->_flags_1.
- freeing: free_pages_prepare() clears the compound metadata (tails' compound_head, flags)
  through the vmemmap, then __free_one_page() returns the block; a page that is already
  free is a Violation("bug", "double free ...").
- __free_pages(): put_page_testzero() on the head, and the block is freed only by whoever
  drops the last reference.

Descriptor writes of prep_compound_page() / free_pages_prepare() done by the owner of the
block are grouped into one step per vmemmap page (a walker cannot observe a vmemmap page
half-prepared; the kernel writes them one by one). Leaves out: per-CPU page lists, zones,
migratetypes, splitting non-compound high-order pages, the __free_pages() branch that frees
the tail pages of a non-compound allocation when someone else holds the head.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pagerace.engine.ops import Atomic
from pagerace.engine.view import StepView
from pagerace.engine.violation import Violation
from pagerace.kernel import struct_page as sp
from pagerace.kernel.descriptor import write_desc, write_descs
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.memory_model import locked_load
from pagerace.kernel.step import Gen
from pagerace.kernel.vmemmap import FLAGS, FLAGS_1, REFCOUNT

FREE_LOC = ("buddy", "free")
Ranges = tuple[tuple[int, int], ...]


def normalize(ranges: Sequence[tuple[int, int]]) -> Ranges:
    """Sorted, merged, non-empty ranges."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted((int(a), int(b)) for a, b in ranges if b > a):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def subtract(ranges: Ranges, lo: int, hi: int) -> Ranges:
    out: list[tuple[int, int]] = []
    for a, b in ranges:
        if b <= lo or a >= hi:
            out.append((a, b))
            continue
        if a < lo:
            out.append((a, lo))
        if hi < b:
            out.append((hi, b))
    return tuple(out)


def is_free(ranges: Ranges, lo: int, hi: int) -> bool:
    return any(a <= lo and hi <= b for a, b in ranges)


def overlap(ranges: Ranges, lo: int, hi: int) -> tuple[int, int] | None:
    for a, b in ranges:
        if a < hi and lo < b:
            return max(a, lo), min(b, hi)
    return None


def pfn_is_free(state: dict[Any, Any], pfn: int) -> bool:
    return is_free(tuple(state.get(FREE_LOC, ())), pfn, pfn + 1)


def rmqueue(k: KernelHandle, order: int, containing: int | None, func: str) -> Gen:
    """Take an aligned free block of `order` (the one containing `containing`, or the
    lowest one) off the free lists; None when there is none."""
    size = 1 << order

    def fn(view: StepView, outcome: int) -> int | None:
        ranges: Ranges = tuple(locked_load(view, FREE_LOC, ()))
        if containing is not None:
            starts = [containing & ~(size - 1)]
        else:
            starts = [((a + size - 1) // size) * size for a, _ in ranges]
        for start in starts:
            if is_free(ranges, start, start + size):
                view.store(FREE_LOC, subtract(ranges, start, start + size))
                view.note(f"buddy: allocate pfns {start}..{start + size - 1} (order {order})",
                          func=func, access="alloc", pfn=start, order=order)
                return start
        what = (f"the order-{order} block containing pfn {containing}"
                if containing is not None else f"an order-{order} block")
        view.note(f"buddy: {what} is not free: allocation fails", func=func,
                  access="alloc", pfn=containing, order=order)
        return None

    return (yield Atomic(fn, f"{func}: rmqueue(order {order})"))


def free_one_page(k: KernelHandle, pfn: int, order: int, func: str) -> Gen:
    """__free_one_page(): give the block back; a page already free is a double free."""
    size = 1 << order

    def fn(view: StepView, outcome: int) -> None:
        ranges: Ranges = tuple(locked_load(view, FREE_LOC, ()))
        dup = overlap(ranges, pfn, pfn + size)
        if dup is not None:
            raise Violation("bug", f"{func}: double free of pfn {dup[0]}"
                            + (f"..{dup[1] - 1}" if dup[1] - dup[0] > 1 else "")
                            + " (already in the buddy allocator)")
        view.store(FREE_LOC, normalize(ranges + ((pfn, pfn + size),)))
        view.note(f"buddy: free pfns {pfn}..{pfn + size - 1} (order {order})", func=func,
                  access="free", pfn=pfn, order=order)

    yield Atomic(fn, f"{func}: __free_one_page(pfn {pfn}, order {order})")


def _groups(k: KernelHandle, page: int, order: int) -> list[list[int]]:
    """The pfns of a block, grouped by vmemmap page."""
    per = k.geometry.descs_per_vmemmap_page
    out: list[list[int]] = []
    pfn, end = page, page + (1 << order)
    while pfn < end:
        stop = min(end, (pfn // per + 1) * per)
        out.append(list(range(pfn, stop)))
        pfn = stop
    return out


def prep_new_page(k: KernelHandle, page: int, order: int, func: str = "prep_new_page",
                  refcounted: bool = True) -> Gen:
    """post_alloc_hook() (set_page_refcounted, unless frozen) then prep_compound_page()
    for order > 0."""
    if refcounted:
        yield from write_desc(k, page, REFCOUNT, 1, "set_page_refcounted",
                              f"{func}: set_page_refcounted [pfn {page}]")
    if order == 0:
        return
    head_info = sp.encode_compound_head(k, page, order)
    tail_field = k.compound_field
    for group in _groups(k, page, order):
        writes = [(p, tail_field, head_info) for p in group if p != page]
        if group[0] == page:
            writes.insert(0, (page, FLAGS, sp.PG_HEAD))
        yield from write_descs(k, writes, "prep_compound_page",
                               f"prep_compound_page: __SetPageHead / set_compound_head "
                               f"[pfns {group[0]}..{group[-1]}]")
    yield from write_desc(k, page + 1, FLAGS_1, order, "prep_compound_head",
                          f"prep_compound_head: folio->_flags_1 = order {order} "
                          f"[pfn {page + 1}]")


def alloc_pages(k: KernelHandle, order: int, containing: int | None = None,
                func: str = "alloc_pages") -> Gen:
    """__alloc_pages(gfp | __GFP_COMP, order): a compound block with the head's refcount 1."""
    page = yield from rmqueue(k, order, containing, func)
    if page is None:
        return None
    yield from prep_new_page(k, page, order)
    return page


def alloc_frozen_pages(k: KernelHandle, order: int, containing: int | None = None,
                       func: str = "__alloc_frozen_pages") -> Gen:
    """__alloc_frozen_pages(gfp | __GFP_COMP, order) (v6.14+): the same block, but the
    head's refcount stays 0 - no set_page_refcounted()."""
    page = yield from rmqueue(k, order, containing, func)
    if page is None:
        return None
    yield from prep_new_page(k, page, order, refcounted=False)
    return page


def free_pages_prepare(k: KernelHandle, page: int, order: int) -> Gen:
    """free_pages_prepare(): page[1].flags, each tail (clear_compound_head, flags), then the
    head's flags, through the vmemmap."""
    func = "free_pages_prepare"
    if order:
        for group in _groups(k, page, order):
            writes: list[tuple[int, str, Any]] = []
            for p in group:
                if p == page:
                    continue
                if p == page + 1:
                    writes.append((p, FLAGS_1, 0))
                writes.append((p, k.compound_field, 0))
                writes.append((p, FLAGS, 0))
            if writes:
                yield from write_descs(k, writes, "free_tail_page_prepare",
                                       f"{func}: free_tail_page_prepare "
                                       f"[pfns {group[0]}..{group[-1]}]")
    yield from write_desc(k, page, FLAGS, 0, func,
                          f"{func}: page->flags &= ~PAGE_FLAGS_CHECK_AT_PREP [pfn {page}]")


def free_frozen_pages(k: KernelHandle, page: int, order: int,
                      func: str = "free_frozen_pages") -> Gen:
    """Free a block whose refcount has dropped to 0."""
    yield from free_pages_prepare(k, page, order)
    yield from free_one_page(k, page, order, func)


def __free_pages(k: KernelHandle, page: int, order: int) -> Gen:
    """__free_pages(): if (put_page_testzero(page)) free the block."""
    if (yield from sp.page_ref_dec_and_test(k, page, "__free_pages")):
        yield from free_frozen_pages(k, page, order, "__free_pages")


# __free_pages cannot be named from inside a class body (name mangling): an alias.
free_pages = __free_pages
