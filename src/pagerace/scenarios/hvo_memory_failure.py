"""hvo-memory-failure: memory_failure() on a tail of a hugetlb folio being (de-)HVO'd.

The story (32c877191e02, d8f5f7e445f0, 5596d9e8b553; kernel/memory_failure.py and
kernel/hugetlb/flag_order.py): memory_failure() must not write a tail struct page of a
hugetlb folio - after HVO the tail's vmemmap is a read-only alias - so for a hugetlb folio
it records the error on the head (PG_hwpoison) and the raw page on the folio's raw_hwp
list, under hugetlb_lock. Only a page that is not (any more) part of a hugetlb folio gets
SetPageHWPoison() on its own descriptor. So the hugetlb flag must stay set for as long as
the tail vmemmap is read-only: cleared only after de-HVO, set before HVO.

    CPU 1 (free: the user's last folio_put)   CPU 2 (memory_failure(page))
    free_huge_folio()                          get_huge_page_for_hwpoison()
      spin_lock_irq(&hugetlb_lock)               spin_lock_irq(&hugetlb_lock)
      remove_hugetlb_folio()                     page_folio(page); folio_test_hugetlb
        [pre-v6.5: __folio_clear_hugetlb]        hugetlb: folio_set_hugetlb_hwpoison
      spin_unlock_irq(&hugetlb_lock)               (head flag + raw_hwp list)
      hugetlb_vmemmap_restore_folio()          spin_unlock_irq(&hugetlb_lock)
      [v6.5: move PG_hwpoison to raw pages]    not hugetlb: TestSetPageHWPoison(page)
      [v6.5+: lock; __folio_clear_hugetlb;
       unlock]
      [v6.11: move PG_hwpoison to raw pages]
      __free_pages() -> buddy

With `cpu1=hvo` CPU 1 instead allocates a fresh hugetlb folio, HVOs it and puts it into
the pool (the flag set after HVO before d8f5f7e445f0, before it since).

Properties: no oops / WARN / BUG (raised by the kernel model in the step that does it);
no block of the folio reaches the buddy allocator with a raw page still on its raw_hwp
list (kind "hwpoison-lost", 5596d9e8b553); hugetlb_lock is free at the end; `sometimes`:
memory_failure()'s page_folio() reads the page's descriptor through a read-only vmemmap
page - it looks at the folio while its tails are remapped.

Parameters: gen, arch, order (matrix axes), cpu1, target, geometry, the TLB model.
"""

from __future__ import annotations

from collections.abc import Mapping

from pagerace.engine.program import Program, ThreadSpec
from pagerace.kernel.hugetlb import flag_order
from pagerace.kernel.kernel import Kernel, KernelConfig
from pagerace.kernel.memory_failure import HUGETLB_LOCK, RawHwpNotLeaked, memory_failure
from pagerace.kernel.memory_failure import migratable_loc as _migratable_loc
from pagerace.kernel.spinlock import SpinlocksReleasedAtEnd
from pagerace.kernel.step import Gen
from pagerace.kernel.tracepoint import Tracepoint
from pagerace.kernel.vmemmap import RO
from pagerace.scenarios.base import Param, Scenario
from pagerace.scenarios.common import (
    HVO_PARAMS,
    TLB_PARAMS,
    geometry_of,
    target_pfn,
    tlb_config,
    tlb_threads,
)

WINDOW = "memory-failure-reads-ro-vmemmap"

_HVO = {p.name: p for p in HVO_PARAMS}
# rw-tails (a walker-race proposal, never merged) maps the tails read-write: the window
# this scenario is about does not exist there
GEN = Param("gen", "G0", tuple(g for g in _HVO["gen"].choices or () if g != "rw-tails"),
            _HVO["gen"].help, matrix=True)
PARAMS = (
    GEN, _HVO["arch"],
    Param("order", "v6.11", flag_order.ORDERS,
          "when the hugetlb flag is cleared / set around (de-)HVO - pre-v6.5: cleared "
          "before de-HVO (v6.1-v6.4); v6.5: after de-HVO, PG_hwpoison moved before the "
          "flag is cleared (32c877191e02); v6.11: moved after it (5596d9e8b553). Allocation "
          "sets the flag after HVO until d8f5f7e445f0 (v6.6), before it in v6.11",
          matrix=True),
    Param("cpu1", "free", ("free", "hvo"),
          "free: CPU 1 drops the last reference to an HVO'd surplus folio (de-HVO, then "
          "the buddy); hvo: CPU 1 allocates a fresh hugetlb folio and HVOs it"),
    Param("target", "unaligned", ("aligned", "unaligned"),
          "the pfn memory_failure() gets - aligned: the first descriptor of the folio's "
          "second vmemmap page (a fake head after G0-G2 HVO); unaligned: the one after it"),
    _HVO["geometry"],
    *(p for p in TLB_PARAMS if p.name != "context"),
)


def build(params: Mapping[str, str]) -> Program:
    geometry = geometry_of(params["geometry"])
    folio = 1 << geometry.hugetlb_order
    page = target_pfn(geometry, folio, params["target"])
    order_name = params["order"]
    k = Kernel(KernelConfig(geometry=geometry, arch=params["arch"], gen=params["gen"],
                            ncpus=2, watch=(folio, page), **tlb_config(params)))
    cpu1, cpu2 = k.on_cpu(0), k.on_cpu(1)
    window = Tracepoint(WINDOW, cpu=1, pfn=page, field=k.compound_field, access="read",
                        perm=RO)
    state = k.initial_state()

    if params["cpu1"] == "free":
        def boot_and_hand_to_user() -> Gen:
            new = yield from cpu1.alloc_hugetlb_folio(containing=folio)
            assert new == folio
            yield from cpu1.hugetlb_vmemmap_optimize_folio(new)
            yield from cpu1.enqueue_hugetlb_folio(new)
            yield from cpu1.dequeue_hugetlb_folio(new)

        k.run_setup(state, boot_and_hand_to_user)
        # the user's fault mapped it: folio_set_hugetlb_migratable()
        state[_migratable_loc(folio)] = True

        def cpu1_body() -> Gen:
            yield from flag_order.folio_put(cpu1, folio, order_name)
        cpu1_name = "CPU 1 (folio_put -> free_huge_folio -> de-HVO)"
    else:
        def cpu1_body() -> Gen:
            new = yield from flag_order.alloc_fresh_hugetlb_folio(
                cpu1, geometry.hugetlb_order, folio, order_name)
            assert new == folio
        cpu1_name = "CPU 1 (alloc_fresh_hugetlb_folio -> HVO)"

    def cpu2_memory_failure() -> Gen:
        yield from memory_failure(cpu2, page)

    return Program(
        threads=[ThreadSpec(cpu1_name, cpu1_body),
                 ThreadSpec(f"CPU 2 (memory_failure(pfn {page}))", cpu2_memory_failure)]
        + tlb_threads(k, params, range(1, 2)),
        initial=state,
        properties=[window.sometimes("memory_failure() reads the page's descriptor through "
                                     "a read-only vmemmap page")],
        observe=k.observer(),
        instruments=(*k.instruments(), window, RawHwpNotLeaked(folio=folio),
                     SpinlocksReleasedAtEnd(locks=(HUGETLB_LOCK,))),
    )


SCENARIO = Scenario(
    name="hvo-memory-failure",
    title="memory_failure() on a tail of a hugetlb folio while it is freed (de-HVO) or HVO'd",
    build_program=build,
    params=PARAMS,
    story=__doc__ or "",
    matrix_rows="gen",
)
