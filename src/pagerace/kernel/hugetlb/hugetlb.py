"""The hugetlb folio life cycle since v6.1 (2b21624fc232: frozen hugetlb folios).

Models mm/hugetlb.c around HVO:
- alloc_hugetlb_folio() = alloc_buddy_hugetlb_folio() + init_new_hugetlb_folio(): a
  compound block from the buddy allocator (head refcount 1, PG_head, tails'
  compound_head), then "Freeze head page": page_ref_freeze(head, 1) to 0 (if a speculative
  reference raised the count, __free_pages() drops ours and the allocation fails; the
  kernel's single retry is left out), then __folio_set_hugetlb (page_type).
  v7.1 (`Generation.hugetlb_frozen_alloc`, G3): alloc_buddy_frozen_folio() ->
  __alloc_frozen_pages(): the block comes frozen (the head's refcount never becomes 1),
  so there is no page_ref_freeze() step and nothing for a walker to race with.
- enqueue_hugetlb_folio(): VM_BUG_ON_FOLIO(folio_ref_count(folio)) and into the free pool.
- dequeue_hugetlb_folio() (dequeue_hugetlb_folio_node_exact): list_move, then
  folio_ref_unfreeze(folio, 1) (a release store): the folio goes to a user.
- free_huge_folio() (from __folio_put() when the user's last reference goes): back into the
  pool (refcount stays 0), or - with `KernelConfig.hugetlb_free_to_buddy` (surplus pages) -
  remove_hugetlb_folio() + update_and_free_hugetlb_folio().
- remove_hugetlb_folio(): until v6.9 it ends with folio_ref_unfreeze(folio, 1), before
  de-HVO; since bd225530a4c7 (G1+) __update_and_free_hugetlb_folio() unfreezes after
  hugetlb_vmemmap_restore_folio().
- __update_and_free_hugetlb_folio(): hugetlb_vmemmap_restore_folio() (de-HVO),
  __folio_clear_hugetlb, [G1+: folio_ref_unfreeze(folio, 1)], __free_pages() back to the
  buddy allocator; v7.1 (frozen) instead ends with VM_BUG_ON_FOLIO(folio_ref_count(folio))
  and free_frozen_pages(): the folio is never unfrozen on the way out.
- dissolve_free_hugetlb_folio(): a free pool folio goes back to the buddy (offlining).

The hugetlb bookkeeping (pool membership, the vmemmap-optimized flag) is kept in
`("hugetlb", folio, ...)` locations, written under the hugetlb_lock by one thread at a time.
Leaves out: hstates other than by order, NUMA nodes, reservations, subpools, cgroups,
demotion, gigantic folios from CMA / memblock, the hugetlb_lock itself (the scenarios give
each folio one owner).
"""

from __future__ import annotations

from pagerace.engine.ops import Atomic, Store
from pagerace.engine.view import StepView
from pagerace.engine.violation import Violation
from pagerace.kernel import buddy
from pagerace.kernel import struct_page as sp
from pagerace.kernel.descriptor import read_desc, write_desc
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.hugetlb import hvo
from pagerace.kernel.memory_model import locked_load
from pagerace.kernel.page_ref import ref_count_value
from pagerace.kernel.step import Gen
from pagerace.kernel.vmemmap import PAGE_TYPE, REFCOUNT


def pool_loc(folio: int) -> tuple[str, int, str]:
    return ("hugetlb", folio, "state")


def alloc_hugetlb_folio(k: KernelHandle, order: int, containing: int | None = None) -> Gen:
    """alloc_fresh_hugetlb_folio() without HVO: returns the frozen folio or None."""
    if k.gen.hugetlb_frozen_alloc:
        # v7.1 alloc_buddy_frozen_folio(): __alloc_frozen_pages(), refcount stays 0
        page = yield from buddy.alloc_frozen_pages(k, order, containing,
                                                   "alloc_buddy_frozen_folio")
        if page is None:
            return None
    else:
        func = "alloc_buddy_hugetlb_folio"
        page = yield from buddy.alloc_pages(k, order, containing, func)
        if page is None:
            return None
        # Freeze head page
        if not (yield from sp.page_ref_freeze(k, page, 1)):
            yield from buddy.__free_pages(k, page, order)
            return None
    yield from write_desc(k, page, PAGE_TYPE, sp.PGTY_HUGETLB, "init_new_hugetlb_folio",
                          f"init_new_hugetlb_folio: __folio_set_hugetlb [pfn {page}]")
    yield Store(pool_loc(page), "new", "init_new_hugetlb_folio: new hugetlb folio")
    return page


def enqueue_hugetlb_folio(k: KernelHandle, folio: int) -> Gen:
    """enqueue_hugetlb_folio(): VM_BUG_ON_FOLIO(folio_ref_count(folio), folio)."""
    func = "enqueue_hugetlb_folio"
    count = ref_count_value(k, (yield from read_desc(
        k, folio, REFCOUNT, func, f"{func}: VM_BUG_ON_FOLIO(folio_ref_count) [pfn {folio}]")))
    if count:
        raise Violation("bug", f"{func}: VM_BUG_ON_FOLIO(folio_ref_count(folio)): folio "
                        f"{folio} has refcount {count}")
    yield Store(pool_loc(folio), "free", f"{func}: list_move to the free list")


def dequeue_hugetlb_folio(k: KernelHandle, folio: int) -> Gen:
    """dequeue_hugetlb_folio_node_exact(): list_move + folio_ref_unfreeze(folio, 1)."""
    yield Store(pool_loc(folio), "active", "dequeue_hugetlb_folio: list_move to active")
    yield from sp.page_ref_unfreeze(k, folio, 1, "dequeue_hugetlb_folio")


def remove_hugetlb_folio(k: KernelHandle, folio: int) -> Gen:
    """remove_hugetlb_folio(): off the hugetlb lists; until v6.9 also unfreezes."""
    yield Store(pool_loc(folio), "removed", "remove_hugetlb_folio: list_del")
    if not k.gen.unfreeze_after_restore:
        yield from sp.page_ref_unfreeze(k, folio, 1, "remove_hugetlb_folio")


def update_and_free_hugetlb_folio(k: KernelHandle, folio: int, order: int) -> Gen:
    """__update_and_free_hugetlb_folio(): de-HVO, then back to the buddy allocator."""
    func = "__update_and_free_hugetlb_folio"
    yield from hvo.hugetlb_vmemmap_restore_folio(k, folio, order)
    yield from write_desc(k, folio, PAGE_TYPE, None, func,
                          f"{func}: __folio_clear_hugetlb [pfn {folio}]")
    yield from free_to_buddy(k, folio, order, func)


def free_to_buddy(k: KernelHandle, folio: int, order: int, func: str) -> Gen:
    """The end of __update_and_free_hugetlb_folio(): v7.1 frees the folio frozen
    (VM_BUG_ON_FOLIO(folio_ref_count(folio)), then free_frozen_pages()); before it, the
    folio is unfrozen (after de-HVO since bd225530a4c7) and __free_pages() drops it."""
    if k.gen.hugetlb_frozen_alloc:
        count = ref_count_value(k, (yield from read_desc(
            k, folio, REFCOUNT, func, f"{func}: VM_BUG_ON_FOLIO(folio_ref_count) "
                                      f"[pfn {folio}]")))  # frozen reads 0 (frozen bit)
        if count:
            raise Violation("bug", f"{func}: VM_BUG_ON_FOLIO(folio_ref_count(folio)): "
                            f"folio {folio} has refcount {count}")
        yield from buddy.free_frozen_pages(k, folio, order)
        return
    if k.gen.unfreeze_after_restore:
        yield from sp.page_ref_unfreeze(k, folio, 1, func)
    yield from buddy.__free_pages(k, folio, order)


def free_huge_folio(k: KernelHandle, folio: int) -> Gen:
    """free_huge_folio(): the last user reference is gone (refcount 0)."""
    order = yield from sp.folio_order(k, folio, "free_huge_folio")
    if k.config.hugetlb_free_to_buddy:
        yield from remove_hugetlb_folio(k, folio)
        yield from update_and_free_hugetlb_folio(k, folio, order)
    else:
        yield from enqueue_hugetlb_folio(k, folio)


def dissolve_free_hugetlb_folio(k: KernelHandle, folio: int, order: int) -> Gen:
    """dissolve_free_hugetlb_folio(): a free pool folio goes back to the buddy."""
    def check(view: StepView, outcome: int) -> bool:
        return bool(locked_load(view, pool_loc(folio), None) == "free")
    if not (yield Atomic(check, "dissolve_free_hugetlb_folio: folio_test_hugetlb_freed")):
        return False
    yield from remove_hugetlb_folio(k, folio)
    yield from update_and_free_hugetlb_folio(k, folio, order)
    return True
