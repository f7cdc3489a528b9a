"""Which memory model an architecture runs under, and how the kernel model's accesses ask
for their ordering.

`memory_model_of(arch)` is what a scenario's `memory=arch` resolves to:

- x86 -> "tso": x86 is TSO (Intel SDM vol. 3 section 9.2.2; Owens, Sarkar, Sewell,
  "A better x86 memory model: x86-TSO", TPHOLs 2009);
- arm64-* , riscv*, loongarch -> "relaxed": ARMv8 (Arm ARM B2.3) and RVWMO (RISC-V
  unprivileged ISA, chapter 17) are weakly ordered and other-multi-copy-atomic, which is
  what the engine's "relaxed" model (promise-free Promising-ARM/RISC-V) follows;
  LoongArch (LoongArch reference manual, section 2.2.8) is weakly ordered too and is
  explored under the same model.

"relaxed-nosb" (the same model without store buffers: no store->store reordering) is a
choice, never what `arch` resolves to: it is stronger than the hardware, and is there
because the kernel scenarios' passing cells finish under it and not under "relaxed"
(docs/memory-models.md, "Cost").

`order_of(ordering)` turns the per-primitive ordering recorded in arch.py into the
engine's `order=` vocabulary (FULL -> "mb", ACQUIRE -> "acquire", RELEASE -> "release",
RELAXED -> "relaxed").

`locked_load` / `locked_store` are the accesses to model-internal state that stands for
data the kernel protects with a lock (the buddy free lists, the hugetlb pool lists, the
vmemmap frame allocator, hotplug bookkeeping, the irq state of a CPU): under a
weak model a load of it reads the newest value (as after the lock's acquire) and is
followed by a full fence (what the lock's acquire gives the critical section that
follows; stronger than a spinlock, never weaker), so that state never becomes a weakly
ordered message the lock would forbid. A store to it is fully ordered under a weak model
(written at once, after the CPU's buffered stores: the lock's release would have made
them visible before the next holder reads it). Ghost state (the model's own bookkeeping)
is written with `view.ghost`, never buffered; so is a CPU's TLB (tlb.py), which is hardware
state filled by the page-table walker, not memory a store buffer holds. Under "sc" both
are a plain `view.load` / `view.store` (the same footprint as before: counts unchanged).

Leaves out: lock hand-over orderings finer than a full fence (a spinlock is acquire /
release only; modelling it as a full fence can hide a bug that needs the weaker order).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from pagerace.engine.view import NO_WRITE, StepView
from pagerace.kernel.arch import Ordering

MEMORY_CHOICES = ("arch", "sc", "tso", "relaxed", "relaxed-nosb")
TSO_ARCHS = ("x86",)


def memory_model_of(arch: str) -> str:
    """The engine memory model of an architecture profile name (arch.py)."""
    if arch in TSO_ARCHS:
        return "tso"
    if arch.startswith(("arm64", "riscv", "loongarch")):
        return "relaxed"
    raise ValueError(f"no memory model is known for architecture {arch!r}")


def resolve_memory(memory: str, arch: str | None) -> str:
    """A scenario's `memory` parameter: "arch" is the architecture's own ("sc" when the
    scenario has no architecture); any other value is the model itself."""
    if memory not in MEMORY_CHOICES:
        raise ValueError(f"unknown memory model {memory!r} (known: {', '.join(MEMORY_CHOICES)})")
    if memory != "arch":
        return memory
    return "sc" if arch is None else memory_model_of(arch)


ORDER_OF = {
    Ordering.FULL: "mb",
    Ordering.ACQUIRE: "acquire",
    Ordering.RELEASE: "release",
    Ordering.RELAXED: "relaxed",
}


def order_of(ordering: Ordering) -> str:
    return ORDER_OF[ordering]


def read_newest(view: StepView, loc: Hashable, default: Any) -> Any:
    """The newest value of `loc`, as a recorded read (an unordered one under a weak
    model). Under "sc": `view.load`."""
    if not view.weak:
        return view.load(loc, default)
    return view.update(loc, lambda v: NO_WRITE, default, "relaxed")


def locked_load(view: StepView, loc: Hashable, default: Any = 0) -> Any:
    """A load of lock-protected state: the newest value, then a full fence."""
    if not view.weak:
        return view.load(loc, default)
    value = view.update(loc, lambda v: NO_WRITE, default, "relaxed")
    view.fence("mb")
    return value


def locked_store(view: StepView, loc: Hashable, value: Any) -> None:
    """A store to lock-protected state."""
    view.store(loc, value, order="plain" if not view.weak else "mb")
