"""page_ref: the struct page refcount helpers, on the architecture profile's atomics.

Models include/linux/page_ref.h (page_ref_count, page_ref_freeze / unfreeze, page_ref_inc,
page_ref_dec_and_test) and atomic_add_unless() of include/linux/atomic/atomic-instrumented.h
(`raw_atomic_fetch_add_unless(v, a, u) != u`). Which instruction sequence each atomic is
comes from the profile (arch.py): atomic_add_unless() dispatches on the profile's
atomic_fetch_add_unless entry -

- FALLBACK (x86, arm64 with and without LSE; include/linux/atomic/atomic-arch-fallback.h):
      c = raw_atomic_read(v);
      do { if (unlikely(c == u)) break; } while (!raw_atomic_try_cmpxchg(v, &c, c + a));
      return c;
  a plain read step, then one cmpxchg step per iteration with the arch's cmpxchg;
- LLSC (riscv with and without Zacas, loongarch: their own arch_atomic_fetch_add_unless):
  one step, no separate read; a value equal to u branches out before the sc: no store.

Also here, registered as the generation `G3-frozen-bit` (generations.py): the pending
series "mm: improve folio refcount scalability" (Gladyshev Ilya / Gorbunov Ivan;
v1 2026-02-26, v2 "[PATCH v2 2/2] mm: implement page refcount locking via dedicated bit"
2026-04-20, v5 2026-06-26; not merged). Its page_ref_add_unless_zero() is

      val = atomic_add_return(nr, &page->_refcount);
      ret = !(val & PAGEREF_FROZEN_BIT);

(the v1 diff as quoted in David Hildenbrand's review, 2026-03-04, with the bit later renamed
from PAGEREF_LOCKED_BIT), and a page whose count reaches 0 in page_ref_dec_and_test() is
frozen by `atomic_cmpxchg_relaxed(&page->_refcount, 0, PAGEREF_FROZEN_BIT)` (the bit stays
until the next allocation sets the count to 1: Linus Torvalds' ack, 2026-03-04). A failed
get does not subtract its add; per the commit message "if locked state is detected after
atomic_add(), pageref counter will be reset with CAS loop, eliminating theoretical
possibility of overflow", against `_PAGEREF_LOCKED_LIMIT ((1 << 30) | PAGEREF_LOCKED_BIT)`
(v1). The stored
copies do not show the reset's exact condition; modelled: while the value read is frozen
and above the limit, try_cmpxchg it back to PAGEREF_FROZEN_BIT (never reached with the
small counts of a scenario). The atomic_add_return() always writes, so this get faults on
a read-only page on every architecture, frozen or not.

With the series (`Generation.refcount_frozen_bit`) page_ref_count() / folio_ref_count()
read a frozen count as 0 (v2 1/2 "mm: drop page refcount zero state semantics": "Getter
functions folio_ref_count/page_ref_count must still return 0 for frozen pages").

Leaves out: the page_ref tracepoints; CONFIG_DEBUG_VM checks; the series' conversion of
set_page_count(0) / page_ref_freeze() to the frozen bit (v2 1/2: the stored copies do not
show page_ref_freeze()'s new form; a frozen hugetlb folio of this model comes from
__alloc_frozen_pages() after a frozen free, so it carries the bit already); the rcu_read_lock /
page_count_writable() wrapper the v1 diff kept (a v6.15 base; G3, "mm: Drop fake head
checks", has none).
"""

from __future__ import annotations

from pagerace.kernel.arch import Sequence
from pagerace.kernel.atomics import (
    atomic_rmw_desc,
    cmpxchg_desc,
    fetch_add_unless_llsc_desc,
    try_cmpxchg_desc,
)
from pagerace.kernel.descriptor import read_desc, write_desc
from pagerace.kernel.handle import KernelHandle as Kernel
from pagerace.kernel.step import Gen
from pagerace.kernel.vmemmap import REFCOUNT

PAGEREF_FROZEN_BIT = 1 << 31
PAGEREF_FROZEN_LIMIT = (1 << 30) | PAGEREF_FROZEN_BIT


def page_ref_count(k: Kernel, page: int, func: str = "page_ref_count") -> Gen:
    """atomic_read(&page->_refcount) (a frozen count reads 0 with the frozen bit)."""
    return ref_count_value(k, (yield from read_desc(k, page, REFCOUNT, func,
                                            f"{func}: atomic_read(&page->_refcount) "
                                            f"[pfn {page}]")))


def atomic_read_acquire(k: Kernel, page: int, func: str) -> Gen:
    """atomic_read_acquire(&page->_refcount): an acquire load (smp_load_acquire)."""
    return ref_count_value(k, (yield from read_desc(k, page, REFCOUNT, func,
                                            f"{func}: atomic_read_acquire(&page->_refcount) "
                                            f"[pfn {page}]", order="acquire")))
def ref_count_value(k: Kernel, val: int) -> int:
    """The frozen-bit series' getters: "folio_ref_count/page_ref_count must still return
    0 for frozen pages" ([PATCH v2 1/2] "mm: drop page refcount zero state semantics",
    Gorbunov Ivan, 2026-05-04 reply)."""
    if k.gen.refcount_frozen_bit and val & PAGEREF_FROZEN_BIT:
        return 0
    return val


def page_ref_freeze(k: Kernel, page: int, count: int) -> Gen:
    """page_ref_freeze(): atomic_cmpxchg(&page->_refcount, count, 0) == count."""
    ok, _ = yield from try_cmpxchg_desc(
        k, page, REFCOUNT, count, 0, "page_ref_freeze",
        f"page_ref_freeze: atomic_cmpxchg(&page->_refcount, {count}, 0) [pfn {page}]")
    return ok


def page_ref_unfreeze(k: Kernel, page: int, count: int,
                      func: str = "folio_ref_unfreeze") -> Gen:
    """page_ref_unfreeze() / folio_ref_unfreeze(): atomic_set_release(&_refcount, count)."""
    yield from write_desc(k, page, REFCOUNT, count, func,
                          f"{func}: atomic_set_release(&page->_refcount, {count}) "
                          f"[pfn {page}]", order="release")


def page_ref_inc(k: Kernel, page: int, func: str = "page_ref_inc") -> Gen:
    """atomic_inc(&page->_refcount)."""
    yield from atomic_rmw_desc(k, page, REFCOUNT, lambda c: c + 1, "atomic_inc", func,
                               f"{func}: atomic_inc(&page->_refcount) [pfn {page}]")


def page_ref_dec_and_test(k: Kernel, page: int, func: str = "page_ref_dec_and_test") -> Gen:
    """page_ref_dec_and_test(): the generation's own (`Generation.page_ref_dec_and_test`),
    else atomic_dec_and_test()."""
    own = k.gen.page_ref_dec_and_test
    if own is not None:
        return (yield from own(k, page, func))
    return (yield from page_ref_dec_and_test_plain(k, page, func))


def page_ref_dec_and_test_plain(k: Kernel, page: int,
                                func: str = "page_ref_dec_and_test") -> Gen:
    """atomic_dec_and_test(&page->_refcount): True when the count reaches 0."""
    _, new = yield from atomic_rmw_desc(k, page, REFCOUNT, lambda c: c - 1,
                                        "atomic_dec_and_test", func,
                                        f"{func}: atomic_dec_and_test(&page->_refcount) "
                                        f"[pfn {page}]")
    return new == 0


def atomic_add_return(k: Kernel, page: int, nr: int, func: str) -> Gen:
    """atomic_add_return(nr, &page->_refcount): the new value."""
    _, new = yield from atomic_rmw_desc(k, page, REFCOUNT, lambda c: c + nr,
                                        "atomic_add_return", func,
                                        f"{func}: atomic_add_return({nr}, "
                                        f"&page->_refcount) [pfn {page}]")
    return new


def atomic_add_unless(k: Kernel, page: int, a: int, u: int,
                      func: str = "atomic_add_unless") -> Gen:
    """atomic_add_unless(&page->_refcount, a, u): fetch_add_unless(v, a, u) != u, with the
    profile's sequence for atomic_fetch_add_unless."""
    if k.arch.op("atomic_fetch_add_unless").sequence is Sequence.LLSC:
        prev = yield from fetch_add_unless_llsc_desc(
            k, page, REFCOUNT, a, u, func,
            f"{func}: arch_atomic_fetch_add_unless(&page->_refcount, {a}, {u}) "
            f"[pfn {page}]")
        return prev != u
    c = yield from read_desc(k, page, REFCOUNT, func,
                             f"{func}: c = atomic_read(&page->_refcount) [pfn {page}]")
    while True:
        if c == u:
            return False
        ok, c = yield from try_cmpxchg_desc(
            k, page, REFCOUNT, c, c + a, func,
            f"{func}: atomic_try_cmpxchg(&page->_refcount, {c}, {c + a}) [pfn {page}]")
        if ok:
            return True


# -- the pending frozen-bit series (the generation G3-frozen-bit) ----------------------------

def page_ref_add_unless_zero_frozen_bit(k: Kernel, page: int, nr: int) -> Gen:
    """page_ref_add_unless_zero() of "mm: improve folio refcount scalability": an
    unconditional atomic_add_return(), then the frozen bit decides."""
    func = "page_ref_add_unless_zero"
    val = yield from atomic_add_return(k, page, nr, func)
    ret = not val & PAGEREF_FROZEN_BIT
    if not ret:
        # reset a frozen counter that grew past the limit back to the bare frozen bit
        while val & PAGEREF_FROZEN_BIT and val > PAGEREF_FROZEN_LIMIT:
            ok, val = yield from try_cmpxchg_desc(
                k, page, REFCOUNT, val, PAGEREF_FROZEN_BIT, func,
                f"{func}: atomic_try_cmpxchg_relaxed(&page->_refcount, {val:#x}, "
                f"PAGEREF_FROZEN_BIT) [pfn {page}]", order="relaxed")
            if ok:
                break
    return ret


def page_ref_dec_and_test_frozen_bit(k: Kernel, page: int,
                                     func: str = "page_ref_dec_and_test") -> Gen:
    """The series' page_ref_dec_and_test(): atomic_dec_and_test(), then freeze a zero count
    with atomic_cmpxchg_relaxed(0 -> PAGEREF_FROZEN_BIT); True only for the CPU whose
    cmpxchg froze it."""
    if not (yield from page_ref_dec_and_test_plain(k, page, func)):
        return False
    found = yield from cmpxchg_desc(
        k, page, REFCOUNT, 0, PAGEREF_FROZEN_BIT, func,
        f"{func}: atomic_cmpxchg_relaxed(&page->_refcount, 0, PAGEREF_FROZEN_BIT) "
        f"[pfn {page}]", order="relaxed")
    return found == 0
