"""page_ref_add_unless() of include/linux/page_ref.h, one function per kernel version.

The speculative get (get_page_unless_zero(), folio_try_get()) of each generation; the
generation entries in generations.py name which one they use:

- v5.18 .. v6.9 and v7.1 ("mm: Drop fake head checks"): `atomic_add_unless(&page->_refcount,
  nr, u)`.
- v6.10 (bd225530a4c7 "mm/hugetlb_vmemmap: fix race with speculative PFN walkers"):
      rcu_read_lock();
      if (!page_is_fake_head(page) && page_ref_count(page) != u)
              ret = atomic_add_unless(&page->_refcount, nr, u);
      rcu_read_unlock();
- v6.10 plus "mm: remove an avoidable load of page refcount in page_ref_add_unless"
  (Mateusz Guzik, Dec 2024, mm tree): `if (!page_is_fake_head(page)) ret = ...`.
- v6.15 ("mm/hugetlb_vmemmap: fix memory loads ordering"):
      rcu_read_lock();
      if (page_count_writable(page, u))   /* refcount (acquire), then fake head */
              ret = atomic_add_unless(&page->_refcount, nr, u);
      rcu_read_unlock();

- the pending "mm: improve folio refcount scalability" series (G3-frozen-bit; postings
  cited in page_ref.py): get_page_unless_zero() / folio_try_get() become
  page_ref_add_unless_zero(), an unconditional atomic_add_return() whose result's
  PAGEREF_FROZEN_BIT decides; an add "unless u" with u != 0 stays atomic_add_unless().
- G2-noacquire (constructed, never shipped): v6.15's order - the refcount, then the
  fake-head check - with a plain atomic_read() instead of atomic_read_acquire(): the
  variant Will Deacon's objection to v6.10 (<20241128142028.GA3506@willie-the-truck>)
  and the v6.15 fix's acquire ("page_is_fake_head() must be ordered after
  page_ref_count()", <20250108074822.722696-1-yuzhao@google.com>) are about.

Leaves out: the page_ref tracepoints (page_ref_mod_unless).
"""

from __future__ import annotations

from pagerace.kernel import rcu
from pagerace.kernel import struct_page as sp
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.page_ref import page_ref_add_unless_zero_frozen_bit
from pagerace.kernel.step import Gen


def page_ref_add_unless_plain(k: KernelHandle, page: int, nr: int, u: int) -> Gen:
    """v5.18..v6.9 and v7.1: atomic_add_unless(&page->_refcount, nr, u)."""
    return (yield from sp.atomic_add_unless(k, page, nr, u))


def page_ref_add_unless_v6_10(k: KernelHandle, page: int, nr: int, u: int) -> Gen:
    ret = False
    yield from rcu.rcu_read_lock(k)
    # avoid writing to the vmemmap area being remapped
    if not (yield from sp.page_is_fake_head(k, page)) and \
            (yield from sp.page_ref_count(k, page, "page_ref_add_unless")) != u:
        ret = yield from sp.atomic_add_unless(k, page, nr, u)
    yield from rcu.rcu_read_unlock(k)
    return ret


def page_ref_add_unless_no_refcount_load(k: KernelHandle, page: int, nr: int,
                                         u: int) -> Gen:
    """v6.10 + "mm: remove an avoidable load of page refcount in page_ref_add_unless"."""
    ret = False
    yield from rcu.rcu_read_lock(k)
    if not (yield from sp.page_is_fake_head(k, page)):
        ret = yield from sp.atomic_add_unless(k, page, nr, u)
    yield from rcu.rcu_read_unlock(k)
    return ret


def page_ref_add_unless_v6_15(k: KernelHandle, page: int, nr: int, u: int) -> Gen:
    ret = False
    yield from rcu.rcu_read_lock(k)
    # avoid writing to the vmemmap area being remapped
    if (yield from sp.page_count_writable(k, page, u)):
        ret = yield from sp.atomic_add_unless(k, page, nr, u)
    yield from rcu.rcu_read_unlock(k)
    return ret


def page_ref_add_unless_frozen_bit(k: KernelHandle, page: int, nr: int, u: int) -> Gen:
    """The frozen-bit series: page_ref_add_unless_zero() for u == 0 (every speculative get
    of the model), atomic_add_unless() otherwise."""
    if u == 0:
        return (yield from page_ref_add_unless_zero_frozen_bit(k, page, nr))
    return (yield from sp.atomic_add_unless(k, page, nr, u))


def page_ref_add_unless_v6_15_noacquire(k: KernelHandle, page: int, nr: int,
                                        u: int) -> Gen:
    """G2-noacquire: page_count_writable() with atomic_read() (constructed variant)."""
    ret = False
    yield from rcu.rcu_read_lock(k)
    c = yield from sp.page_ref_count(k, page, "page_count_writable")
    if c != u and (yield from sp.page_fixed_fake_head(k, page)) == page:
        ret = yield from sp.atomic_add_unless(k, page, nr, u)
    yield from rcu.rcu_read_unlock(k)
    return ret


def page_ref_add_unless(k: KernelHandle, page: int, nr: int, u: int) -> Gen:
    """The generation's page_ref_add_unless()."""
    return (yield from k.gen.page_ref_add_unless(k, page, nr, u))


def get_page_unless_zero(k: KernelHandle, page: int) -> Gen:
    """get_page_unless_zero(page) = page_ref_add_unless(page, 1, 0)."""
    return (yield from k.gen.page_ref_add_unless(k, page, 1, 0))
