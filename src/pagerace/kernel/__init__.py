"""The kernel model: vmemmap, struct page, atomics, RCU, buddy, hugetlb, HVO generations,
memory hotplug. `Kernel` (kernel.py) is the facade scenarios use; the modelled functions
take a `KernelHandle` (handle.py)."""

from pagerace.kernel.generations import GENERATION_NAMES, get_generation
from pagerace.kernel.geometry import Geometry
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.kernel import Kernel, KernelConfig

__all__ = ["GENERATION_NAMES", "Geometry", "Kernel", "KernelConfig", "KernelHandle",
           "get_generation"]
