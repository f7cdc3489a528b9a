"""walker-vs-free: does a speculative reference survive a plain free to the buddy?

An example scenario written outside the catalog (docs/writing-scenarios.md). CPU 1 drops
the last reference of an LRU page; CPU 2, a PFN walker, takes a speculative reference with
get_page_unless_zero() and drops it. A `patched` parameter models a patch under review:
the walker brackets its get in rcu_read_lock() / rcu_read_unlock().

Run: pagerace check docs/examples/walker_vs_free.py --param arch=x86
     pagerace matrix docs/examples/walker_vs_free.py
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from pagerace.engine.program import Program, Property, ThreadSpec
from pagerace.kernel.arch import ARCH_NAMES
from pagerace.kernel.kernel import Kernel, KernelConfig
from pagerace.kernel.observe import read_field
from pagerace.kernel.step import Gen
from pagerace.kernel.tracepoint import Tracepoint
from pagerace.kernel.vmemmap import REFCOUNT
from pagerace.scenarios.base import Param, Scenario

PAGE = 5
SEES_ZERO = "walker-sees-zero"


def build(params: Mapping[str, str]) -> Program:
    k = Kernel(KernelConfig(gen="G0", arch=params["arch"], ncpus=2, watch=(PAGE,)))
    sees_zero = Tracepoint(SEES_ZERO, cpu=1, pfn=PAGE, field=REFCOUNT, value=0)
    cpu1, cpu2 = k.on_cpu(0), k.on_cpu(1)

    def owner() -> Gen:
        yield from cpu1.put_page(PAGE)  # the last reference: back to the buddy

    def walker() -> Gen:
        if params["patched"] == "yes":
            yield from cpu2.rcu_read_lock()
        got = yield from cpu2.get_page_unless_zero(PAGE)
        if params["patched"] == "yes":
            yield from cpu2.rcu_read_unlock()
        if got:
            yield from cpu2.put_page(PAGE)

    def page_is_free(state: Mapping[Hashable, Any]) -> bool:
        return bool(read_field(k, state, PAGE, REFCOUNT) == 0)

    return Program(
        threads=[ThreadSpec("CPU 1 (owner)", owner), ThreadSpec("CPU 2 (walker)", walker)],
        initial=k.initial_state(lru={PAGE: 1}),
        properties=[
            Property("page-freed", "at_end", page_is_free, "the page must end free"),
            sees_zero.sometimes("the walker sees the freed page's count of 0"),
        ],
        observe=k.observer(),
        instruments=(*k.instruments(), sees_zero),
    )


SCENARIO = Scenario(
    name="walker-vs-free",
    title="a speculative reference against a plain free",
    build_program=build,
    params=(
        Param("arch", "x86", ARCH_NAMES, "architecture", matrix=True),
        Param("patched", "no", ("no", "yes"), "walker under rcu_read_lock()", matrix=True),
    ),
    story=__doc__ or "",
    matrix_rows="patched",
)
