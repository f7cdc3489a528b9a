"""virtio-mem-going-offline: a speculative reference on a fake-offline page vs offlining.

The story (linux-mm, June 2024, David Hildenbrand; docs/kernel-record.md section 7): every
fake-offline chunk of an online Linux memory block holds a refcount of 1 and PageOffline.
To remove the block, virtio-mem offlines it (offline_and_remove_memory()); the mainline
driver (driver=mainline, still in v7.x) drops its reference in MEM_GOING_OFFLINE so that
offlining sees refcount 0 and PageOffline, with

    if (WARN_ON(!page_ref_dec_and_test(page)))
            dump_page(page, "fake-offline page referenced");

"which would trigger on a speculative reference". The May 2025 PG_offline_skippable
proposal (driver=skippable, <20250520164216.866543-1-david@redhat.com>, not merged) keeps
the refcount at 1, touches no refcount on offlining, and lets offlining skip such pages
(__offline_isolated_pages() then WARN_ON_ONCE()s unless the count is 1).

    CPU 1 (memory_block_offline)              CPU 2 (speculative PFN walker)
    start_isolate_page_range()                [rcu_read_lock()]
    memory_notify(MEM_GOING_OFFLINE)          page = pfn_to_online_page(pfn)
      mainline: page_ref_dec_and_test / WARN  get_page_unless_zero(page)
    [synchronize_rcu()]                       put_page(page) if it got one
    scan_movable_pages()  (-EBUSY rule)       [rcu_read_unlock()]
    test_pages_isolated()
    __offline_isolated_pages()  (BUG rule)
    memory_notify(MEM_OFFLINE)   or, on failure, MEM_CANCEL_OFFLINE

Properties: no WARN, no BUG, no oops (raised by the model in the step that hits them); a
hypervisor-owned page is never freed to the buddy allocator (raised in the freeing step,
and checked at the end); at the end every page holds exactly the driver's reference; and
`sometimes`: the walker takes a reference on the fake-offline page (its cmpxchg finds 1).

The bracketed steps run with rcu=on only: the seed thread's proposal (June 2024), not
mainline, which has no grace period on the offlining path.

Parameters: driver, rcu, arch (matrix axes), gen, warn.
"""

from __future__ import annotations

from collections.abc import Mapping

from pagerace.engine.program import Program, ThreadSpec
from pagerace.kernel.hotplug.offline_pages import memory_block_offline
from pagerace.kernel.hotplug.virtio_mem import Driver, virtio_mem_notifier
from pagerace.kernel.step import Gen
from pagerace.kernel.tracepoint import Tracepoint
from pagerace.kernel.vmemmap import REFCOUNT
from pagerace.scenarios.base import Scenario
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

WINDOW = "walker-takes-reference"


def build(params: Mapping[str, str]) -> Program:
    driver: Driver = "mainline" if params["driver"] == "mainline" else "skippable"
    window = Tracepoint(WINDOW, cpu=1, pfn=TARGET, field=REFCOUNT, access="cmpxchg",
                        value=1)
    k = make_kernel(params)
    cpu1, cpu2 = k.on_cpu(0), k.on_cpu(1)
    notifier = virtio_mem_notifier(driver, CHUNKS)

    def cpu1_offline_block() -> Gen:
        yield from memory_block_offline(cpu1, BLOCK, [notifier])

    return Program(
        threads=[ThreadSpec("CPU 1 (memory_block_offline)", cpu1_offline_block),
                 ThreadSpec("CPU 2 (pfn walker)",
                            pfn_walker(cpu2, TARGET, k.hotplug.sync_rcu))],
        initial=initial_state(k, driver),
        properties=[
            references_balanced(k, driver),
            hypervisor_pages_not_free(driver),
            window.sometimes("the walker takes a reference on the fake-offline page"),
        ],
        observe=k.observer(),
        instruments=instruments(k, window),
    )


SCENARIO = Scenario(
    name="virtio-mem-going-offline",
    title="virtio-mem offlines a block with fake-offline chunks while a walker holds a page",
    build_program=build,
    params=(driver_param("mainline", matrix=True), RCU_PARAM, ARCH_PARAM, GEN_PARAM, WARN_PARAM),
    story=__doc__ or "",
    matrix_rows="driver",
)
