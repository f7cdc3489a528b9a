"""The Kernel facade: configuration, the modelled kernel functions, boot state, observation.

A `Kernel` is immutable: a `KernelConfig` (geometry, architecture, generation, options)
plus the CPU it runs on. All mutable kernel state lives in the engine state; every method
that touches shared memory is a generator to be called with `yield from`, so a scenario
reads like kernel code:

    k = Kernel(KernelConfig(gen="G1", arch="x86"))
    def cpu2_pfn_walker(k=k.on_cpu(1)):
        if (yield from k.get_page_unless_zero(page1)):
            yield from k.put_page(page1)

Pages are pfns, folios are head pfns. The generation, architecture and geometry are
parameters of `k`, never branches in a scenario.

Leaves out: everything listed in the module headers of vmemmap.py, struct_page.py, rcu.py,
buddy.py, hugetlb.py and hvo.py; NUMA (one node, nid 0).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from pagerace.engine.execution import apply_op
from pagerace.engine.ops import Await, Op
from pagerace.engine.view import StepView
from pagerace.kernel import buddy, hugetlb, hvo, irq, rcu
from pagerace.kernel import generations as gens
from pagerace.kernel import struct_page as sp
from pagerace.kernel.arch import ArchProfile, get_profile
from pagerace.kernel.geometry import Geometry
from pagerace.kernel.vmemmap import (
    COMPOUND_HEAD,
    COMPOUND_INFO,
    FLAGS,
    PAGE_TYPE,
    REFCOUNT,
    Gen,
    Tracepoint,
    field_loc,
    read_desc,
    tracepoint_hit,
    update_desc,
    write_desc,
)

GHOST_MODES = ("raise", "record")
__all__ = ["Kernel", "KernelConfig", "Tracepoint", "tracepoint_hit"]


@dataclass(frozen=True)
class KernelConfig:
    geometry: Geometry = field(default_factory=Geometry.scaled)
    arch: str = "x86"
    gen: str = "G2"
    rcu_counts_preempt_disabled: bool = False  # consolidated RCU (v4.20)
    ncpus: int = 4  # CPUs synchronize_rcu() looks at
    memory: tuple[tuple[int, int], ...] | None = None  # present pfn ranges
    hugetlb_free_to_buddy: bool = True  # free_huge_folio(): surplus -> buddy, else pool
    hvo_reuse_head_frame: bool = False  # v5.18-v6.1: page 0 keeps its frame (no copy)
    ghost_violations: str = "raise"  # dedup writes / freed-while-mapped: raise or record
    watch: tuple[int, ...] = ()  # pfns whose descriptors observe() reports
    tracepoints: tuple[Tracepoint, ...] = ()  # ghost markers of reached windows
    tlb: str = "current"  # "current": no TLB, always the PTE; "percpu": tlb.py
    tlb_flush: str | None = None  # "ipi" | "broadcast" (tlbflush.py); None: the arch's own

    def __post_init__(self) -> None:
        get_profile(self.arch)
        gens.get_generation(self.gen)
        if self.ghost_violations not in GHOST_MODES:
            raise ValueError(f"ghost_violations must be one of {GHOST_MODES}")
        if self.ncpus < 1:
            raise ValueError("ncpus must be >= 1")
        if self.tlb not in ("current", "percpu"):
            raise ValueError("tlb must be 'current' or 'percpu'")
        if self.tlb_flush not in (None, "ipi", "broadcast"):
            raise ValueError("tlb_flush must be 'ipi' or 'broadcast'")

    @property
    def present(self) -> tuple[tuple[int, int], ...]:
        if self.memory is not None:
            return self.memory
        return ((0, 4 << self.geometry.gigantic_order),)

    def with_(self, **changes: Any) -> KernelConfig:
        return replace(self, **changes)


@dataclass(frozen=True)
class Kernel:
    config: KernelConfig = field(default_factory=KernelConfig)
    cpu: int = 0

    # -- configuration ------------------------------------------------------------------
    def on_cpu(self, cpu: int) -> Kernel:
        if not 0 <= cpu < self.config.ncpus:
            raise ValueError(f"cpu {cpu} out of range (ncpus={self.config.ncpus})")
        return replace(self, cpu=cpu)

    @property
    def geometry(self) -> Geometry:
        return self.config.geometry

    @cached_property
    def arch(self) -> ArchProfile:
        return get_profile(self.config.arch)

    @cached_property
    def gen(self) -> gens.Generation:
        return gens.get_generation(self.config.gen)

    @property
    def compound_field(self) -> str:
        return COMPOUND_INFO if self.gen.mask_encoding else COMPOUND_HEAD

    @cached_property
    def _present_vpages(self) -> tuple[tuple[int, int], ...]:
        per = self.geometry.descs_per_vmemmap_page
        return tuple((lo // per, (hi + per - 1) // per) for lo, hi in self.config.present)

    def vpage_present(self, vpage: int) -> bool:
        return any(lo <= vpage < hi for lo, hi in self._present_vpages)

    @cached_property
    def first_fresh_frame(self) -> int:
        """Frames above every boot frame (boot frame of vmemmap page v is frame v)."""
        return max(hi for _, hi in self._present_vpages)

    def describe(self) -> str:
        g = self.gen
        return (f"{g.name} ({g.kernel}; {g.summary}) on {self.arch.name} "
                f"({self.arch.instruction}); {self.geometry.describe()}")

    # -- struct page (struct_page.py) --------------------------------------------------------
    def page_ref_count(self, page: int) -> Gen:
        return (yield from sp.page_ref_count(self, page))

    def folio_ref_count(self, folio: int) -> Gen:
        return (yield from sp.page_ref_count(self, folio, "folio_ref_count"))

    def page_ref_freeze(self, page: int, count: int) -> Gen:
        return (yield from sp.page_ref_freeze(self, page, count))

    def folio_ref_freeze(self, folio: int, count: int) -> Gen:
        return (yield from sp.page_ref_freeze(self, folio, count))

    def folio_ref_unfreeze(self, folio: int, count: int) -> Gen:
        yield from sp.page_ref_unfreeze(self, folio, count)

    def page_ref_inc(self, page: int) -> Gen:
        yield from sp.page_ref_inc(self, page)

    def page_ref_dec_and_test(self, page: int) -> Gen:
        return (yield from sp.page_ref_dec_and_test(self, page))

    def atomic_add_unless(self, page: int, a: int, u: int) -> Gen:
        return (yield from sp.atomic_add_unless(self, page, a, u))

    def compound_head(self, page: int) -> Gen:
        return (yield from sp.compound_head(self, page))

    def page_folio(self, page: int) -> Gen:
        return (yield from sp.compound_head(self, page))

    def page_fixed_fake_head(self, page: int) -> Gen:
        return (yield from sp.page_fixed_fake_head(self, page))

    def page_is_fake_head(self, page: int) -> Gen:
        return (yield from sp.page_is_fake_head(self, page))

    def PageHead(self, page: int) -> Gen:  # noqa: N802 - the kernel's name
        return (yield from sp.PageHead(self, page))

    def PageTail(self, page: int) -> Gen:  # noqa: N802 - the kernel's name
        return (yield from sp.PageTail(self, page))

    def page_count_writable(self, page: int, u: int = 0) -> Gen:
        return (yield from sp.page_count_writable(self, page, u))

    def put_page(self, page: int) -> Gen:
        yield from sp.put_page(self, page)

    def folio_put(self, folio: int) -> Gen:
        yield from sp.folio_put(self, folio)

    def read_field(self, page: int, name: str, func: str = "READ_ONCE") -> Gen:
        return (yield from read_desc(self, page, name, func))

    def write_field(self, page: int, name: str, value: Any, func: str = "WRITE_ONCE") -> Gen:
        yield from write_desc(self, page, name, value, func)

    def SetPageOffline(self, page: int) -> Gen:  # noqa: N802 - the kernel's name
        yield from write_desc(self, page, PAGE_TYPE, sp.PGTY_OFFLINE, "__SetPageOffline")

    def ClearPageOffline(self, page: int) -> Gen:  # noqa: N802 - the kernel's name
        yield from write_desc(self, page, PAGE_TYPE, None, "__ClearPageOffline")

    def PageOffline(self, page: int) -> Gen:  # noqa: N802 - the kernel's name
        return (yield from read_desc(self, page, PAGE_TYPE, "PageOffline")) \
            == sp.PGTY_OFFLINE

    # -- speculative references (generations.py) ---------------------------------------------
    def page_ref_add_unless(self, page: int, nr: int, u: int) -> Gen:
        return (yield from gens.page_ref_add_unless(self, page, nr, u))

    def get_page_unless_zero(self, page: int) -> Gen:
        """get_page_unless_zero(page) = page_ref_add_unless(page, 1, 0)."""
        return (yield from gens.page_ref_add_unless(self, page, 1, 0))

    def folio_try_get(self, folio: int) -> Gen:
        return (yield from gens.page_ref_add_unless(self, folio, 1, 0))

    def folio_get_nontail_page(self, page: int) -> Gen:
        """compaction's folio_get_nontail_page(): get_page_unless_zero, then page_folio."""
        if not (yield from gens.page_ref_add_unless(self, page, 1, 0)):
            return None
        return (yield from sp.compound_head(self, page))

    # -- RCU (rcu.py) ------------------------------------------------------------------------
    def rcu_read_lock(self) -> Gen:
        yield from rcu.rcu_read_lock(self)

    def rcu_read_unlock(self) -> Gen:
        yield from rcu.rcu_read_unlock(self)

    def synchronize_rcu(self) -> Gen:
        yield from rcu.synchronize_rcu(self)

    def preempt_disable(self) -> Gen:
        yield from rcu.preempt_disable(self)

    def preempt_enable(self) -> Gen:
        yield from rcu.preempt_enable(self)

    def local_irq_disable(self) -> Gen:
        yield from irq.local_irq_disable(self)

    def local_irq_enable(self) -> Gen:
        yield from irq.local_irq_enable(self)

    def spin_lock_irqsave(self, lock: str) -> Gen:
        """spin_lock_irqsave(): interrupts off (the lock itself is not modelled)."""
        yield from irq.local_irq_disable(self, f"spin_lock_irqsave({lock})")

    def spin_unlock_irqrestore(self, lock: str) -> Gen:
        yield from irq.local_irq_enable(self, f"spin_unlock_irqrestore({lock})")

    # -- page allocator (buddy.py) ---------------------------------------------------------
    def alloc_pages(self, order: int = 0, containing: int | None = None) -> Gen:
        return (yield from buddy.alloc_pages(self, order, containing))

    def free_pages(self, page: int, order: int = 0) -> Gen:
        """__free_pages(page, order): drop a reference; the last one frees the block."""
        yield from buddy.free_pages(self, page, order)

    def free_frozen_pages(self, page: int, order: int = 0) -> Gen:
        yield from buddy.free_frozen_pages(self, page, order)

    # -- hugetlb (hugetlb.py) and HVO (hvo.py) -----------------------------------------------
    def _order(self, order: int | None) -> int:
        return self.geometry.hugetlb_order if order is None else order

    def alloc_hugetlb_folio(self, order: int | None = None,
                            containing: int | None = None) -> Gen:
        return (yield from hugetlb.alloc_hugetlb_folio(self, self._order(order), containing))

    def hugetlb_vmemmap_optimize_folio(self, folio: int, order: int | None = None) -> Gen:
        return (yield from hvo.hugetlb_vmemmap_optimize_folio(self, folio, self._order(order)))

    def hugetlb_vmemmap_restore_folio(self, folio: int, order: int | None = None) -> Gen:
        return (yield from hvo.hugetlb_vmemmap_restore_folio(self, folio, self._order(order)))

    def enqueue_hugetlb_folio(self, folio: int) -> Gen:
        yield from hugetlb.enqueue_hugetlb_folio(self, folio)

    def dequeue_hugetlb_folio(self, folio: int) -> Gen:
        yield from hugetlb.dequeue_hugetlb_folio(self, folio)

    def free_huge_folio(self, folio: int) -> Gen:
        yield from hugetlb.free_huge_folio(self, folio)

    def update_and_free_hugetlb_folio(self, folio: int, order: int | None = None) -> Gen:
        yield from hugetlb.update_and_free_hugetlb_folio(self, folio, self._order(order))

    def dissolve_free_hugetlb_folio(self, folio: int, order: int | None = None) -> Gen:
        return (yield from hugetlb.dissolve_free_hugetlb_folio(self, folio,
                                                               self._order(order)))

    # -- boot state, setup, observation ------------------------------------------------------
    def initial_state(self, lru: Mapping[int, int] | Iterable[int] = (),
                      allocated: Iterable[int] = (),
                      free: Iterable[tuple[int, int]] | None = None) -> dict[Hashable, Any]:
        """The state after boot: present memory free in the buddy allocator except `lru`
        pages (PG_lru, refcount as given, default 1) and `allocated` pages (refcount 1);
        every vmemmap page of present memory mapped read-write to its own frame (implicit,
        see vmemmap.py). `free` overrides the free ranges."""
        g = self.geometry
        lru_map = dict(lru) if isinstance(lru, Mapping) else {p: 1 for p in lru}
        taken = set(lru_map) | set(allocated)
        state: dict[Hashable, Any] = {}
        for pfn in sorted(taken):
            frame, slot = g.vpage(pfn), g.slot(pfn)
            if not self.vpage_present(frame):
                raise ValueError(f"pfn {pfn} is not in present memory")
            state[field_loc(frame, slot, REFCOUNT)] = lru_map.get(pfn, 1)
            if pfn in lru_map:
                state[field_loc(frame, slot, FLAGS)] = sp.PG_LRU
        if free is None:
            ranges = buddy.normalize(self.config.present)
            for pfn in taken:
                ranges = buddy.subtract(ranges, pfn, pfn + 1)
        else:
            ranges = buddy.normalize(list(free))
        state[buddy.FREE_LOC] = ranges
        return state

    def run_setup(self, state: dict[Hashable, Any], body: Callable[[], Gen]) -> Any:
        """Run `body` alone to completion on `state` (no interleaving, outcome 0): for
        building initial states such as an HVO'd pool folio. Returns its result."""
        gen = body()
        value: Any = None
        while True:
            try:
                op: Op = gen.send(value)
            except StopIteration as stop:
                return stop.value
            view = StepView(state, commit=True)
            if isinstance(op, Await) and not op.pred(view):
                raise RuntimeError(f"setup blocked at {op.label!r}")
            value = apply_op(op, view, 0)

    def observe(self, state: Mapping[Hashable, Any],
                pages: Iterable[int] = ()) -> dict[str, Any]:
        from pagerace.kernel.observe import observe
        return observe(self, state, tuple(self.config.watch) + tuple(pages))

    def observer(self, pages: Iterable[int] = ()) -> Callable[[Mapping[Hashable, Any]],
                                                               dict[str, Any]]:
        watch = tuple(pages)
        return lambda state: self.observe(state, watch)

    # -- convenience for RMW on arbitrary fields (virtio-mem, offlining) ---------------------
    def update_field(self, page: int, name: str, update: Callable[[Any], Any],
                     func: str) -> Gen:
        return (yield from update_desc(self, page, name, update, func, f"{func} [pfn {page}]"))
