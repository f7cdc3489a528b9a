"""hot-remove-vs-walker: a walker holding a struct page pointer into a range being removed.

The story (linux-mm, June 2024; docs/kernel-record.md section 7): virtio-mem frees struct
page metadata only by offlining and removing a whole Linux memory block
(offline_and_remove_memory() -> try_remove_memory() -> arch_remove_memory()); on x86 the
vmemmap of the removed sections is then unmapped and its frames freed, so a speculative
PFN walker that got the struct page from pfn_to_online_page() before the block went
offline, and touches it afterwards, faults on a vmemmap hole. The thread's proposal
(never posted as a patch): map a read-only "zero struct page" frame (all refcounts 0)
instead of the hole, with the same RCU protocol as HVO.

    CPU 1 (offline_and_remove_memory)         CPU 2 (speculative PFN walker)
    offline_pages()                           [rcu_read_lock()]
      ... __offline_isolated_pages():         page = pfn_to_online_page(pfn)
          offline_mem_sections()              get_page_unless_zero(page)
    try_remove_memory()                       put_page(page) if it got one
      [synchronize_rcu()]                     [rcu_read_unlock()]
      arch_remove_memory() -> vmemmap_free():
        hole: free_pagetable(); pte_clear()
        zero-page: set_pte(zero frame, ro); flush; free

The block is a fully unplugged virtio-mem block, handled by the mainline driver by
default (driver=mainline: it drops each page's reference in MEM_GOING_OFFLINE) or by the
unmerged PG_offline_skippable proposal (driver=skippable: the pages keep refcount 1
through offlining, so the walker can hold a reference across it), or, with range=free,
plain free memory. The grace period (rcu=on) is the seed thread's proposal: mainline
has none on this path. x86's remove_pte_table() frees each vmemmap frame before
clearing its PTE, and flushes the TLB once, with flush_tlb_all(), at the end of
remove_pagetable(); that ghost ("freed while mapped") is recorded, not raised, here - but
with per-CPU TLBs (tlb=percpu, the default) a walker that touches the freed frame, through
the PTE not yet cleared or through its TLB before the flush reaches it, is a
"vmemmap-use-after-free" or "stale-tlb-write" violation.

Properties: no oops, no WARN, no BUG, no hypervisor page freed to the buddy allocator,
references balanced at the end; `sometimes`: the walker holds a struct page from
pfn_to_online_page() when the block's sections go offline.

Parameters: vmemmap, rcu, arch (matrix axes), driver, range, gen, warn, and the TLB model
(scenarios/common.py TLB_PARAMS): tlb, tlb_flush, context, tlb_evict.
"""

from __future__ import annotations

from collections.abc import Mapping

from pagerace.engine.program import Program, Property, ThreadSpec
from pagerace.kernel.hotplug.checks import HeldAcrossOffline
from pagerace.kernel.hotplug.memory_remove import offline_and_remove_memory
from pagerace.kernel.hotplug.virtio_mem import Driver, virtio_mem_notifier
from pagerace.kernel.step import Gen
from pagerace.scenarios.base import Param, Scenario
from pagerace.scenarios.common import TLB_PARAMS, tlb_threads
from pagerace.scenarios.hotplug_common import (
    ARCH_PARAM,
    BLOCK,
    CHUNKS,
    GEN_PARAM,
    RCU_PARAM,
    TARGET,
    WARN_PARAM,
    driver_param,
    hypervisor_pages_not_free,
    initial_state,
    instruments,
    make_kernel,
    pfn_walker,
    references_balanced,
)

WINDOW = "walker-holds-pointer-across-offline"


def build(params: Mapping[str, str]) -> Program:
    driver: Driver | None = None
    if params["range"] == "virtio-mem":
        driver = "mainline" if params["driver"] == "mainline" else "skippable"
    booted = make_kernel(params)
    k = make_kernel(params, ghost_violations="record", tlb=True, vmemmap=params["vmemmap"],
                    zero_frame=booted.first_fresh_frame)
    cpu1, cpu2 = k.on_cpu(0), k.on_cpu(1)
    notifiers = [virtio_mem_notifier(driver, CHUNKS)] if driver else []
    window = HeldAcrossOffline(WINDOW, k.hotplug.geometry, k.config.ncpus)

    def cpu1_remove_block() -> Gen:
        yield from offline_and_remove_memory(cpu1, BLOCK, notifiers)

    return Program(
        threads=[ThreadSpec("CPU 1 (offline_and_remove_memory)", cpu1_remove_block),
                 ThreadSpec("CPU 2 (pfn walker)",
                            pfn_walker(cpu2, TARGET, k.hotplug.sync_rcu,
                                       params["context"]))]
        + tlb_threads(k, params, range(1, 2)),
        initial=initial_state(k, driver),
        properties=[
            references_balanced(k, driver),
            hypervisor_pages_not_free(driver),
            Property(WINDOW, "sometimes", lambda s: False,
                     "the walker holds a struct page from pfn_to_online_page() when the "
                     "block's sections go offline"),
        ],
        observe=k.observer(),
        instruments=instruments(k, window),
    )


SCENARIO = Scenario(
    name="hot-remove-vs-walker",
    title="memory hot-remove frees the vmemmap under a walker's struct page pointer",
    build_program=build,
    params=(
        Param("vmemmap", "hole", ("hole", "zero-page"),
              "hole: the removed range's vmemmap is unmapped (x86 today); zero-page: a "
              "shared read-only frame of zeroed descriptors is mapped instead (proposal)",
              matrix=True),
        RCU_PARAM, ARCH_PARAM, driver_param("mainline", matrix=False),
        Param("range", "virtio-mem", ("virtio-mem", "free"),
              "virtio-mem: a fully unplugged virtio-mem block; free: free memory"),
        GEN_PARAM, WARN_PARAM,
    ) + TLB_PARAMS,
    story=__doc__ or "",
    matrix_rows="vmemmap",
)
