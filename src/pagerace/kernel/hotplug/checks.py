"""Instruments of the memory-hotplug scenarios: a ghost check and a window witness.

- `HypervisorPagesNotFreed`: after any step that gives pfns back to the buddy allocator
  (buddy.py's __free_one_page() note: access "free" with an order), a pfn that virtio-mem
  handed to the hypervisor (`("ghost", "hypervisor_owned", pfn)`, virtio_mem.py) is a
  Violation("hypervisor-page-freed"): the guest would hand out memory it unplugged.
- `HeldAcrossOffline(name)`: witnesses the `sometimes` property `name` in the step of
  offline_mem_sections() that takes a section offline while some CPU holds a struct page
  of it that it got from pfn_to_online_page() before (memory_hotplug.py's ghost
  `("ghost", "online_page", cpu)`): the racy window of removal.

Both only read the state after the step; neither is part of the kernel configuration.
Leaves out: nothing the scenarios need.
"""

from __future__ import annotations

from dataclasses import dataclass

from pagerace.engine.instrument import Instrument, StepContext
from pagerace.engine.violation import Violation
from pagerace.kernel.hotplug.config import HotplugGeometry
from pagerace.kernel.hotplug.memory_hotplug import online_page_loc
from pagerace.kernel.hotplug.virtio_mem import owned_loc


@dataclass(frozen=True)
class HypervisorPagesNotFreed(Instrument):
    name: str = "hypervisor-pages-not-freed"

    def after_step(self, ctx: StepContext) -> None:
        for note in ctx.event.notes:
            if note.get("access") != "free" or "order" not in note:
                continue
            pfn, order = int(note["pfn"]), int(note["order"])
            for p in range(pfn, pfn + (1 << order)):
                if ctx.state.get(owned_loc(p), False):
                    raise Violation("hypervisor-page-freed",
                                    f"{note.get('func')}: pfn {p}, a fake-offline page owned "
                                    "by the hypervisor, is freed to the buddy allocator")


@dataclass(frozen=True)
class HeldAcrossOffline(Instrument):
    name: str = "held-across-offline"
    geometry: HotplugGeometry = HotplugGeometry.scaled()
    ncpus: int = 2

    def after_step(self, ctx: StepContext) -> None:
        for note in ctx.event.notes:
            if note.get("func") != "offline_mem_sections" or "section" not in note:
                continue
            pfns = self.geometry.section_range(int(note["section"]))
            for cpu in range(self.ncpus):
                held = ctx.state.get(online_page_loc(cpu))
                if held is not None and held in pfns:
                    ctx.witness(self.name)
