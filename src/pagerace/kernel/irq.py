"""Interrupt state per CPU and the delivery of pending flush IPIs (kernel/smp.c).

A CPU with interrupts disabled does not run the handler of a function-call IPI: the IPI
stays pending in its call_single_queue and is handled when the CPU enables interrupts
again (local_irq_enable() / spin_unlock_irqrestore() -> the pending CALL_FUNCTION vector
-> generic_smp_call_function_interrupt() -> __flush_smp_call_function_queue(), which
runs the queued function - here do_kernel_range_flush() / do_flush_tlb_all() - and
releases the csd lock the sender waits on). State, per CPU:

- `("irq", cpu, "disabled")` -> True while the CPU runs with interrupts off;
- `("ipi", cpu)` -> a tuple of pending flush requests (`(first_vpage, end_vpage)`, or
  `()` for a flush of everything), queued by tlbflush.py's IPI flush.

`local_irq_disable(k)` / `local_irq_enable(k)` are one step each when the TLB model is on
(`KernelConfig.tlb = "percpu"`): the step sets the flag and, when the kernel counts
interrupts-off regions as RCU read-side critical sections (consolidated RCU, v4.20,
`KernelConfig.rcu_counts_preempt_disabled`), also enters / leaves the RCU section; the
enabling step also runs the pending IPI handlers (the CPU takes the interrupt at once).
With the TLB model off they are rcu.py's (a step only under consolidated RCU), as before.

Leaves out: nesting of local_irq_save() (the walkers disable once), NMIs, other IPIs.
"""

from __future__ import annotations

from pagerace.engine.ops import Atomic
from pagerace.engine.view import StepView
from pagerace.engine.violation import Violation
from pagerace.kernel import rcu
from pagerace.kernel.handle import KernelHandle as Kernel
from pagerace.kernel.memory_model import locked_load
from pagerace.kernel.step import Gen
from pagerace.kernel.tlb import invalidate

FlushRequest = tuple[int, ...]  # (first_vpage, end_vpage) or () for everything


def irqs_off_loc(cpu: int) -> tuple[str, int, str]:
    return ("irq", cpu, "disabled")


def ipi_loc(cpu: int) -> tuple[str, int]:
    return ("ipi", cpu)


def request_range(req: FlushRequest) -> range | None:
    return range(req[0], req[1]) if req else None


def describe_request(req: FlushRequest) -> str:
    return f"vmemmap[{req[0]}..{req[1] - 1}]" if req else "all"


def handle_flush_ipis(view: StepView, cpu: int) -> None:
    """__flush_smp_call_function_queue() on `cpu`: run every pending flush, ack it."""
    pending = tuple(locked_load(view, ipi_loc(cpu), ()))
    if not pending:
        return
    gone: list[int] = []
    for req in pending:
        gone += invalidate(view, cpu, request_range(req))
    view.store(ipi_loc(cpu), ())
    what = ", ".join(describe_request(r) for r in pending)
    view.note(f"CPU {cpu} takes the pending flush IPI ({what}): TLB entries dropped: "
              + (", ".join(f"vmemmap[{v}]" for v in sorted(set(gone))) or "none")
              + "; csd unlocked", access="ipi", cpu=cpu, vpages=sorted(set(gone)))


def _rcu_enter(view: StepView, cpu: int) -> int:
    n = int(view.load(rcu.nesting_loc(cpu), 0))
    if n == 0:
        view.store(rcu.gen_loc(cpu), view.load(rcu.gen_loc(cpu), 0) + 1)
    view.store(rcu.nesting_loc(cpu), n + 1)
    view.fence("mb")  # the section's accesses after its start (rcu.py: weak memory)
    return n + 1


def _rcu_exit(view: StepView, cpu: int, what: str) -> int:
    n = int(view.load(rcu.nesting_loc(cpu), 0))
    if n <= 0:
        raise Violation("bug", f"{what} on CPU {cpu} without a matching disable")
    view.store(rcu.nesting_loc(cpu), n - 1)
    return n - 1


def local_irq_disable(k: Kernel, what: str = "local_irq_disable") -> Gen:
    if k.config.tlb != "percpu":
        yield from rcu.local_irq_disable(k)
        return
    cpu = k.cpu
    counts = k.config.rcu_counts_preempt_disabled

    def fn(view: StepView, outcome: int) -> None:
        view.store(irqs_off_loc(cpu), True)
        tail = ""
        if counts:
            tail = f"; an RCU read-side section (nesting {_rcu_enter(view, cpu)})"
        view.note(f"{what}: CPU {cpu} runs with interrupts off{tail}", func=what,
                  access="irq", cpu=cpu)
    yield Atomic(fn, f"{what} [CPU {cpu}]")


def local_irq_enable(k: Kernel, what: str = "local_irq_enable") -> Gen:
    if k.config.tlb != "percpu":
        yield from rcu.local_irq_enable(k)
        return
    cpu = k.cpu
    counts = k.config.rcu_counts_preempt_disabled

    def fn(view: StepView, outcome: int) -> None:
        view.store(irqs_off_loc(cpu), False)
        tail = ""
        if counts:
            n = _rcu_exit(view, cpu, what)
            tail = f"; RCU nesting {n}" + (": section ends" if n == 0 else "")
        view.note(f"{what}: CPU {cpu} enables interrupts{tail}", func=what,
                  access="irq", cpu=cpu)
        handle_flush_ipis(view, cpu)
    yield Atomic(fn, f"{what} [CPU {cpu}]")
