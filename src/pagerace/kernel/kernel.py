"""The Kernel facade: one method per modelled kernel function, boot state, observation.

A `Kernel` is a kernel handle (handle.py: a `KernelConfig` plus the CPU it runs on) with a
method for each modelled function a scenario calls. All mutable kernel state lives in the
engine state; every method that touches shared memory is a generator to be called with
`yield from`, so a scenario reads like kernel code:

    k = Kernel(KernelConfig(gen="G1", arch="x86"))
    def cpu2_pfn_walker(k=k.on_cpu(1)):
        if (yield from k.get_page_unless_zero(page1)):
            yield from k.put_page(page1)

Pages are pfns, folios are head pfns. The generation, architecture and geometry are
parameters of `k`, never branches in a scenario. This is the top floor of the kernel
layer: the modelled functions below take a handle and never call back up through here.

Leaves out: everything listed in the module headers of vmemmap.py, descriptor.py,
struct_page.py, rcu.py, buddy.py, hugetlb/ and hotplug/; NUMA (one node, nid 0).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pagerace.engine.execution import apply_op
from pagerace.engine.instrument import Instrument
from pagerace.engine.ops import Await, Op
from pagerace.engine.view import StepView
from pagerace.kernel import buddy, folio_put, irq, rcu
from pagerace.kernel import generations as _generations  # noqa: F401 - registers the entries
from pagerace.kernel import page_ref_add_unless as pra
from pagerace.kernel import struct_page as sp
from pagerace.kernel.config import KernelConfig
from pagerace.kernel.descriptor import read_desc, update_desc, write_desc
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.hugetlb import hugetlb, hvo
from pagerace.kernel.invariants import kernel_instruments
from pagerace.kernel.observe import observe
from pagerace.kernel.step import Gen
from pagerace.kernel.vmemmap import FLAGS, REFCOUNT, field_loc

__all__ = ["Kernel", "KernelConfig"]


@dataclass(frozen=True)
class Kernel(KernelHandle):
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
        yield from folio_put.put_page(self, page)

    def folio_put(self, folio: int) -> Gen:
        yield from folio_put.folio_put(self, folio)

    def read_field(self, page: int, name: str, func: str = "READ_ONCE") -> Gen:
        return (yield from read_desc(self, page, name, func))

    def write_field(self, page: int, name: str, value: Any, func: str = "WRITE_ONCE") -> Gen:
        yield from write_desc(self, page, name, value, func)

    def SetPageOffline(self, page: int) -> Gen:  # noqa: N802 - the kernel's name
        yield from sp.SetPageOffline(self, page)

    def ClearPageOffline(self, page: int) -> Gen:  # noqa: N802 - the kernel's name
        yield from sp.ClearPageOffline(self, page)

    def PageOffline(self, page: int) -> Gen:  # noqa: N802 - the kernel's name
        return (yield from sp.PageOffline(self, page))

    # -- speculative references (page_ref_add_unless.py, per generation) ---------------------
    def page_ref_add_unless(self, page: int, nr: int, u: int) -> Gen:
        return (yield from pra.page_ref_add_unless(self, page, nr, u))

    def get_page_unless_zero(self, page: int) -> Gen:
        """get_page_unless_zero(page) = page_ref_add_unless(page, 1, 0)."""
        return (yield from pra.get_page_unless_zero(self, page))

    def folio_try_get(self, folio: int) -> Gen:
        return (yield from pra.page_ref_add_unless(self, folio, 1, 0))

    def folio_get_nontail_page(self, page: int) -> Gen:
        """compaction's folio_get_nontail_page(): get_page_unless_zero, then page_folio."""
        if not (yield from pra.page_ref_add_unless(self, page, 1, 0)):
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

    # -- hugetlb (hugetlb/hugetlb.py) and HVO (hugetlb/hvo.py, per generation) ---------------
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
        return observe(self, state, tuple(self.config.watch) + tuple(pages))

    def observer(self, pages: Iterable[int] = ()) -> Callable[[Mapping[Hashable, Any]],
                                                               dict[str, Any]]:
        watch = tuple(pages)
        return lambda state: self.observe(state, watch)

    def instruments(self) -> tuple[Instrument, ...]:
        """The generic end-of-execution invariants (invariants.py) for this kernel."""
        return kernel_instruments(self)

    # -- convenience for RMW on arbitrary fields (virtio-mem, offlining) ---------------------
    def update_field(self, page: int, name: str, update: Callable[[Any], Any],
                     func: str) -> Gen:
        return (yield from update_desc(self, page, name, update, func, f"{func} [pfn {page}]"))
