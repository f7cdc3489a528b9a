"""`KernelConfig`: everything that selects which kernel is modelled.

Geometry, architecture profile, generation (generation.py), the RCU flavour, how many CPUs
synchronize_rcu() looks at, present memory, the hugetlb free path, the v5.18-v6.1 HVO
head-frame reuse, what a ghost check does, the memory-hotplug variant (hotplug/config.py)
and the TLB model (`tlb`: per-CPU TLBs, tlb.py; `tlb_flush`: how a flush reaches other
CPUs, tlbflush.py). Names are validated once, here. Observation is not configuration:
tracepoints and checks are instruments a scenario passes to its Program (tracepoint.py,
invariants.py); only `watch` (the pfns a trace shows) is kept for the observer.

Leaves out: NUMA (one node, nid 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from pagerace.kernel.arch import get_profile
from pagerace.kernel.generation import get_generation
from pagerace.kernel.geometry import Geometry
from pagerace.kernel.hotplug.config import HotplugConfig

GHOST_MODES = ("raise", "record")


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
    hotplug: HotplugConfig = field(default_factory=HotplugConfig)
    tlb: str = "current"  # "current": no TLB, always the PTE; "percpu": tlb.py
    tlb_flush: str | None = None  # "ipi" | "broadcast" (tlbflush.py); None: the arch's own

    def __post_init__(self) -> None:
        get_profile(self.arch)
        get_generation(self.gen)
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
