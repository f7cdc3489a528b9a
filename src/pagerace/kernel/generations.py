"""The generations of the HVO vs speculative-reference protocol: one entry each.

Each generation is a selectable variant of the kernel (docs/kernel-record.md section 6).
Its entry names the functions that differ - page_ref_add_unless() (page_ref_add_unless.py,
from include/linux/page_ref.h of that version) and HVO / de-HVO (hugetlb/hvo.py and
hugetlb/hvo_v7_1.py, from mm/hugetlb_vmemmap.c) - and the facts that differ:

- G0 (v5.18 e7d324850bfc .. v6.9): plain atomic_add_unless(); HVO without RCU; fake heads;
  remove_hugetlb_folio() unfreezes before de-HVO.
- rw-tails (proposal of June 2024, not merged): G0 with the remapped tail vmemmap pages
  mapped read-write.
- G1 (v6.10, bd225530a4c7 "mm/hugetlb_vmemmap: fix race with speculative PFN walkers"):
  RCU around `!page_is_fake_head(page) && page_ref_count(page) != u`; synchronize_rcu()
  first in the HVO / de-HVO wrappers; unfreeze after de-HVO.
- G1b (v6.10 plus "mm: remove an avoidable load of page refcount in
  page_ref_add_unless", Mateusz Guzik, Dec 2024, taken into the mm tree; mainline status
  not verified here): no refcount load; HVO as v6.12+ (c2a967f6ab0e: one
  synchronize_rcu() per batch, after the WARN).
- G2 (v6.15, "mm/hugetlb_vmemmap: fix memory loads ordering"): page_count_writable()
  (refcount with acquire, then the fake-head check); HVO as v6.12.
- G3 (v7.1, Kiryl Shutsemau, "mm: Eliminate fake head pages from vmemmap optimization"):
  compound_info mask encoding, one shared read-only tail frame per node and order, no fake
  heads; "mm: Drop fake head checks" makes page_ref_add_unless() a plain
  atomic_add_unless() again, "hugetlb: Remove VMEMMAP_SYNCHRONIZE_RCU" drops every
  synchronize_rcu(); hugetlb allocates and frees its folios frozen
  (`hugetlb_frozen_alloc`, see hugetlb.py).
- G3-frozen-bit (pending series "mm: improve folio refcount scalability", Gladyshev Ilya /
  Gorbunov Ivan, v1 2026-02-26, v2 "[PATCH v2 2/2] mm: implement page refcount locking
  via dedicated bit" 2026-04-20, v5 2026-06-26; not merged; page_ref.py): G3's HVO side
  and frozen hugetlb, with the series' page_ref_add_unless_zero() (an unconditional
  atomic_add_return(), then PAGEREF_FROZEN_BIT decides) and its page_ref_dec_and_test()
  (a count reaching 0 is frozen with cmpxchg(0 -> PAGEREF_FROZEN_BIT)); page_ref_count()
  reads a frozen count as 0.

Adding a generation is one `register(Generation(...))` below. Leaves out: the
hugetlb_optimize_vmemmap_key static branch (assumed on), G0a (v5.14, pages 2..7 onto
page 1: only the memory accounting of `pagerace.memmap` knows it).
"""

from __future__ import annotations

from pagerace.kernel.generation import Generation, generation_names, get_generation, register
from pagerace.kernel.hugetlb import hvo
from pagerace.kernel.hugetlb.hvo_v7_1 import optimize_v7_1, restore_v7_1
from pagerace.kernel.page_ref import page_ref_dec_and_test_frozen_bit
from pagerace.kernel.page_ref_add_unless import (
    page_ref_add_unless_frozen_bit,
    page_ref_add_unless_no_refcount_load,
    page_ref_add_unless_plain,
    page_ref_add_unless_v6_10,
    page_ref_add_unless_v6_15,
    page_ref_add_unless_v6_15_noacquire,
)

G0 = register(Generation(
    "G0", "v5.18-v6.9", "e7d324850bfc", "fake heads; plain atomic_add_unless; no RCU",
    page_ref_add_unless_plain, hvo.optimize_v6_2, hvo.restore_v6_2,
    unfreeze_after_restore=False))
RW_TAILS = register(Generation(
    "rw-tails", "June 2024 proposal (not merged)", "-",
    "G0 with read-write tail vmemmap pages",
    page_ref_add_unless_plain, hvo.optimize_v6_2, hvo.restore_v6_2,
    tails_rw=True, unfreeze_after_restore=False))
G1 = register(Generation(
    "G1", "v6.10", "bd225530a4c7",
    "RCU: !page_is_fake_head && page_ref_count != u, then atomic_add_unless; "
    "synchronize_rcu before (de-)HVO",
    page_ref_add_unless_v6_10, hvo.optimize_v6_10, hvo.restore_v6_10))
G1B = register(Generation(
    "G1b", "v6.10 + mm tree Dec 2024", "-",
    "RCU: !page_is_fake_head, then atomic_add_unless (no refcount load)",
    page_ref_add_unless_no_refcount_load, hvo.optimize_v6_12, hvo.restore_v6_12))
G2 = register(Generation(
    "G2", "v6.15", "fix memory loads ordering",
    "RCU: page_count_writable (refcount acquire, then fake head)",
    page_ref_add_unless_v6_15, hvo.optimize_v6_12, hvo.restore_v6_12))
G2_NOACQUIRE = register(Generation(
    "G2-noacquire", "constructed (never shipped)", "-",
    "G2's order with a plain atomic_read of the refcount (no acquire)",
    page_ref_add_unless_v6_15_noacquire, hvo.optimize_v6_12, hvo.restore_v6_12))
G3 = register(Generation(
    "G3", "v7.1", "Eliminate fake head pages",
    "compound_info mask; shared ro tail frame; no fake heads; no RCU",
    page_ref_add_unless_plain, optimize_v7_1, restore_v7_1,
    fake_heads=False, mask_encoding=True, shares_tail_frame=True,
    hugetlb_frozen_alloc=True))
G3_FROZEN_BIT = register(Generation(
    "G3-frozen-bit", "pending series (2026, not merged)", "-",
    "G3 with page_ref_add_unless_zero(): atomic_add_return, then PAGEREF_FROZEN_BIT",
    page_ref_add_unless_frozen_bit, optimize_v7_1, restore_v7_1,
    fake_heads=False, mask_encoding=True, shares_tail_frame=True,
    hugetlb_frozen_alloc=True, refcount_frozen_bit=True,
    page_ref_dec_and_test=page_ref_dec_and_test_frozen_bit))

GENERATION_NAMES: tuple[str, ...] = generation_names()

__all__ = ["GENERATION_NAMES", "Generation", "get_generation"]
