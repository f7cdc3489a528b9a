"""Renaming CPUs: the kernel model's side of a program's symmetry (engine/symmetry.py).

When a scenario declares interchangeable CPUs (walkers running the same code on the same
page), a permutation of its threads renames the CPUs they run on, and every per-CPU piece
of the model's state must be renamed with it. The per-CPU locations of the model:

- `("rcu", cpu, "nesting")`, `("rcu", cpu, "gen")` (rcu.py);
- `("tlb", cpu)` (tlb.py);
- `("irq", cpu, "disabled")`, `("ipi", cpu)` (irq.py);
- `("ghost", "online_page", cpu)` (hotplug/memory_hotplug.py).

Values that name a CPU: the ghost `("ghost", "frame_freed_by", frame)`, a text ending
"on CPU n" (vmemmap.py). Results that name CPUs: the CPUs a flush IPI waits for
(tlbflush.py) and the sections synchronize_rcu() waits for (rcu.py) are returned as
`CpuList` / `CpuPairs`, tuples typed so that renaming knows they hold CPU numbers; every
other result names none. A new per-CPU location or CPU-valued result must be added here,
or the renaming is not a bijection of states and symmetry reduction is unsound (the
cross-checks against naive DFS in the tests are the guard).

`cpu_symmetry(thread_cpus, groups)` builds the engine's `Symmetry` for a program whose
thread i runs on CPU `thread_cpus[i]`. Leaves out: CPU masks inside descriptors (the model
has none).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from typing import Any

from pagerace.engine.symmetry import Block, Perm, Symmetry


class CpuList(tuple[int, ...]):
    """A result that is a sequence of CPU numbers."""

    __slots__ = ()


class CpuPairs(tuple[tuple[int, Any], ...]):
    """A result that is a sequence of (CPU number, value) pairs."""

    __slots__ = ()


_ON_CPU = re.compile(r"on CPU (\d+)$")
_PER_CPU_HEADS = ("rcu", "tlb", "irq", "ipi")


class CpuRenaming:
    """The state and result renaming of a thread permutation, through thread_cpus."""

    def __init__(self, thread_cpus: Sequence[int | None]) -> None:
        self.thread_cpus = tuple(thread_cpus)
        self._maps: dict[Perm, dict[int, int]] = {}

    def cpu_map(self, perm: Perm) -> dict[int, int]:
        got = self._maps.get(perm)
        if got is None:
            got = {}
            for t, cpu in enumerate(self.thread_cpus):
                if cpu is not None:
                    to = self.thread_cpus[perm[t]]
                    if to is None or got.get(cpu, to) != to:
                        raise ValueError(f"symmetry: thread {t}'s CPU {cpu} has no single "
                                         "image under the permutation")
                    got[cpu] = to
            self._maps[perm] = got
        return got

    def rename(self, loc: Hashable, value: Any, perm: Perm) -> tuple[Hashable, Any]:
        if type(loc) is not tuple or len(loc) < 2:
            return loc, value
        head = loc[0]
        if head in _PER_CPU_HEADS and type(loc[1]) is int:
            cpu = self.cpu_map(perm).get(loc[1], loc[1])
            return (head, cpu, *loc[2:]), value
        if head == "ghost" and len(loc) >= 3:
            if loc[1] == "online_page" and type(loc[2]) is int:
                return ("ghost", "online_page", self.cpu_map(perm).get(loc[2], loc[2])), value
            if loc[1] == "frame_freed_by" and isinstance(value, str):
                m = _ON_CPU.search(value)
                if m:
                    cpu = self.cpu_map(perm).get(int(m.group(1)), int(m.group(1)))
                    return loc, value[:m.start(1)] + str(cpu)
        return loc, value

    def rename_result(self, value: Any, perm: Perm) -> Any:
        m = self.cpu_map(perm)
        if isinstance(value, CpuList):
            return CpuList(m.get(c, c) for c in value)
        if isinstance(value, CpuPairs):
            return CpuPairs((m.get(c, c), v) for c, v in value)
        return value


def mentions_cpu(value: Any) -> bool:
    return isinstance(value, CpuList | CpuPairs)


def cpu_symmetry(thread_cpus: Sequence[int | None],
                 groups: Sequence[Sequence[Block]]) -> Symmetry:
    """The symmetry of a program whose thread i runs on CPU `thread_cpus[i]` (None: on
    no CPU) and whose `groups` of thread blocks are interchangeable."""
    r = CpuRenaming(thread_cpus)
    return Symmetry(tuple(tuple(tuple(b) for b in g) for g in groups),
                    r.rename, r.rename_result, mentions_cpu)
