"""The kernel model: vmemmap, struct page, atomics, RCU, buddy, hugetlb, HVO generations."""

from pagerace.kernel.generations import GENERATION_NAMES, get_generation
from pagerace.kernel.geometry import Geometry
from pagerace.kernel.kernel import Kernel, KernelConfig

__all__ = ["GENERATION_NAMES", "Geometry", "Kernel", "KernelConfig", "get_generation"]
