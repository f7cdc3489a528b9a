"""The generations of the HVO vs speculative-reference protocol, and their
page_ref_add_unless().

Each generation is a selectable variant of the kernel (kernel-background.md section 6); the
speculative side is written here from the kernel's include/linux/page_ref.h of that
version, the HVO side in hvo.py from mm/hugetlb_vmemmap.c:

- G0 (v5.18 e7d324850bfc .. v6.9): page_ref_add_unless() is a plain atomic_add_unless().
- rw-tails (proposal of June 2024, not merged): G0 with the remapped tail vmemmap pages
  mapped read-write.
- G1 (v6.10, bd225530a4c7 "mm/hugetlb_vmemmap: fix race with speculative PFN walkers"):
      rcu_read_lock();
      if (!page_is_fake_head(page) && page_ref_count(page) != u)
              ret = atomic_add_unless(&page->_refcount, nr, u);
      rcu_read_unlock();
- G1b (v6.10 plus "mm: remove an avoidable load of page refcount in
  page_ref_add_unless", Mateusz Guzik, Dec 2024, taken into the mm tree; mainline status
  not verified here): `if (!page_is_fake_head(page)) ret = atomic_add_unless(...)`, HVO as
  v6.12+ (c2a967f6ab0e: one synchronize_rcu() per batch, after the WARN).
- G2 (v6.15, "mm/hugetlb_vmemmap: fix memory loads ordering"):
      rcu_read_lock();
      if (page_count_writable(page, u))   /* refcount (acquire), then fake head */
              ret = atomic_add_unless(&page->_refcount, nr, u);
      rcu_read_unlock();
- G3 (v7.1, Kiryl Shutsemau, "mm: Eliminate fake head pages from vmemmap optimization"):
  compound_info mask encoding, one shared read-only tail frame per node and order, no fake
  heads; "mm: Drop fake head checks" makes page_ref_add_unless() a plain
  atomic_add_unless() again, "hugetlb: Remove VMEMMAP_SYNCHRONIZE_RCU" drops every
  synchronize_rcu(); hugetlb allocates and frees its folios frozen
  (`hugetlb_frozen_alloc`, see hugetlb.py).

Leaves out: the page_ref tracepoints, the hugetlb_optimize_vmemmap_key static branch
(assumed on), G0a (v5.14, pages 2..7 onto page 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pagerace.kernel import rcu
from pagerace.kernel import struct_page as sp
from pagerace.kernel.vmemmap import Gen

if TYPE_CHECKING:
    from pagerace.kernel.kernel import Kernel


@dataclass(frozen=True)
class Generation:
    name: str
    kernel: str
    commit: str
    summary: str
    get_variant: str  # which page_ref_add_unless(): "plain" | "v6.10" | "v6.14" | "v6.15"
    hvo_variant: str  # which HVO / de-HVO: "v6.2" | "v6.10" | "v6.12" | "v7.1"
    fake_heads: bool = True
    mask_encoding: bool = False
    tails_rw: bool = False
    # v7.1: hugetlb allocates folios frozen (alloc_buddy_frozen_folio ->
    # __alloc_frozen_pages) and frees them frozen (free_frozen_pages)
    hugetlb_frozen_alloc: bool = False

    @property
    def shared_tail(self) -> bool:
        return self.hvo_variant == "v7.1"

    @property
    def warn_unless_frozen(self) -> bool:
        return self.hvo_variant != "v6.2"

    @property
    def unfreeze_after_restore(self) -> bool:
        """bd225530a4c7 moved folio_ref_unfreeze() on the free path after de-HVO."""
        return self.hvo_variant != "v6.2"


GENERATIONS: dict[str, Generation] = {
    g.name: g
    for g in (
        Generation("G0", "v5.18-v6.9", "e7d324850bfc",
                   "fake heads; plain atomic_add_unless; no RCU", "plain", "v6.2"),
        Generation("rw-tails", "June 2024 proposal (not merged)", "-",
                   "G0 with read-write tail vmemmap pages", "plain", "v6.2", tails_rw=True),
        Generation("G1", "v6.10", "bd225530a4c7",
                   "RCU: !page_is_fake_head && page_ref_count != u, then "
                   "atomic_add_unless; synchronize_rcu before (de-)HVO", "v6.10", "v6.10"),
        Generation("G1b", "v6.10 + mm tree Dec 2024", "-",
                   "RCU: !page_is_fake_head, then atomic_add_unless (no refcount load)",
                   "v6.14", "v6.12"),
        Generation("G2", "v6.15", "fix memory loads ordering",
                   "RCU: page_count_writable (refcount acquire, then fake head)",
                   "v6.15", "v6.12"),
        Generation("G3", "v7.1", "Eliminate fake head pages",
                   "compound_info mask; shared ro tail frame; no fake heads; no RCU",
                   "plain", "v7.1", fake_heads=False, mask_encoding=True,
                   hugetlb_frozen_alloc=True),
    )
}

GENERATION_NAMES: tuple[str, ...] = tuple(GENERATIONS)


def get_generation(name: str) -> Generation:
    try:
        return GENERATIONS[name]
    except KeyError:
        raise ValueError(f"unknown generation {name!r} "
                         f"(known: {', '.join(GENERATION_NAMES)})") from None


# -- page_ref_add_unless(), per version ------------------------------------------------------

def page_ref_add_unless_plain(k: Kernel, page: int, nr: int, u: int) -> Gen:
    """v5.18..v6.9 and v7.1: atomic_add_unless(&page->_refcount, nr, u)."""
    return (yield from sp.atomic_add_unless(k, page, nr, u))


def page_ref_add_unless_v6_10(k: Kernel, page: int, nr: int, u: int) -> Gen:
    ret = False
    yield from rcu.rcu_read_lock(k)
    # avoid writing to the vmemmap area being remapped
    if not (yield from sp.page_is_fake_head(k, page)) and \
            (yield from sp.page_ref_count(k, page, "page_ref_add_unless")) != u:
        ret = yield from sp.atomic_add_unless(k, page, nr, u)
    yield from rcu.rcu_read_unlock(k)
    return ret


def page_ref_add_unless_v6_14(k: Kernel, page: int, nr: int, u: int) -> Gen:
    ret = False
    yield from rcu.rcu_read_lock(k)
    if not (yield from sp.page_is_fake_head(k, page)):
        ret = yield from sp.atomic_add_unless(k, page, nr, u)
    yield from rcu.rcu_read_unlock(k)
    return ret


def page_ref_add_unless_v6_15(k: Kernel, page: int, nr: int, u: int) -> Gen:
    ret = False
    yield from rcu.rcu_read_lock(k)
    # avoid writing to the vmemmap area being remapped
    if (yield from sp.page_count_writable(k, page, u)):
        ret = yield from sp.atomic_add_unless(k, page, nr, u)
    yield from rcu.rcu_read_unlock(k)
    return ret


PAGE_REF_ADD_UNLESS = {
    "plain": page_ref_add_unless_plain,
    "v6.10": page_ref_add_unless_v6_10,
    "v6.14": page_ref_add_unless_v6_14,
    "v6.15": page_ref_add_unless_v6_15,
}


def page_ref_add_unless(k: Kernel, page: int, nr: int, u: int) -> Gen:
    return (yield from PAGE_REF_ADD_UNLESS[k.gen.get_variant](k, page, nr, u))
