"""Kernel TLB flushes as the architecture does them: by IPI, or by broadcast invalidation.

`flush_tlb_kernel_range(k, first, end, func)` and `flush_tlb_all(k, func)`, with the TLB
model on (`KernelConfig.tlb = "percpu"`, tlb.py); with it off they are trace notes only.
`KernelConfig.tlb_flush` picks the mechanism (None: the architecture's own,
`DEFAULT_FLUSH`):

- "ipi" - x86 without INVLPGB (arch/x86/mm/tlb.c, v6.x): flush_tlb_kernel_range() ->
  on_each_cpu(do_kernel_range_flush, info, 1) and flush_tlb_all() -> on_each_cpu(
  do_flush_tlb_all, NULL, 1): the function runs locally and, through
  smp_call_function_many_cond(..., SCF_WAIT) (kernel/smp.c), on every other online CPU;
  the sender then csd_lock_wait()s for each target. A target with interrupts on takes
  the IPI at once; one with interrupts off handles it only when it enables them
  (irq.py), and the sender waits until then. Modelled as one step that flushes the local
  TLB, runs the handler of every target whose interrupts are on (its entries for the
  range go) and queues the request for every target whose interrupts are off, then one
  `Await` per queued target ("csd_lock_wait: CPU n handled the flush IPI"). Running the
  handler of an interrupts-on target inside the sender's step is exact for this model:
  the target's TLB is read only by its own accesses, and an access it makes between the
  IPI and its handler is indistinguishable from one made just before the IPI was sent.
- "broadcast" - AMD INVLPGB (x86, v6.15: invlpgb_kernel_range_flush() /
  invlpgb_flush_all(), then __tlbsync()) and arm64 (arch/arm64/include/asm/tlbflush.h:
  dsb(ishst); tlbi vaale1is per page (vmalle1is for all); dsb(ish); isb()): the
  invalidation reaches every CPU's TLB without the target running anything, whatever its
  interrupt state; the sync / DSB waits for completion. One step that drops the entries
  of every CPU. Its footprint writes other CPUs' TLB locations: it is dependent with
  their fills and hits, which is the race that matters (an access before or after the
  invalidation).

Under a weak memory model both begin with a full fence: the stores before the flush (the
PTE updates it publishes) are visible before any TLB is invalidated - arm64's dsb(ishst)
before the TLBI and dsb(ish) after it; for an IPI, llist_add()'s cmpxchg queueing the csd
in smp_call_function_many_cond() (kernel/smp.c), a fully ordered RMW, before the IPI is
sent. Without it a flush could run while the new PTE is still in the store buffer, and a
refill would cache the old translation after the flush - which no architecture allows.

The x86 range flush that exceeds tlb_single_page_flush_ceiling becomes a full flush; the
model flushes the range (the vmemmap entries outside it are not involved in any
scenario). Leaves out: lazy-TLB CPUs (kernel threads keep init_mm's entries, the same
here), CPU hotplug, PTI / PCID user ASIDs, riscv's SBI remote fence (riscv and
riscv-zacas are treated as "ipi", as with riscv_use_ipi_for_rfence(); an SBI fence is
handled by firmware whatever the supervisor's interrupt state, which "broadcast" models).
loongarch's flush_tlb_kernel_range() is on_each_cpu() of a local flush (arch/loongarch/
kernel/smp.c): "ipi".
"""

from __future__ import annotations

from collections.abc import Callable

from pagerace.engine.ops import Atomic, Await
from pagerace.engine.view import StepView
from pagerace.kernel.handle import KernelHandle as Kernel
from pagerace.kernel.irq import (
    FlushRequest,
    describe_request,
    ipi_loc,
    irqs_off_loc,
    request_range,
)
from pagerace.kernel.memory_model import locked_load
from pagerace.kernel.step import Gen
from pagerace.kernel.symmetry import CpuList
from pagerace.kernel.tlb import invalidate

FLUSH_MODES = ("ipi", "broadcast")
DEFAULT_FLUSH = {"x86": "ipi", "arm64-lse": "broadcast", "arm64-nolse": "broadcast",
                 "riscv": "ipi", "riscv-zacas": "ipi", "loongarch": "ipi"}


def flush_mode(k: Kernel) -> str:
    return k.config.tlb_flush or DEFAULT_FLUSH.get(k.config.arch, "ipi")


def flush_tlb_kernel_range(k: Kernel, first_vpage: int, end_vpage: int, func: str) -> Gen:
    yield from _flush(k, (first_vpage, end_vpage), func, "flush_tlb_kernel_range")


def flush_tlb_all(k: Kernel, func: str) -> Gen:
    yield from _flush(k, (), func, "flush_tlb_all")


def _flush(k: Kernel, req: FlushRequest, func: str, name: str) -> Gen:
    what = describe_request(req)
    if k.config.tlb != "percpu":
        def note(view: StepView, outcome: int) -> None:
            view.note(f"{name}({what}): the model's translation is always current, so "
                      "this changes nothing", func=func, access="tlb-flush",
                      vpage=req[0] if req else None)
        yield Atomic(note, f"{func}: {name}")
        return
    if flush_mode(k) == "broadcast":
        yield Atomic(_broadcast(k, req, name, func), f"{func}: {name} (broadcast)")
        return
    queued = yield Atomic(_send_ipis(k, req, name, func),
                          f"{func}: {name}: on_each_cpu (IPI)")
    for i, cpu in enumerate(queued):
        last = i == len(queued) - 1
        yield Await(_acked(cpu), f"{func}: csd_lock_wait: CPU {cpu} handled the flush IPI"
                    + (f": {name} returns" if last else ""))


def _dropped(cpu: int, gone: list[int]) -> str:
    return f"CPU {cpu}: " + (", ".join(f"vmemmap[{v}]" for v in gone) or "nothing cached")


def _broadcast(k: Kernel, req: FlushRequest, name: str,
               func: str) -> Callable[[StepView, int], None]:
    vpages = request_range(req)

    def fn(view: StepView, outcome: int) -> None:
        view.fence("mb")  # dsb(ishst) before the TLBI (and dsb(ish) after): PTE stores first
        parts = [_dropped(cpu, invalidate(view, cpu, vpages))
                 for cpu in range(k.config.ncpus)]
        insn = "INVLPGB + TLBSYNC" if k.config.arch == "x86" else "TLBI ...IS + DSB ISH"
        view.note(f"{name}({describe_request(req)}): {insn} invalidates every CPU's TLB, "
                  f"whatever its interrupt state; dropped {'; '.join(parts)}", func=func,
                  access="tlb-flush", vpage=req[0] if req else None, mode="broadcast")
    return fn


def _send_ipis(k: Kernel, req: FlushRequest, name: str,
               func: str) -> Callable[[StepView, int], CpuList]:
    me = k.cpu
    vpages = request_range(req)

    def fn(view: StepView, outcome: int) -> CpuList:
        view.fence("mb")  # llist_add()'s cmpxchg of the csd (fully ordered) precedes the IPI
        parts = [f"local {_dropped(me, invalidate(view, me, vpages))}"]
        queued = []
        for cpu in range(k.config.ncpus):
            if cpu == me:
                continue
            if locked_load(view, irqs_off_loc(cpu), False):
                view.store(ipi_loc(cpu), tuple(locked_load(view, ipi_loc(cpu), ())) + (req,))
                queued.append(cpu)
                parts.append(f"CPU {cpu} has interrupts off: the IPI stays pending")
            else:
                parts.append(f"IPI handled by {_dropped(cpu, invalidate(view, cpu, vpages))}")
        wait = (f"; CPU {me} waits for " + ", ".join(f"CPU {c}" for c in queued)) \
            if queued else ""
        view.note(f"{name}({describe_request(req)}): on_each_cpu(wait=1): "
                  + "; ".join(parts) + wait, func=func, access="tlb-flush",
                  vpage=req[0] if req else None, mode="ipi", waiting=queued)
        return CpuList(queued)  # CPU numbers, typed for renaming (symmetry.py)
    return fn


def _acked(cpu: int) -> Callable[[StepView], bool]:
    def pred(view: StepView) -> bool:
        return not locked_load(view, ipi_loc(cpu), ())
    return pred
