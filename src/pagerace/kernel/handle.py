"""The kernel handle: a configuration plus the CPU a modelled function runs on.

Every modelled kernel function takes a handle `k` as its first argument and reads from it
only what the C code gets from its build and its CPU: `k.geometry`, `k.arch` (the
compare-and-swap profile), `k.gen` (the generation entry, generation.py), `k.hotplug`,
`k.config`, `k.cpu`. The handle is immutable and holds no state: all mutable kernel state
lives in the engine state. It sits on the ground floor of the kernel layer, so the
modelled functions never import the `Kernel` facade (kernel.py), which is a handle with
one method per modelled function for scenarios.

Leaves out: per-CPU data other than the CPU number (RCU nesting lives in the state).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Self

from pagerace.kernel.arch import ArchProfile, get_profile
from pagerace.kernel.config import KernelConfig
from pagerace.kernel.generation import Generation, get_generation
from pagerace.kernel.geometry import Geometry
from pagerace.kernel.hotplug.config import HotplugConfig

COMPOUND_HEAD = "compound_head"  # G0-G2: head address | 1 on tails
COMPOUND_INFO = "compound_info"  # G3 (v7.1): mask | 1 on tails


@dataclass(frozen=True)
class KernelHandle:
    config: KernelConfig = field(default_factory=KernelConfig)
    cpu: int = 0

    def on_cpu(self, cpu: int) -> Self:
        if not 0 <= cpu < self.config.ncpus:
            raise ValueError(f"cpu {cpu} out of range (ncpus={self.config.ncpus})")
        return replace(self, cpu=cpu)

    @property
    def geometry(self) -> Geometry:
        return self.config.geometry

    @property
    def hotplug(self) -> HotplugConfig:
        return self.config.hotplug

    @cached_property
    def arch(self) -> ArchProfile:
        return get_profile(self.config.arch)

    @cached_property
    def gen(self) -> Generation:
        return get_generation(self.config.gen)

    @cached_property
    def compound_field(self) -> str:
        """The struct page field a tail points at its head with, in this generation."""
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
