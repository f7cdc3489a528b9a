"""Parameters and properties shared by the HVO scenarios.

`HVO_PARAMS` are the axes every HVO scenario takes (generation, architecture, target
page, geometry, walker kind); `TLB_PARAMS` the TLB model and the walker's context, shared
with the hot-remove scenario (`tlb_config`, `tlb_threads`); `walker_program` is the
speculative reference taker as the kernel has it per walker kind and context;
`references_balanced` states "no reference leaked or lost" for a folio that ends in a
user's hands; `walker_symmetry` declares walker CPUs interchangeable (each with its TLB
eviction pseudo-thread, if any) for the stateful search (engine/symmetry.py).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

from pagerace.engine.program import Property, ThreadSpec
from pagerace.engine.symmetry import Symmetry
from pagerace.kernel.arch import ARCH_NAMES
from pagerace.kernel.compaction import isolate_migratepages_pfn
from pagerace.kernel.generations import GENERATION_NAMES
from pagerace.kernel.geometry import Geometry
from pagerace.kernel.hugetlb.hugetlb import pool_loc
from pagerace.kernel.kernel import Kernel
from pagerace.kernel.observe import pte_of, ref_count
from pagerace.kernel.step import Gen
from pagerace.kernel.symmetry import cpu_symmetry
from pagerace.kernel.tlb import tlb_eviction_program
from pagerace.scenarios.base import Param

SEED_GENERATIONS = ("G0", "rw-tails", "G1", "G1b", "G2", "G2-noacquire", "G3",
                    "G3-frozen-bit")
WALKERS = ("pfn", "pagecache", "compaction")

HVO_PARAMS = (
    Param("gen", "G0", tuple(g for g in SEED_GENERATIONS if g in GENERATION_NAMES),
          "generation of the HVO / page_ref_add_unless code", matrix=True),
    Param("arch", "x86", ARCH_NAMES,
          "which instruction sequence each kernel atomic runs (kernel/arch.py)", matrix=True),
    Param("target", "aligned", ("aligned", "unaligned", "head"),
          "aligned: the page's descriptor starts a vmemmap page (a fake head after "
          "G0-G2 HVO); unaligned: another tail; head: the folio's head page",
          matrix=True),
    Param("geometry", "scaled", ("scaled", "real"),
          "scaled: 4 descriptors per vmemmap page, 16-page folio; real: 4 KiB pages, "
          "64-byte struct page, 2 MiB folio"),
    Param("walker", "pfn", WALKERS,
          "pfn: a preemptible PFN walker, get_page_unless_zero() on the raw pfn (no RCU); "
          "pagecache: folio_try_get() under rcu_read_lock() as a page-cache lookup; "
          "compaction: isolate_migratepages_block()'s lockless PageHuge / PageBuddy / "
          "PageCompound / PageLRU checks before folio_get_nontail_page()"),
)


CONTEXTS = ("preemptible", "irq-off")
TLB_PARAMS = (
    Param("tlb", "percpu", ("percpu", "current"),
          "percpu: each CPU translates through its own TLB, which only a flush it handles "
          "(or an eviction) changes; current: every access walks the page table as it is"),
    Param("tlb_flush", "arch", ("arch", "ipi", "broadcast"),
          "how a kernel TLB flush reaches other CPUs - ipi: x86 on_each_cpu, waits for "
          "CPUs with interrupts off; broadcast: AMD INVLPGB / arm64 TLBI IS, waits for no "
          "one; arch: the architecture's own (x86, riscv: ipi; arm64, llsc: broadcast)"),
    Param("context", "preemptible", CONTEXTS,
          "the walker's context - preemptible: interrupts on; irq-off: its reference is "
          "taken with interrupts off (compaction under spin_lock_irqsave(lru_lock), "
          "GUP-fast), which is also an RCU read-side section (consolidated RCU, v4.20)"),
    Param("tlb_evict", "off", ("off", "on"),
          "on: the walker CPUs' TLBs may be evicted once, at any point"),
)


def tlb_config(params: Mapping[str, str]) -> dict[str, Any]:
    """The KernelConfig fields of the TLB parameters. Every modelled version has
    consolidated RCU, so an interrupts-off region is an RCU read-side section."""
    flush = params.get("tlb_flush", "arch")
    return {"tlb": params.get("tlb", "current"),
            "tlb_flush": None if flush == "arch" else flush,
            "rcu_counts_preempt_disabled": True}


def tlb_threads(k: Kernel, params: Mapping[str, str], cpus: range) -> list[ThreadSpec]:
    """With tlb_evict=on (and per-CPU TLBs): one eviction pseudo-thread per walker CPU."""
    if params.get("tlb_evict") != "on" or k.config.tlb != "percpu":
        return []
    return [ThreadSpec(f"TLB of CPU {c + 1} (eviction)", tlb_eviction_program(k, c))
            for c in cpus]


def geometry_of(name: str) -> Geometry:
    return Geometry.real() if name == "real" else Geometry.scaled()


def target_pfn(geometry: Geometry, folio: int, target: str) -> int:
    """The walker's page inside the folio-to-be: the first descriptor of the folio's
    second vmemmap page (aligned), the one after it (unaligned), or the head itself."""
    if target == "head":
        return folio
    per = geometry.descs_per_vmemmap_page
    return folio + per + (1 if target == "unaligned" else 0)


def walker_program(k: Kernel, page: int, kind: str,
                   context: str = "preemptible") -> Callable[[], Gen]:
    """CPU 2: take a speculative reference on `page` and drop it if it got one.

    irq-off: isolate_migratepages_block() may hold the lru lock, taken with
    spin_lock_irqsave() on an earlier pfn, across get_page_unless_zero(); it drops the
    lock before folio_put() ("Avoid potential deadlock in freeing page under lru_lock")."""
    if context not in CONTEXTS:
        raise ValueError(f"unknown context {context!r}")

    def pfn_walker() -> Gen:
        # a raw pfn, get_page_unless_zero() with no check before it
        if context == "irq-off":
            yield from k.spin_lock_irqsave("lruvec->lru_lock")
        got = yield from k.get_page_unless_zero(page)
        if context == "irq-off":
            yield from k.spin_unlock_irqrestore("lruvec->lru_lock")
        if got:
            yield from k.put_page(page)

    def compaction_walker() -> Gen:
        # isolate_migratepages_block(): the lockless PageHuge / PageBuddy / PageCompound /
        # PageLRU checks, then folio_get_nontail_page(); preemptible
        if (yield from isolate_migratepages_pfn(k, page)) is not None:
            yield from k.put_page(page)

    def pagecache_walker() -> Gen:
        # filemap_get_entry(): rcu_read_lock(); folio_try_get(); ... rcu_read_unlock()
        # (irq-off: called from a section with interrupts off)
        if context == "irq-off":
            yield from k.local_irq_disable()
        yield from k.rcu_read_lock()
        got = yield from k.folio_try_get(page)
        yield from k.rcu_read_unlock()
        if context == "irq-off":
            yield from k.local_irq_enable()
        if got:
            yield from k.put_page(page)

    if kind == "pfn":
        return pfn_walker
    if kind == "pagecache":
        return pagecache_walker
    if kind == "compaction":
        return compaction_walker
    raise ValueError(f"unknown walker {kind!r}")


def references_balanced(k: Kernel, folio: int, page: int) -> Property:
    """At the end: a folio in a user's hands holds exactly the user's reference and its
    tail `page` none (a fake head reads the head's own descriptor through the alias, so
    it is checked through the head); if the folio never came to be, `page` is free again
    (count 0)."""
    g = k.geometry

    def check(state: Mapping[Hashable, Any]) -> bool:
        if state.get(pool_loc(folio)) == "active":
            if ref_count(k, state, folio) != 1:
                return False
            mine = pte_of(k, state, g.vpage(page))
            heads = pte_of(k, state, g.vpage(folio))
            fake_head = g.slot(page) == 0 and mine is not None and heads is not None \
                and mine[0] == heads[0]
            return fake_head or ref_count(k, state, page) == 0
        return bool(ref_count(k, state, page) == 0)

    return Property("references-balanced", "at_end", check,
                    f"folio {folio} must end with only the user's reference and pfn {page} "
                    f"with none: a reference was leaked or lost")


def walker_symmetry(nthreads: int, walker_cpus: range, evictions: bool) -> Symmetry | None:
    """Walker CPUs `walker_cpus` run thread `cpu` each (thread i on CPU i below them) and,
    with `evictions`, the eviction pseudo-threads that follow in the same order: each CPU's
    threads form one block, and the blocks are interchangeable. None for one walker."""
    if len(walker_cpus) < 2:
        return None
    first = nthreads - len(walker_cpus) if evictions else None
    cpus: list[int | None] = [t if t < walker_cpus.stop else None for t in range(nthreads)]
    blocks: list[tuple[int, ...]] = []
    for i, c in enumerate(walker_cpus):
        if first is None:
            blocks.append((c,))
        else:
            cpus[first + i] = c
            blocks.append((c, first + i))
    return cpu_symmetry(cpus, [blocks])
