"""The `Generation` vocabulary: one entry per version of the HVO / speculative-get code.

A generation is behaviour, not a name to compare against: its entry carries the functions
that differ between versions (page_ref_add_unless(), hugetlb_vmemmap_optimize_folio(),
hugetlb_vmemmap_restore_folio(), a page_ref_dec_and_test() of its own) and the facts of
the struct page layout and the free path that differ (fake heads, the compound_info mask
encoding, read-write tails, where the free path unfreezes, whether hugetlb allocates and
frees its folios frozen), plus what the memory accounting of `pagerace.memmap` needs
(vmemmap pages each folio keeps, the shared tail frame). Code asks the entry
(`k.gen.page_ref_add_unless`, `k.gen.fake_heads`), never `k.gen.name`.

The entries themselves are written in generations.py (they name functions of the upper
floors); this module only holds the type and the registry, so it imports nothing of the
kernel layer. Adding a generation is one `register(Generation(...))` there. Lookups are
validated once: `get_generation` raises a ValueError naming the known ones.

Leaves out: nothing of the kernel; the entries' sources are cited in generations.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pagerace.kernel.step import Gen

# (k, page, nr, u) -> bool: the speculative get of include/linux/page_ref.h
PageRefAddUnless = Callable[[Any, int, int, int], Gen]
# (k, folio, order) -> bool: HVO / de-HVO of mm/hugetlb_vmemmap.c
FolioVmemmapOp = Callable[[Any, int, int], Gen]
# (k, page, func) -> bool: page_ref_dec_and_test() of include/linux/page_ref.h
PageRefDecAndTest = Callable[[Any, int, str], Gen]


@dataclass(frozen=True)
class Generation:
    name: str
    kernel: str
    commit: str
    summary: str
    page_ref_add_unless: PageRefAddUnless
    hugetlb_vmemmap_optimize_folio: FolioVmemmapOp
    hugetlb_vmemmap_restore_folio: FolioVmemmapOp
    fake_heads: bool = True  # HVO leaves fake heads (G0-G2); page_fixed_fake_head() runs
    mask_encoding: bool = False  # compound_info = mask | 1 (v7.1) instead of head | 1
    tails_rw: bool = False  # remapped tail vmemmap pages are mapped read-write
    unfreeze_after_restore: bool = True  # bd225530a4c7: unfreeze after de-HVO, not before
    kept_vmemmap_pages: int = 1  # vmemmap pages each folio keeps private (accounting)
    shares_tail_frame: bool = False  # tails map one frame per node and order (accounting)
    # v7.1: hugetlb allocates folios frozen (alloc_buddy_frozen_folio ->
    # __alloc_frozen_pages) and frees them frozen (free_frozen_pages)
    hugetlb_frozen_alloc: bool = False
    # PAGEREF_FROZEN_BIT series: page_ref_count() reads a frozen count as 0 (page_ref.py)
    refcount_frozen_bit: bool = False
    # None: atomic_dec_and_test(); otherwise the version's own (page_ref.py)
    page_ref_dec_and_test: PageRefDecAndTest | None = None


_REGISTRY: dict[str, Generation] = {}


def register(gen: Generation) -> Generation:
    """Add `gen` to the vocabulary (once per name)."""
    if gen.name in _REGISTRY:
        raise ValueError(f"generation {gen.name!r} is already registered")
    _REGISTRY[gen.name] = gen
    return gen


def generation_names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def get_generation(name: str) -> Generation:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown generation {name!r} "
                         f"(known: {', '.join(_REGISTRY)})") from None
