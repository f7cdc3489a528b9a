"""Per-CPU TLBs and kernel TLB flushes: litmus-style programs with known outcomes.

RECORD: kernel/smp.c smp_call_function_many_cond() with SCF_WAIT csd_lock_wait()s for
every target, and a target runs the queued function only from its IPI handler, i.e. once
it has interrupts on; arch/x86/mm/tlb.c flush_tlb_kernel_range() / flush_tlb_all() use
on_each_cpu(..., 1) (wait). INVLPGB (x86, "x86/mm: use INVLPGB for kernel TLB flushes",
<20250226030129.530345-5-riel@surriel.com>) and arm64's TLBI ...IS + DSB ISH need no
IPI. arch/x86/mm/init_64.c remove_pte_table() calls free_pagetable() before pte_clear(),
and remove_pagetable() flushes with flush_tlb_all() at the end.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import pytest

from pagerace.engine import explore
from pagerace.engine.execution import Execution
from pagerace.engine.ops import Atomic
from pagerace.engine.program import Program, ThreadSpec
from pagerace.engine.view import StepView
from pagerace.kernel import Kernel, KernelConfig
from pagerace.kernel.hotplug.memory_remove import remove_pte_table
from pagerace.kernel.hugetlb.hvo import vmemmap_remap_pte
from pagerace.kernel.irq import ipi_loc
from pagerace.kernel.step import Gen
from pagerace.kernel.tlb import tlb_eviction_program, tlb_loc
from pagerace.kernel.tlbflush import DEFAULT_FLUSH, flush_mode, flush_tlb_kernel_range
from pagerace.kernel.vmemmap import REFCOUNT, RO, RW, field_loc, set_pte

PFN = 5  # scaled geometry: vmemmap page 1, slot 1
VPAGE = 1
NEW = 100  # a frame outside the boot frames


def kernel(**cfg: Any) -> Kernel:
    return Kernel(KernelConfig(tlb="percpu", ncpus=2, **cfg))


def setup(k: Kernel) -> dict[Hashable, Any]:
    state = k.initial_state(allocated=[PFN])
    state[field_loc(NEW, 1, REFCOUNT)] = 7  # what the new frame says for PFN
    return state


def remap(k: Kernel, perm: str = RW) -> Gen:
    return vmemmap_remap_pte(k, VPAGE, NEW, perm, False, "test")


def test_a_cached_entry_survives_another_cpus_set_pte() -> None:
    k = kernel()
    a, b = k.on_cpu(0), k.on_cpu(1)
    state = setup(k)
    assert a.run_setup(state, lambda: a.page_ref_count(PFN)) == 1  # CPU 0 caches it
    b.run_setup(state, lambda: remap(b))
    assert a.run_setup(state, lambda: a.page_ref_count(PFN)) == 1  # stale: old frame
    assert b.run_setup(state, lambda: b.page_ref_count(PFN)) == 7  # a miss walks the PTE


def test_without_the_tlb_model_translation_is_always_current() -> None:
    k = Kernel(KernelConfig(ncpus=2))
    a, b = k.on_cpu(0), k.on_cpu(1)
    state = setup(k)
    assert a.run_setup(state, lambda: a.page_ref_count(PFN)) == 1
    b.run_setup(state, lambda: remap(b))
    assert a.run_setup(state, lambda: a.page_ref_count(PFN)) == 7
    assert not any(isinstance(key, tuple) and key[0] == "tlb" for key in state)


def flush_program(k: Kernel, irq_off: bool) -> Program:
    """CPU 0 remaps vmemmap[1] and flushes; CPU 1 reads PFN (caching it), optionally
    with interrupts off, reads it again, then enables interrupts."""
    a, b = k.on_cpu(0), k.on_cpu(1)

    def flusher() -> Gen:
        yield from remap(a)
        yield from flush(a)

    def reader() -> Gen:
        if irq_off:
            yield from b.local_irq_disable()
        first = yield from b.page_ref_count(PFN)
        second = yield from b.page_ref_count(PFN)
        if irq_off:
            yield from b.local_irq_enable()
        return first, second

    return Program([ThreadSpec("flusher", flusher), ThreadSpec("reader", reader)],
                   setup(k))


def flush(k: Kernel) -> Gen:
    yield from flush_tlb_kernel_range(k, VPAGE, VPAGE + 1, "test")


def run(prog: Program, schedule: list[int]) -> Execution:
    ex = Execution(prog, trace=True)
    for t in schedule:
        assert ex.is_enabled(t), f"thread {t} is blocked at step {len(ex.events)}"
        ex.step(t)
    return ex


def test_ipi_flush_waits_for_a_cpu_with_interrupts_off() -> None:  # RECORD (smp.c)
    k = kernel(tlb_flush="ipi")
    ex = run(flush_program(k, irq_off=True), [1, 1, 0, 0])  # irq off, read, remap, send
    assert ex.state[ipi_loc(1)] == ((VPAGE, VPAGE + 1),)
    assert not ex.is_enabled(0)  # csd_lock_wait(): the flusher waits
    ex.step(1)  # the second read still uses the cached entry: the old frame
    assert not ex.is_enabled(0)
    ex.step(1)  # local_irq_enable(): the pending IPI is handled
    assert ex.results[1] == (1, 1)
    assert ex.state[ipi_loc(1)] == () and ex.state[tlb_loc(1)] == ()
    assert ex.is_enabled(0)


def test_ipi_flush_to_a_cpu_with_interrupts_on_is_handled_at_once() -> None:
    k = kernel(tlb_flush="ipi")
    ex = run(flush_program(k, irq_off=False), [1, 0, 0, 1])  # read, remap, flush, read
    assert ex.finished() and ex.results[1] == (1, 7)


def test_broadcast_flush_does_not_wait_for_interrupts() -> None:  # RECORD (INVLPGB, TLBI)
    k = kernel(tlb_flush="broadcast")
    ex = run(flush_program(k, irq_off=True), [1, 1, 0, 0])  # the flush is one step
    assert ex.pending[0] is None  # the flusher is done though CPU 1 has interrupts off
    ex.step(1)
    assert ex.state.get(tlb_loc(1)) == ((VPAGE, NEW, RW),)  # refilled from the new PTE
    ex.step(1)
    assert ex.results[1] == (1, 7)


@pytest.mark.parametrize("mode", ["ipi", "broadcast"])
def test_every_interleaving_ends_with_the_reader_on_the_new_frame(mode: str) -> None:
    k = kernel(tlb_flush=mode)
    prog = flush_program(k, irq_off=True)
    dfs = explore(prog, "dfs", stop_on_violation=False)
    dpor = explore(prog, "dpor", stop_on_violation=False)
    assert dfs.complete and dpor.complete and not dfs.violations and not dpor.violations
    assert dpor.terminal_states == dfs.terminal_states
    assert dpor.stats.executions <= dfs.stats.executions


def test_default_flush_per_architecture() -> None:
    assert DEFAULT_FLUSH == {"x86": "ipi", "arm64-lse": "broadcast",
                             "arm64-nolse": "broadcast", "riscv": "ipi", "riscv-zacas": "ipi",
                             "loongarch": "ipi"}
    assert flush_mode(kernel(arch="arm64-lse")) == "broadcast"
    assert flush_mode(kernel(arch="x86", tlb_flush="broadcast")) == "broadcast"


def test_write_through_a_stale_read_only_entry_is_a_spurious_fault() -> None:
    k = kernel()
    a, b = k.on_cpu(0), k.on_cpu(1)
    state = setup(k)
    b.run_setup(state, lambda: vmemmap_remap_pte(b, VPAGE, NEW, RO, False, "test"))
    assert a.run_setup(state, lambda: a.page_ref_count(PFN)) == 7  # cached read-only
    b.run_setup(state, lambda: vmemmap_remap_pte(b, VPAGE, NEW, RW, False, "test"))
    a.run_setup(state, lambda: a.page_ref_inc(PFN))  # no oops: the PTE allows it now
    assert state[field_loc(NEW, 1, REFCOUNT)] == 8
    assert state[tlb_loc(0)] == ((VPAGE, NEW, RW),)


def test_eviction_drops_the_cached_entries() -> None:
    k = kernel()
    a = k.on_cpu(0)
    state = setup(k)
    a.run_setup(state, lambda: a.page_ref_count(PFN))
    assert state[tlb_loc(0)]
    k.run_setup(state, tlb_eviction_program(k, 0))
    assert state[tlb_loc(0)] == ()


def test_remove_pte_table_frees_before_clearing_and_flushes_at_the_end() -> None:  # RECORD
    k = Kernel(KernelConfig(tlb="percpu", ncpus=2, memory=((0, 8),),
                            ghost_violations="record"))
    labels: list[str] = []
    state = k.initial_state()
    gen = remove_pte_table(k, 1, 2)
    value: Any = None
    while True:
        try:
            op = gen.send(value)
        except StopIteration:
            break
        labels.append(op.label)
        assert isinstance(op, Atomic)
        value = op.fn(StepView(state, commit=True), 0)
    assert labels == ["remove_pte_table: free_pagetable(pte_page(vmemmap[1]))",
                      "remove_pte_table: pte_clear(vmemmap[1])",
                      "remove_pagetable: flush_tlb_all: on_each_cpu (IPI)"]


def hot_remove_uaf_program(irq_off: bool) -> Program:
    """CPU 0 runs remove_pte_table() on vmemmap[1]; CPU 1 has cached it and then stores to
    PFN's refcount (optionally with interrupts off, so the IPI flush waits for it)."""
    k = Kernel(KernelConfig(tlb="percpu", ncpus=2, memory=((0, 8),),
                            ghost_violations="record", rcu_counts_preempt_disabled=True))
    a, b = k.on_cpu(0), k.on_cpu(1)

    def remover() -> Gen:
        yield from remove_pte_table(a, 1, 2)

    def walker() -> Gen:
        if irq_off:
            yield from b.local_irq_disable()
        yield from b.page_ref_inc(PFN)
        yield from b.page_ref_inc(PFN)
        if irq_off:
            yield from b.local_irq_enable()

    state = k.initial_state(allocated=[PFN])
    return Program([ThreadSpec("remover", remover), ThreadSpec("walker", walker)], state)


def test_a_walker_with_interrupts_off_writes_through_its_stale_entry() -> None:
    r = explore(hot_remove_uaf_program(irq_off=True), "dpor", stop_on_violation=False)
    kinds = {v.kind for v in r.violations}
    assert "stale-tlb-write" in kinds and "vmemmap-use-after-free" in kinds
    msg = next(v.message for v in r.violations if v.kind == "stale-tlb-write")
    assert "frame 1" in msg and "remove_pte_table" in msg and "page allocator" in msg


def test_a_preemptible_walker_hits_the_same_windows_and_the_hole() -> None:
    # free -> pte_clear -> flush_tlb_all: the PTE still maps the freed frame, then only
    # the TLB does (until the flush), then the hole faults
    r = explore(hot_remove_uaf_program(irq_off=False), "dpor", stop_on_violation=False)
    kinds = {v.kind for v in r.violations}
    assert kinds == {"vmemmap-use-after-free", "stale-tlb-write", "oops"}


@pytest.mark.parametrize("irq_off", [False, True])
def test_dpor_finds_what_dfs_finds_with_tlbs(irq_off: bool) -> None:
    prog = hot_remove_uaf_program(irq_off)
    dfs = explore(prog, "dfs", stop_on_violation=False)
    dpor = explore(prog, "dpor", stop_on_violation=False)
    assert {v.kind for v in dpor.violations} == {v.kind for v in dfs.violations}
    assert dpor.terminal_states == dfs.terminal_states


def test_set_pte_changes_no_tlb() -> None:
    k = kernel()
    state = setup(k)
    k.on_cpu(1).run_setup(state, lambda: k.on_cpu(1).page_ref_count(PFN))
    before = state[tlb_loc(1)]
    set_pte(StepView(state, commit=True), k, VPAGE, NEW, RO, False)
    assert state[tlb_loc(1)] == before
