"""memory_failure() on a pfn of a hugetlb folio, and the raw_hwp list of the folio.

Models mm/memory-failure.c and get_huge_page_for_hwpoison() of mm/hugetlb.c as of v6.6
(the function names of v6.6-v6.18; "mm/memory-failure: fix missing ->mf_stats count in
hugetlb poison" renames folio_set_hugetlb_hwpoison() to hugetlb_update_hwpoison() and
names the return codes, without changing the accesses modelled here), each shared-memory
access one step in the kernel's order:

- memory_failure(pfn, 0): try_memory_failure_hugetlb() first; if the page is not part of
  a hugetlb folio, TestSetPageHWPoison(p) - an atomic read-modify-write of the raw page's
  own flags, through its vmemmap page. On a tail whose vmemmap HVO remapped read-only that
  store faults on every architecture (x86 LOCK BTS, arm64 LDSET, LL/SC loops all write):
  32c877191e02 "a write error will occur when trying to set the flag".
- try_memory_failure_hugetlb(): get_huge_page_for_hwpoison(); -EBUSY is retried once
  with MF_NO_RETRY; 2 means "not a hugetlb folio" and falls back to the code above.
- get_huge_page_for_hwpoison(): spin_lock_irq(&hugetlb_lock) around
  __get_huge_page_for_hwpoison(): page_folio(page) (compound_head(), fake heads
  included); folio_test_hugetlb (the head's page_type, v6.9+; earlier kernels kept the
  same fact in page[1], also in the read-write vmemmap page 0); the freed / migratable
  flags (folio_try_get() when migratable); then folio_set_hugetlb_hwpoison().
- folio_set_hugetlb_hwpoison(): folio_test_set_hwpoison(folio) on the HEAD only, and the
  raw page on the folio's raw_hwp list (llist_add): no tail struct page is written.
- folio_clear_hugetlb_hwpoison() (called by the free path, hugetlb/flag_order.py): unless
  the vmemmap is still optimized, clear the head's PG_hwpoison and move it to each raw
  page on the list (llist_del_all, SetPageHWPoison(raw page)).

`RawHwpNotLeaked` is the instrument for 5596d9e8b553's race: a folio whose blocks reach
the buddy allocator with raw pages still on its raw_hwp list has lost them ("raw error
pages won't have hwpoisoned flag set and hit pcplists/buddy").

State: the raw_hwp list at `("hugetlb", folio, "raw_hwp")` (a tuple of pfns; the kernel
keeps its head in folio->_hugetlb_hwpoison, in page[2], inside the read-write vmemmap page
0), the HPG migratable flag at `("hugetlb", folio, "migratable")`, hugetlb_lock as the
spinlock "hugetlb_lock" (spinlock.py). Leaves out: mf_mutex and pfn_to_online_page()
(one caller, online memory), MF_COUNT_INCREASED / MF_ACTION_REQUIRED, the
raw_hwp_unreliable flag (kmalloc never fails), everything after the flag is set (folio
lock, hwpoison_filter, unmapping, killing, get_hwpoison_page(), take_page_off_buddy()),
num_poisoned_pages accounting.
"""

from __future__ import annotations

from dataclasses import dataclass

from pagerace.engine.instrument import Instrument, StepContext
from pagerace.engine.ops import Atomic, Load, Store
from pagerace.engine.view import StepView
from pagerace.engine.violation import Violation
from pagerace.kernel import folio_put as fp
from pagerace.kernel import page_ref_add_unless as pra
from pagerace.kernel import struct_page as sp
from pagerace.kernel.descriptor import read_desc, update_desc
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.hugetlb.hugetlb import pool_loc
from pagerace.kernel.hugetlb.hvo import optimized_loc
from pagerace.kernel.spinlock import spin_lock_irq, spin_unlock_irq
from pagerace.kernel.step import Gen
from pagerace.kernel.vmemmap import FLAGS

HUGETLB_LOCK = "hugetlb_lock"
EHWPOISON = -133
EBUSY = -16
NOT_HUGETLB = 2  # __get_huge_page_for_hwpoison(): "fallback to normal page handling"
MF_NO_RETRY = 1 << 4


def raw_hwp_loc(folio: int) -> tuple[str, int, str]:
    return ("hugetlb", folio, "raw_hwp")


def migratable_loc(folio: int) -> tuple[str, int, str]:
    return ("hugetlb", folio, "migratable")


def _set_hwpoison(k: KernelHandle, page: int, func: str) -> Gen:
    """test_and_set_bit(PG_hwpoison, &page->flags): returns whether it was set."""
    old, _ = yield from update_desc(k, page, FLAGS, lambda f: f | sp.PG_HWPOISON, func,
                                    f"{func}: test_and_set_bit(PG_hwpoison) [pfn {page}]")
    return bool(old & sp.PG_HWPOISON)


def folio_test_hwpoison(k: KernelHandle, folio: int, func: str) -> Gen:
    flags = yield from read_desc(k, folio, FLAGS, func,
                                 f"{func}: folio_test_hwpoison [pfn {folio}]")
    return bool(flags & sp.PG_HWPOISON)


def folio_set_hugetlb_hwpoison(k: KernelHandle, folio: int, page: int) -> Gen:
    """folio_set_hugetlb_hwpoison(): PG_hwpoison on the head, `page` on the raw_hwp list;
    -EHWPOISON if `page` was already on it."""
    func = "folio_set_hugetlb_hwpoison"
    ret = EHWPOISON if (yield from _set_hwpoison(k, folio, "folio_test_set_hwpoison")) else 0
    raw = yield Load(raw_hwp_loc(folio), f"{func}: llist_for_each_entry(raw_hwp list)",
                     default=())
    if page in raw:
        return EHWPOISON

    def llist_add(view: StepView, outcome: int) -> None:
        view.store(raw_hwp_loc(folio), (page, *view.load(raw_hwp_loc(folio), ())))

    yield Atomic(llist_add, f"{func}: kmalloc(raw_hwp); llist_add(pfn {page})")
    return ret


def __get_huge_page_for_hwpoison(k: KernelHandle, pfn: int, flags: int) -> Gen:
    """Called with hugetlb_lock held: 0 free, 1 in use (reference taken), 2 not hugetlb,
    -EBUSY, -EHWPOISON."""
    func = "__get_huge_page_for_hwpoison"
    folio = yield from sp.compound_head(k, pfn)  # page_folio(page)
    if (yield from sp.page_type(k, folio, func)) != sp.PGTY_HUGETLB:
        return NOT_HUGETLB
    count_increased = False
    if (yield Load(pool_loc(folio), f"{func}: folio_test_hugetlb_freed",
                   default=None)) == "free":
        ret = 0
    elif (yield Load(migratable_loc(folio), f"{func}: folio_test_hugetlb_migratable",
                     default=False)):
        ret = 1 if (yield from pra.page_ref_add_unless(k, folio, 1, 0)) else 0
        count_increased = bool(ret)
    else:
        ret = EBUSY
        if not flags & MF_NO_RETRY:
            return ret
    if (yield from folio_set_hugetlb_hwpoison(k, folio, pfn)):
        ret = EHWPOISON
    elif count_increased:
        if (yield Load(migratable_loc(folio), f"{func}: folio_test_hugetlb_migratable",
                       default=False)):
            yield Store(migratable_loc(folio), False,
                        f"{func}: folio_clear_hugetlb_migratable")
        return ret
    if count_increased:
        yield from fp.folio_put(k, folio)
    return ret


def get_huge_page_for_hwpoison(k: KernelHandle, pfn: int, flags: int) -> Gen:
    yield from spin_lock_irq(k, HUGETLB_LOCK)
    ret = yield from __get_huge_page_for_hwpoison(k, pfn, flags)
    yield from spin_unlock_irq(k, HUGETLB_LOCK)
    return ret


def try_memory_failure_hugetlb(k: KernelHandle, pfn: int, flags: int) -> Gen:
    """Returns (res, hugetlb): hugetlb False sends memory_failure() to the page path."""
    while True:
        res = yield from get_huge_page_for_hwpoison(k, pfn, flags)
        if res == NOT_HUGETLB:
            return 0, False
        if res == EBUSY and not flags & MF_NO_RETRY:
            flags |= MF_NO_RETRY
            continue
        return res, True


def memory_failure(k: KernelHandle, pfn: int) -> Gen:
    """memory_failure(pfn, 0) up to the point where the page's poison is recorded."""
    res, hugetlb = yield from try_memory_failure_hugetlb(k, pfn, 0)
    if hugetlb:
        return res
    if (yield from _set_hwpoison(k, pfn, "TestSetPageHWPoison")):
        return EHWPOISON
    return 0


def folio_clear_hugetlb_hwpoison(k: KernelHandle, folio: int) -> Gen:
    """folio_clear_hugetlb_hwpoison(): move PG_hwpoison from the head to the raw pages."""
    func = "folio_clear_hugetlb_hwpoison"
    if (yield Load(optimized_loc(folio), f"{func}: folio_test_hugetlb_vmemmap_optimized",
                   default=False)):
        return
    yield from update_desc(k, folio, FLAGS, lambda f: f & ~sp.PG_HWPOISON,
                           "folio_clear_hwpoison",
                           f"folio_clear_hwpoison: clear_bit(PG_hwpoison) [pfn {folio}]")
    # folio_free_raw_hwp(folio, true)
    if (yield Load(optimized_loc(folio), "folio_free_raw_hwp: "
                   "folio_test_hugetlb_vmemmap_optimized", default=False)):
        return

    def llist_del_all(view: StepView, outcome: int) -> tuple[int, ...]:
        raw = tuple(view.load(raw_hwp_loc(folio), ()))
        view.store(raw_hwp_loc(folio), ())
        return raw

    raw = yield Atomic(llist_del_all, "__folio_free_raw_hwp: llist_del_all(raw_hwp list)")
    for page in raw:
        yield from _set_hwpoison(k, page, "SetPageHWPoison")


@dataclass(frozen=True)
class RawHwpNotLeaked(Instrument):
    """No block of `folio` is given back to the buddy allocator while a raw page is
    still on the folio's raw_hwp list (kind "hwpoison-lost")."""

    name: str = "raw-hwp-not-leaked"
    folio: int = 0

    def after_step(self, ctx: StepContext) -> None:
        for note in ctx.event.notes:
            if note.get("access") != "free" or "order" not in note:
                continue
            lo = int(note["pfn"])
            if not lo <= self.folio < lo + (1 << int(note["order"])):
                continue
            raw = tuple(ctx.state.get(raw_hwp_loc(self.folio), ()))
            if raw:
                raise Violation("hwpoison-lost", f"{note.get('func')}: pfns {lo}.."
                                f"{lo + (1 << int(note['order'])) - 1} go back to the buddy "
                                f"allocator with pfn(s) {list(raw)} still on folio "
                                f"{self.folio}'s raw_hwp list: never marked PG_hwpoison")
