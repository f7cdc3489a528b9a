"""End-of-execution invariants every kernel program gets, as instruments.

- `RcuQuiescentAtEnd`: when every thread has finished, no CPU is inside an RCU read-side
  critical section (`("rcu", cpu, "nesting")` is 0, rcu.py): a section left open would
  block every later synchronize_rcu() for ever.
- `NoGhostViolations`: when every thread has finished, no ghost violation has been
  recorded that the configuration does not ask to record: dedup writes and frames freed
  while mapped are recorded only under `KernelConfig.ghost_violations == "record"`, and
  ignored WARNs only under `HotplugConfig.warn == "ignore"`; any other count is a model
  path that recorded what it had to raise.

`Kernel.instruments()` returns both for a kernel; scenarios pass them to their Program.
The scenario-specific balance of references stays an `at_end` property of each scenario,
since only the story knows who should hold what. Leaves out: checks after every step
(the in-step checks of descriptor.py and vmemmap.py raise where the bad thing happens).
"""

from __future__ import annotations

from dataclasses import dataclass

from pagerace.engine.instrument import EndContext, Instrument
from pagerace.engine.violation import Violation
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.hotplug.memory_hotplug import WARNINGS
from pagerace.kernel.rcu import nesting_loc
from pagerace.kernel.vmemmap import DEDUP_WRITES, FREED_WHILE_MAPPED


@dataclass(frozen=True)
class RcuQuiescentAtEnd(Instrument):
    name: str = "rcu-quiescent-at-end"
    ncpus: int = 1

    def at_end(self, ctx: EndContext) -> None:
        for cpu in range(self.ncpus):
            n = ctx.state.get(nesting_loc(cpu), 0)
            if n:
                raise Violation("bug", f"CPU {cpu} ends inside an RCU read-side critical "
                                f"section (nesting {n})")


@dataclass(frozen=True)
class NoGhostViolations(Instrument):
    name: str = "no-ghost-violations"
    record_vmemmap_ghosts: bool = False
    ignore_warnings: bool = False

    def at_end(self, ctx: EndContext) -> None:
        checks = [("warnings", WARNINGS, self.ignore_warnings),
                  ("dedup writes", DEDUP_WRITES, self.record_vmemmap_ghosts),
                  ("frames freed while mapped", FREED_WHILE_MAPPED,
                   self.record_vmemmap_ghosts)]
        for what, loc, tolerated in checks:
            count = ctx.state.get(loc, 0)
            if count and not tolerated:
                raise Violation("bug", f"{count} {what} recorded although the "
                                "configuration raises them")


def kernel_instruments(k: KernelHandle) -> tuple[Instrument, ...]:
    """The generic end-of-execution invariants of a kernel program."""
    return (RcuQuiescentAtEnd(ncpus=k.config.ncpus),
            NoGhostViolations(record_vmemmap_ghosts=k.config.ghost_violations == "record",
                              ignore_warnings=k.hotplug.warn == "ignore"))
