"""hvo-speculative-walker: the race diagram of commit bd225530a4c7 (v6.10).

The story (linux-mm, June 2024; docs/kernel-record.md sections 2-6): CPU 2, a speculative
PFN walker such as compaction's isolate_migratepages_block(), has seen pfn `page1` while
it was an LRU page. CPU 1 frees that page; its block is then allocated as a hugetlb folio
(the page becomes a tail - a fake head when its descriptor starts a vmemmap page), HVO
remaps the folio's vmemmap read-only, and the folio is dequeued to a user
(folio_ref_unfreeze). CPU 2 calls get_page_unless_zero(page1) at any point and drops the
reference if it got one. On x86 the cmpxchg inside atomic_add_unless() writes even when
its compare fails, so it faults on the read-only tail mapping.

    CPU 1 (vmemmap modifier)                 CPU 2 (speculative PFN walker)
    put_page(page1)        -> buddy          get_page_unless_zero(page1)
    alloc_hugetlb_folio()  page1 is a tail     page_ref_add_unless(page1, 1, 0)
    hugetlb_vmemmap_optimize_folio()           [put_page(page1) if it got one]
    enqueue_hugetlb_folio()
    dequeue_hugetlb_folio() -> folio_ref_unfreeze(folio, 1)

Properties: no oops, no WARN/BUG, no write that changes a deduplicated descriptor through
an alias, no refcount below zero (all raised by the kernel model in the step that does
it); at the end the folio holds exactly the user's reference and the page no other; and
`sometimes`: the walker reads page1's refcount inside the window between the free and the
remap (the read of 0 through page1's original read-write mapping).

Parameters: gen, arch, target (matrix axes), geometry, walker, walkers (1-4 walker CPUs
on the same page: how the cost grows with the number of CPUs), and the TLB model
(common.TLB_PARAMS): tlb, tlb_flush, context (preemptible | irq-off), tlb_evict.

Symmetry: the walkers run the same body on the same page, so they are declared
interchangeable (common.walker_symmetry) and the window is witnessed by any walker; the
stateful search stores one state per renaming of them.
"""

from __future__ import annotations

from collections.abc import Mapping

from pagerace.engine.program import Program, ThreadSpec
from pagerace.kernel.kernel import Kernel, KernelConfig
from pagerace.kernel.step import Gen
from pagerace.kernel.tracepoint import Tracepoint
from pagerace.kernel.vmemmap import REFCOUNT
from pagerace.scenarios.base import Param, Scenario
from pagerace.scenarios.common import (
    HVO_PARAMS,
    TLB_PARAMS,
    geometry_of,
    references_balanced,
    target_pfn,
    tlb_config,
    tlb_threads,
    walker_program,
    walker_symmetry,
)

WINDOW = "walker-reads-in-window"


def build(params: Mapping[str, str]) -> Program:
    geometry = geometry_of(params["geometry"])
    folio = 1 << geometry.hugetlb_order  # the block the folio will occupy
    page1 = target_pfn(geometry, folio, params["target"])
    walkers = int(params["walkers"])
    # any walker reading in the window witnesses it (one tracepoint per walker CPU): the
    # walkers are interchangeable, so the property must not single one out
    windows = [Tracepoint(WINDOW, cpu=c, pfn=page1, field=REFCOUNT, value=0,
                          boot_mapping=True) for c in range(1, 1 + walkers)]
    k = Kernel(KernelConfig(geometry=geometry, arch=params["arch"], gen=params["gen"],
                            ncpus=1 + walkers, watch=(folio, page1), **tlb_config(params)))
    cpu1 = k.on_cpu(0)

    def cpu1_vmemmap_modifier() -> Gen:
        yield from cpu1.put_page(page1)  # the LRU folio dies: back to the buddy
        new = yield from cpu1.alloc_hugetlb_folio(containing=page1)  # page1 is a tail
        if new is None:
            return  # a speculative reference made the freeze fail: nothing to remap
        yield from cpu1.hugetlb_vmemmap_optimize_folio(new)
        yield from cpu1.enqueue_hugetlb_folio(new)
        yield from cpu1.dequeue_hugetlb_folio(new)  # folio_ref_unfreeze(folio, 1)

    state = k.initial_state(lru={page1: 1})
    evictions = tlb_threads(k, params, range(1, 1 + walkers))
    threads = [ThreadSpec("CPU 1 (vmemmap modifier)", cpu1_vmemmap_modifier)] + [
        ThreadSpec(f"CPU {c + 1} ({params['walker']} walker)",
                   walker_program(k.on_cpu(c), page1, params["walker"], params["context"]))
        for c in range(1, 1 + walkers)] + evictions
    return Program(
        threads=threads,
        initial=state,
        properties=[
            references_balanced(k, folio, page1),
            windows[0].sometimes("the walker reads page1's refcount between the free and "
                                 "the remap"),
        ],
        observe=k.observer(),
        instruments=(*k.instruments(), *windows),
        symmetry=walker_symmetry(len(threads), range(1, 1 + walkers), bool(evictions)),
    )


SCENARIO = Scenario(
    name="hvo-speculative-walker",
    title="HVO remaps a freed page's vmemmap while a speculative walker holds it",
    build_program=build,
    params=HVO_PARAMS + (Param("walkers", "1", ("1", "2", "3", "4"),
                               "how many CPUs run the speculative walker on page1"),)
    + TLB_PARAMS,
    story=__doc__ or "",
    matrix_rows="gen",
)
