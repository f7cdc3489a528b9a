"""The machine, the walker and the properties shared by the memory-hotplug scenarios.

The machine: 8 pfns of present memory in two scaled memory blocks of one section each
(4 pages, one vmemmap page of 4 descriptors). Block 0 is boot memory; block 1 belongs to
a virtio-mem device that has unplugged both of its 2-page subblocks (fake-offline), so the
driver will offline and remove the whole block. The walker looks at pfn 6, the first
page of the second subblock.

The walker is a speculative PFN walker (memory-failure, page_idle, compaction): it gets
the struct page from pfn_to_online_page(), takes get_page_unless_zero() and drops the
reference with put_page() at once, as the page is of no use to it. With rcu=on the whole
walk is one RCU read-side critical section. Its get_page_unless_zero() is the plain
atomic_add_unless() of G3 (v7.1, "mm: Drop fake head checks") by default: the pages are
order-0, so fake heads (G0) never arise, and mainline's speculative get has no RCU
section of its own again, which keeps `rcu` the only source of read-side sections; G0
(v5.18 .. v6.9, older kernels of the same mainline driver) can be chosen with gen=G0.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

from pagerace.engine.instrument import Instrument
from pagerace.engine.program import Property
from pagerace.kernel.arch import ARCH_NAMES
from pagerace.kernel.buddy import FREE_LOC, is_free
from pagerace.kernel.geometry import Geometry
from pagerace.kernel.hotplug.checks import HypervisorPagesNotFreed
from pagerace.kernel.hotplug.config import HotplugConfig, HotplugGeometry
from pagerace.kernel.hotplug.memory_hotplug import block_loc
from pagerace.kernel.hotplug.memory_hotplug import pfn_to_online_page as _pfn_to_online_page
from pagerace.kernel.hotplug.virtio_mem import (
    DRIVERS,
    Chunk,
    Driver,
    expected_refcount,
    owned_loc,
    virtio_mem_fake_offline,
)
from pagerace.kernel.kernel import Kernel, KernelConfig
from pagerace.kernel.observe import read_field
from pagerace.kernel.step import Gen
from pagerace.kernel.vmemmap import FRAME_NEXT, REFCOUNT
from pagerace.scenarios.base import Param
from pagerace.scenarios.common import tlb_config

MEMORY = ((0, 8),)
BLOCK = 1  # the virtio-mem block: pfns 4..7
CHUNKS = (Chunk(4, 2), Chunk(6, 2))
TARGET = 6

RCU_PARAM = Param("rcu", "off", ("off", "on"),
                  "off: mainline (no grace period on the offlining / removal path); on: the "
                  "seed thread's proposal (June 2024, not in mainline): synchronize_rcu() on "
                  "that path and the walker in an RCU read-side critical section",
                  matrix=True)
ARCH_PARAM = Param("arch", "x86", ARCH_NAMES,
                   "which instruction sequence each kernel atomic runs (kernel/arch.py)",
                   matrix=True)
GEN_PARAM = Param("gen", "G3", ("G3", "G0"),
                  "the walker's get_page_unless_zero(): both are a plain atomic_add_unless()")
WARN_PARAM = Param("warn", "report", ("report", "ignore"),
                   "report: a WARN is a violation (panic_on_warn); ignore: the kernel "
                   "carries on and the checker looks at what follows")


def driver_param(default: str, matrix: bool) -> Param:
    return Param("driver", default, DRIVERS,
                 "mainline: today's driver (v5.8 .. v7.x), drops / retakes the reference "
                 "in MEM_GOING_OFFLINE / MEM_CANCEL_OFFLINE; skippable: the unmerged "
                 "PG_offline_skippable proposal (May 2025)",
                 matrix=matrix)


def hotplug_config(params: Mapping[str, str], **changes: Any) -> HotplugConfig:
    """The hotplug variant of the parameters (driver, warn, rcu; defaults when absent),
    with `changes` on top."""
    fields: dict[str, Any] = {
        "geometry": HotplugGeometry.scaled(),
        "offline_rule": "skippable" if params.get("driver") == "skippable" else "refcount",
        "warn": params.get("warn", "report"),
        "sync_rcu": params.get("rcu", "off") == "on",
    }
    fields.update(changes)
    return HotplugConfig(**fields)


def make_kernel(params: Mapping[str, str], ghost_violations: str = "raise",
                tlb: bool = False, **hotplug: Any) -> Kernel:
    """The machine above, with the hotplug variant the parameters choose; `tlb`: also
    the TLB parameters' KernelConfig fields (common.tlb_config)."""
    return Kernel(KernelConfig(
        geometry=Geometry.scaled(), arch=params["arch"], gen=params["gen"], ncpus=2,
        memory=MEMORY, watch=(TARGET,), ghost_violations=ghost_violations,
        hotplug=hotplug_config(params, **hotplug), **(tlb_config(params) if tlb else {})))


def instruments(k: Kernel, *extra: Instrument) -> tuple[Instrument, ...]:
    """The kernel's invariants, the hypervisor-page check, and the scenario's own."""
    return (*k.instruments(), HypervisorPagesNotFreed(), *extra)


def initial_state(k: Kernel, driver: Driver | None) -> dict[Hashable, Any]:
    """Boot, then (driver given) the device unplugs both subblocks of block 1."""
    state = k.initial_state()
    if driver is not None:
        for chunk in CHUNKS:
            def unplug(c: Chunk = chunk, d: Driver = driver) -> Gen:
                return (yield from virtio_mem_fake_offline(k, c, d))
            assert k.run_setup(state, unplug)
    state[FRAME_NEXT] = k.first_fresh_frame + 1  # the frame after the zero struct page
    return state


def pfn_walker(k: Kernel, pfn: int, rcu: bool,
               context: str = "preemptible") -> Callable[[], Gen]:
    """irq-off: the whole walk runs with interrupts off (and so, with consolidated RCU,
    inside an RCU read-side section)."""
    def walker() -> Gen:
        if context == "irq-off":
            yield from k.local_irq_disable()
        if rcu:
            yield from k.rcu_read_lock()
        page = yield from _pfn_to_online_page(k, pfn)
        if page is not None and (yield from k.get_page_unless_zero(page)):
            yield from k.put_page(page)  # of no use to us: drop it at once
        if rcu:
            yield from k.rcu_read_unlock()
        if context == "irq-off":
            yield from k.local_irq_enable()
    return walker


def references_balanced(k: Kernel, driver: Driver | None) -> Property:
    """At the end every page of the block holds exactly the driver's reference (none for
    a plain free block); a removed block has no descriptors left to check."""
    pfns = range(CHUNKS[0].start, CHUNKS[-1].start + CHUNKS[-1].nr)

    def check(state: Mapping[Hashable, Any]) -> bool:
        where = state.get(block_loc(BLOCK), "online")
        if where == "removed":
            return True
        want = 0 if driver is None else expected_refcount(driver, where)
        return all(read_field(k, state, p, REFCOUNT) == want for p in pfns)

    return Property("references-balanced", "at_end", check,
                    "a page of the block ends with a reference the driver does not expect "
                    "(leaked or lost)")


def hypervisor_pages_not_free(driver: Driver | None) -> Property:
    def check(state: Mapping[Hashable, Any]) -> bool:
        free = tuple(state.get(FREE_LOC, ()))
        return not any(state.get(owned_loc(p), False) and is_free(free, p, p + 1)
                       for c in CHUNKS for p in c.pfns)
    return Property("hypervisor-pages-not-in-buddy", "at_end", check,
                    "a page owned by the hypervisor ends in the buddy allocator")
