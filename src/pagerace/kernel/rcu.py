"""RCU with real grace-period semantics, per CPU.

Models the guarantee of synchronize_rcu() (Documentation/RCU/whatisRCU.rst): it returns only
after every read-side critical section that had already begun when it was called has
ended; sections that begin later are not waited for. State, per CPU:

- `("rcu", cpu, "nesting")`: rcu_read_lock() nesting depth;
- `("rcu", cpu, "gen")`: how many outermost sections the CPU has entered.

synchronize_rcu() snapshots every CPU's (nesting, gen) in one step, then, for each CPU that
was inside a section, `Await`s until that CPU has left that section: its nesting is 0 or
its gen moved on (a CPU that left and re-entered is not waited for). The traces say
"synchronize_rcu: waiting for CPU 1's section" and "grace period ends".

With `KernelConfig.rcu_counts_preempt_disabled` (consolidated RCU, v4.20) a
preempt_disable() / local_irq_disable() region is a read-side section too; otherwise
those calls are not steps at all.

Under a weak memory model (engine/memory/) the grace-period guarantee needs the orderings
the kernel's RCU implementation provides (Documentation/RCU/Design/Requirements/
Requirements.rst, "Grace-Period Guarantee": synchronize_rcu() implies a full barrier on
every CPU, before and after): a full fence after a section's start and before its end,
a full fence before synchronize_rcu()'s snapshot, whose reads of the CPUs' counters read
the newest values, and - once the awaited sections have ended - a step that reads each
awaited CPU's counter (newest) and fences, so that everything those sections did is
visible after the grace period. Under sequential consistency none of it is a step or a
footprint (the counts stay what they were). The counters are the model's stand-in for the
quiescent-state machinery, not memory the kernel's readers store to through a store
buffer: they are written with `view.ghost`, in the step of the section's fence (so once the
CPU's older stores are visible: a step whose fence must wait for the buffer waits whole),
and a section's end is seen by synchronize_rcu() as soon as it happens; a later look is an
interleaving the search explores anyway. The
RCU+sync+read and RCU+sync+free shapes of
Documentation/litmus-tests/rcu/ are tests of it (tests/kernel/test_kernel_rcu_weak.py).

Leaves out: expedited grace periods, call_rcu() callbacks, SRCU, the quiescent-state
machinery (a grace period is exactly the wait above), and the deadlock of calling
synchronize_rcu() inside a reader (reported as a bug).
"""

from __future__ import annotations

from collections.abc import Callable

from pagerace.engine.ops import Atomic, Await
from pagerace.engine.view import StepView
from pagerace.engine.violation import Violation
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.memory_model import read_newest
from pagerace.kernel.step import Gen
from pagerace.kernel.symmetry import CpuPairs


def nesting_loc(cpu: int) -> tuple[str, int, str]:
    return ("rcu", cpu, "nesting")


def gen_loc(cpu: int) -> tuple[str, int, str]:
    return ("rcu", cpu, "gen")


def _enter(k: KernelHandle, what: str) -> Gen:
    cpu = k.cpu

    def fn(view: StepView, outcome: int) -> None:
        n = view.load(nesting_loc(cpu), 0)
        if n == 0:
            view.ghost(gen_loc(cpu), view.load(gen_loc(cpu), 0) + 1)
        view.ghost(nesting_loc(cpu), n + 1)
        view.fence("mb")  # weak memory: the section's accesses come after its start
        view.note(f"{what} (CPU {cpu}, nesting {n + 1})", func=what, access="rcu",
                  cpu=cpu, nesting=n + 1)
    yield Atomic(fn, f"{what} [CPU {cpu}]")


def _exit(k: KernelHandle, what: str) -> Gen:
    cpu = k.cpu

    def fn(view: StepView, outcome: int) -> None:
        n = view.load(nesting_loc(cpu), 0)
        if n <= 0:
            raise Violation("bug", f"{what} on CPU {cpu} without a matching lock")
        view.fence("mb")  # weak memory: the section's accesses come before its end
        view.ghost(nesting_loc(cpu), n - 1)
        tail = ": section ends" if n == 1 else ""
        view.note(f"{what} (CPU {cpu}, nesting {n - 1}){tail}", func=what, access="rcu",
                  cpu=cpu, nesting=n - 1)
    yield Atomic(fn, f"{what} [CPU {cpu}]")


def rcu_read_lock(k: KernelHandle) -> Gen:
    yield from _enter(k, "rcu_read_lock")


def rcu_read_unlock(k: KernelHandle) -> Gen:
    yield from _exit(k, "rcu_read_unlock")


def preempt_disable(k: KernelHandle) -> Gen:
    if k.config.rcu_counts_preempt_disabled:
        yield from _enter(k, "preempt_disable")


def preempt_enable(k: KernelHandle) -> Gen:
    if k.config.rcu_counts_preempt_disabled:
        yield from _exit(k, "preempt_enable")


def local_irq_disable(k: KernelHandle) -> Gen:
    if k.config.rcu_counts_preempt_disabled:
        yield from _enter(k, "local_irq_disable")


def local_irq_enable(k: KernelHandle) -> Gen:
    if k.config.rcu_counts_preempt_disabled:
        yield from _exit(k, "local_irq_enable")


class Waiting(CpuPairs):
    """What the snapshot returns: the (cpu, gen) pairs to wait for - a plain tuple in
    traces, typed as CPU numbers for renaming (symmetry.py) - and whether the step ran
    under a weak memory model (a renamed copy is a plain CpuPairs: not weak)."""

    weak: bool

    def __new__(cls, items: list[tuple[int, int]], weak: bool) -> Waiting:
        self = super().__new__(cls, items)
        self.weak = weak
        return self


def synchronize_rcu(k: KernelHandle, caller: str = "synchronize_rcu") -> Gen:
    """Wait for the read-side sections that are in progress now, and only for those."""
    me = k.cpu
    ncpus = k.config.ncpus

    def snapshot(view: StepView, outcome: int) -> Waiting:
        view.fence("mb")  # weak memory: the updater's earlier accesses come first
        inside = []
        for cpu in range(ncpus):
            n = read_newest(view, nesting_loc(cpu), 0)
            if n > 0:
                if cpu == me:
                    raise Violation("bug", f"{caller}: synchronize_rcu() inside an RCU "
                                    f"read-side critical section on CPU {cpu}")
                inside.append((cpu, read_newest(view, gen_loc(cpu), 0)))
        if inside:
            who = ", ".join(f"CPU {c}'s section" for c, _ in inside)
            view.note(f"synchronize_rcu: waiting for {who}", func="synchronize_rcu",
                      access="rcu", waiting=[c for c, _ in inside])
        else:
            view.note("synchronize_rcu: no CPU inside a read-side section: grace period "
                      "ends", func="synchronize_rcu", access="rcu", waiting=[])
        view.fence("mb")
        return Waiting(inside, view.weak)

    inside: CpuPairs = yield Atomic(snapshot, f"{caller}: synchronize_rcu() [CPU {me}]")
    for i, (cpu, gen) in enumerate(inside):
        last = i == len(inside) - 1
        yield Await(_section_over(cpu, gen),
                    f"synchronize_rcu: CPU {cpu}'s section has ended"
                    + (": grace period ends" if last else ""))
    if getattr(inside, "weak", False) and inside:
        yield Atomic(_grace_period_end(tuple(c for c, _ in inside)),
                     "synchronize_rcu: smp_mb() after the grace period")


def _grace_period_end(cpus: tuple[int, ...]) -> Callable[[StepView, int], None]:
    """Weak memory only: what the awaited sections did is visible from here on."""
    def fn(view: StepView, outcome: int) -> None:
        for cpu in cpus:
            read_newest(view, nesting_loc(cpu), 0)
            read_newest(view, gen_loc(cpu), 0)
        view.fence("mb")
        view.note("synchronize_rcu: the ended sections' accesses are visible (smp_mb)",
                  func="synchronize_rcu", access="rcu")
    return fn


def _section_over(cpu: int, gen: int) -> Callable[[StepView], bool]:
    def pred(view: StepView) -> bool:
        return bool(view.load(nesting_loc(cpu), 0) == 0 or view.load(gen_loc(cpu), 0) != gen)
    return pred
