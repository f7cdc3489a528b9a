"""When the hugetlb flag is set and cleared around (de-)HVO, under hugetlb_lock.

While a folio's tail vmemmap is remapped read-only, nothing may treat it as an ordinary
compound page: memory_failure() would SetPageHWPoison() a tail (memory_failure.py). Which
is guaranteed only by the order in which mm/hugetlb.c sets the hugetlb flag before HVO and
clears it after de-HVO. Three orders (`ORDERS`), each the code of its release:

- "pre-v6.5" (v6.1-v6.4): free_huge_folio() -> remove_hugetlb_folio() clears the flag
  under hugetlb_lock, then __update_and_free_hugetlb_folio() runs de-HVO outside it;
  allocation runs HVO before the flag is set.
- "v6.5": 32c877191e02 "hugetlb: do not clear hugetlb dtor until allocating vmemmap":
  remove_hugetlb_folio() clears the flag only if the vmemmap is not optimized;
  __update_and_free_hugetlb_folio() clears it after hugetlb_vmemmap_restore_folio(),
  under hugetlb_lock. The PG_hwpoison move (folio_clear_hugetlb_hwpoison()) comes
  before that. Allocation still optimizes first: d8f5f7e445f0 "hugetlb: set hugetlb page
  flag before optimizing vmemmap" (Aug 2023, v6.6) fixed that side.
- "v6.11": 5596d9e8b553 "mm/hugetlb: fix potential race in
  __update_and_free_hugetlb_folio()" (July 2024, in mainline by v6.11) moves the
  PG_hwpoison move after the flag is cleared; allocation sets the flag before HVO.

The rest of each path is the generation's (generation.py): de-HVO and HVO, where the
folio is unfrozen (remove_hugetlb_folio() until v6.9, after de-HVO since bd225530a4c7),
and v7.1's frozen allocation and free. The flag is the head's page_type (v6.9+) in every
order; older kernels kept it in page[1] (the compound destructor), which is in vmemmap
page 0 too, so who can write it does not change.

Leaves out: the batched paths (update_and_free_pages_bulk(), hugetlb_vmemmap_restore_
folios()), demotion, gigantic folios, vmemmap allocation failure (add_hugetlb_folio()
back to the pool), the raw_hwp_unreliable check, the per-subpage flag clearing loop of
__update_and_free_hugetlb_folio() (it clears none of the bits modelled), accounting.
"""

from __future__ import annotations

from pagerace.engine.ops import Load, Store
from pagerace.kernel import buddy
from pagerace.kernel import memory_failure as mf
from pagerace.kernel import struct_page as sp
from pagerace.kernel.descriptor import write_desc
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.hugetlb import hvo
from pagerace.kernel.hugetlb.hugetlb import enqueue_hugetlb_folio, free_to_buddy, pool_loc
from pagerace.kernel.spinlock import spin_lock_irq, spin_unlock_irq
from pagerace.kernel.step import Gen
from pagerace.kernel.vmemmap import PAGE_TYPE

ORDERS = ("pre-v6.5", "v6.5", "v6.11")
LOCK = mf.HUGETLB_LOCK


def _check(order_name: str) -> None:
    if order_name not in ORDERS:
        raise ValueError(f"unknown order {order_name!r} (known: {', '.join(ORDERS)})")


def folio_clear_hugetlb(k: KernelHandle, folio: int, func: str) -> Gen:
    """__folio_clear_hugetlb() (v6.9+; __clear_hugetlb_destructor() before)."""
    yield from write_desc(k, folio, PAGE_TYPE, None, func,
                          f"{func}: __folio_clear_hugetlb [pfn {folio}]")


def folio_set_hugetlb(k: KernelHandle, folio: int, func: str) -> Gen:
    yield from write_desc(k, folio, PAGE_TYPE, sp.PGTY_HUGETLB, func,
                          f"{func}: __folio_set_hugetlb [pfn {folio}]")


# -- free --------------------------------------------------------------------------------

def remove_hugetlb_folio(k: KernelHandle, folio: int, order_name: str) -> Gen:
    """remove_hugetlb_folio(), hugetlb_lock held."""
    func = "remove_hugetlb_folio"
    yield Store(pool_loc(folio), "removed", f"{func}: list_del")
    if order_name == "pre-v6.5":
        yield from folio_clear_hugetlb(k, folio, func)
    elif not (yield Load(hvo.optimized_loc(folio),
                         f"{func}: folio_test_hugetlb_vmemmap_optimized", default=False)):
        yield from folio_clear_hugetlb(k, folio, func)
    if not k.gen.unfreeze_after_restore:
        yield from sp.page_ref_unfreeze(k, folio, 1, func)


def _move_hwpoison(k: KernelHandle, folio: int, func: str) -> Gen:
    if (yield from mf.folio_test_hwpoison(k, folio, func)):
        yield from mf.folio_clear_hugetlb_hwpoison(k, folio)


def update_and_free_hugetlb_folio(k: KernelHandle, folio: int, order: int,
                                  order_name: str) -> Gen:
    """__update_and_free_hugetlb_folio(): de-HVO, the flag, PG_hwpoison, the buddy."""
    func = "__update_and_free_hugetlb_folio"
    clear_flag = False
    if order_name != "pre-v6.5":
        clear_flag = yield Load(hvo.optimized_loc(folio),
                                f"{func}: clear_flag = folio_test_hugetlb_vmemmap_optimized",
                                default=False)
    yield from hvo.hugetlb_vmemmap_restore_folio(k, folio, order)
    if order_name != "v6.11":
        yield from _move_hwpoison(k, folio, func)
    if clear_flag:
        yield from spin_lock_irq(k, LOCK)
        yield from folio_clear_hugetlb(k, folio, func)
        yield from spin_unlock_irq(k, LOCK)
    if order_name == "v6.11":
        yield from _move_hwpoison(k, folio, func)
    yield from free_to_buddy(k, folio, order, func)


def free_huge_folio(k: KernelHandle, folio: int, order_name: str) -> Gen:
    """free_huge_folio() of a surplus folio: off the lists under hugetlb_lock (the
    migratable flag cleared first), then update_and_free_hugetlb_folio() outside it."""
    _check(order_name)
    order = yield from sp.folio_order(k, folio, "free_huge_folio")
    yield from spin_lock_irq(k, LOCK)
    yield Store(mf.migratable_loc(folio), False,
                "free_huge_folio: folio_clear_hugetlb_migratable")
    yield from remove_hugetlb_folio(k, folio, order_name)
    yield from spin_unlock_irq(k, LOCK)
    yield from update_and_free_hugetlb_folio(k, folio, order, order_name)


def folio_put(k: KernelHandle, folio: int, order_name: str) -> Gen:
    """folio_put() of the last reference to a hugetlb folio: free_huge_folio()."""
    if (yield from sp.page_ref_dec_and_test(k, folio, "folio_put")):
        yield from free_huge_folio(k, folio, order_name)


# -- allocate ----------------------------------------------------------------------------

def alloc_buddy_hugetlb_folio(k: KernelHandle, order: int, containing: int | None) -> Gen:
    """The frozen compound block, as hugetlb.alloc_hugetlb_folio() gets it."""
    if k.gen.hugetlb_frozen_alloc:
        return (yield from buddy.alloc_frozen_pages(k, order, containing,
                                                    "alloc_buddy_frozen_folio"))
    page = yield from buddy.alloc_pages(k, order, containing, "alloc_buddy_hugetlb_folio")
    if page is None:
        return None
    if not (yield from sp.page_ref_freeze(k, page, 1)):  # Freeze head page
        yield from buddy.__free_pages(k, page, order)
        return None
    return page


def alloc_fresh_hugetlb_folio(k: KernelHandle, order: int, containing: int | None,
                              order_name: str) -> Gen:
    """alloc_fresh_hugetlb_folio() + HVO, then into the pool under hugetlb_lock: the flag
    after HVO before d8f5f7e445f0 ("pre-v6.5", "v6.5"), before it since ("v6.11")."""
    _check(order_name)
    func = "init_new_hugetlb_folio"
    folio = yield from alloc_buddy_hugetlb_folio(k, order, containing)
    if folio is None:
        return None
    yield Store(pool_loc(folio), "new", f"{func}: new hugetlb folio")
    if order_name == "v6.11":
        yield from folio_set_hugetlb(k, folio, func)
    yield from hvo.hugetlb_vmemmap_optimize_folio(k, folio, order)
    if order_name != "v6.11":
        yield from folio_set_hugetlb(k, folio, "__prep_new_hugetlb_folio")
    yield from spin_lock_irq(k, LOCK)
    yield from enqueue_hugetlb_folio(k, folio)
    yield from spin_unlock_irq(k, LOCK)
    return folio
