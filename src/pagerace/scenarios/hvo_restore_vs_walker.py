"""hvo-restore-vs-walker: de-HVO while a speculative walker races (the free path).

The story (docs/kernel-record.md sections 2 and 6): a hugetlb folio whose vmemmap HVO has
remapped read-only is in a user's hands. CPU 1, the user, drops the last reference:
free_huge_folio() -> remove_hugetlb_folio() -> __update_and_free_hugetlb_folio():
hugetlb_vmemmap_restore_folio() (de-HVO: fresh read-write frames, tails rewritten) and
back to the buddy allocator. Until v6.9 remove_hugetlb_folio() unfroze the folio
(refcount 1) *before* de-HVO; bd225530a4c7 (v6.10) moved the unfreeze after it and put a
synchronize_rcu() in front of the remap. CPU 2, a speculative PFN walker, calls
get_page_unless_zero() on a page of the folio at any point and drops the reference if it
got one.

    CPU 1 (user, then hugetlb)                CPU 2 (speculative PFN walker)
    folio_put(folio)                          get_page_unless_zero(page1)
      free_huge_folio()                         [put_page(page1) if it got one]
        remove_hugetlb_folio()   [<= v6.9: folio_ref_unfreeze(folio, 1)]
        hugetlb_vmemmap_restore_folio()
        [>= v6.10: folio_ref_unfreeze(folio, 1)]
        __free_pages() -> buddy

Properties: no oops / WARN / BUG / dedup-write / negative refcount (raised by the kernel
model in the step that does it); at the end every reference is gone - the head and page1
read refcount 0 and the whole block is back in the buddy allocator; `sometimes`: the
walker reads page1's refcount of 0 through the HVO mapping (not its boot mapping) - it
really looks at the folio while it is being freed.

Parameters: gen, arch, target (matrix axes), geometry, walker.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from pagerace.engine.program import Program, Property, ThreadSpec
from pagerace.kernel import buddy
from pagerace.kernel.kernel import Kernel, KernelConfig
from pagerace.kernel.observe import ref_count
from pagerace.kernel.step import Gen
from pagerace.kernel.tracepoint import Tracepoint
from pagerace.kernel.vmemmap import REFCOUNT
from pagerace.scenarios.base import Scenario
from pagerace.scenarios.common import (
    HVO_PARAMS,
    TLB_PARAMS,
    geometry_of,
    target_pfn,
    tlb_config,
    tlb_threads,
    walker_program,
)

WINDOW = "walker-reads-hvo-mapping"


def everything_freed(k: Kernel, folio: int, page: int) -> Property:
    nr = 1 << k.geometry.hugetlb_order

    def check(state: Mapping[Hashable, Any]) -> bool:
        return bool(ref_count(k, state, folio) == 0
                    and ref_count(k, state, page) == 0
                    and buddy.is_free(state.get(buddy.FREE_LOC, ()), folio, folio + nr))

    return Property("all-references-gone", "at_end", check,
                    f"folio {folio} must be back in the buddy allocator with no reference "
                    f"left on it or on pfn {page}: a reference was leaked or lost")


def build(params: Mapping[str, str]) -> Program:
    geometry = geometry_of(params["geometry"])
    folio = 1 << geometry.hugetlb_order
    page1 = target_pfn(geometry, folio, params["target"])
    window = Tracepoint(WINDOW, cpu=1, pfn=page1, field=REFCOUNT, value=0,
                        boot_mapping=False)
    k = Kernel(KernelConfig(geometry=geometry, arch=params["arch"], gen=params["gen"],
                            ncpus=2, watch=(folio, page1), **tlb_config(params)))
    cpu1, cpu2 = k.on_cpu(0), k.on_cpu(1)

    def boot_and_hand_to_user() -> Gen:
        new = yield from cpu1.alloc_hugetlb_folio(containing=folio)
        assert new == folio
        yield from cpu1.hugetlb_vmemmap_optimize_folio(new)
        yield from cpu1.enqueue_hugetlb_folio(new)
        yield from cpu1.dequeue_hugetlb_folio(new)

    state = k.initial_state()
    k.run_setup(state, boot_and_hand_to_user)

    def cpu1_user_frees_folio() -> Gen:
        yield from cpu1.folio_put(folio)  # the last user reference: free_huge_folio()

    return Program(
        threads=[ThreadSpec("CPU 1 (folio_put -> de-HVO)", cpu1_user_frees_folio),
                 ThreadSpec(f"CPU 2 ({params['walker']} walker)",
                            walker_program(cpu2, page1, params["walker"],
                                           params["context"]))]
        + tlb_threads(k, params, range(1, 2)),
        initial=state,
        properties=[
            everything_freed(k, folio, page1),
            window.sometimes("the walker reads page1's refcount through the HVO mapping"),
        ],
        observe=k.observer(),
        instruments=(*k.instruments(), window),
    )


SCENARIO = Scenario(
    name="hvo-restore-vs-walker",
    title="de-HVO on the free path while a speculative walker holds a page of the folio",
    build_program=build,
    params=HVO_PARAMS + TLB_PARAMS,
    story=__doc__ or "",
    matrix_rows="gen",
)
