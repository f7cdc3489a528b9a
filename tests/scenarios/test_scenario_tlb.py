"""The walker scenarios with per-CPU TLBs: the context x tlb_flush cells of G2 and G3 on
x86 (README, "TLBs and walker contexts"), and what stays as it was.

Every verdict here is FOUND by the checker, except where a test says RECORD. The
default (tlb=percpu, preemptible walker, the architecture's flush) keeps every cell of
the seed matrix (pinned in test_scenario_hvo.py); tlb=current is the model without TLBs.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from pagerace.engine import explore
from pagerace.kernel.arch import ARCH_NAMES
from pagerace.scenarios.catalog import load_scenario

SEED = load_scenario("hvo-speculative-walker")
HOT_REMOVE = load_scenario("hot-remove-vs-walker")


def verdict(scenario: Any, **params: str) -> str:
    r = explore(scenario.build(params), "dpor")
    return r.violations[0].kind if r.violations else "pass"


# (gen, target, context, tlb_flush) -> (verdict, verdict with tlb_evict=on). Every cell is
# FOUND: the checker found it and no one in the record stated it.
FOUND = {
    ("G2", t, c, f): ("pass", "pass")
    for t, c, f in itertools.product(("aligned", "unaligned"), ("preemptible", "irq-off"),
                                     ("ipi", "broadcast"))
} | {
    ("G3", t, "preemptible", f): ("oops", "oops")
    for t, f in itertools.product(("aligned", "unaligned"), ("ipi", "broadcast"))
} | {
    ("G3", t, "irq-off", "ipi"): ("pass", "oops") for t in ("aligned", "unaligned")
} | {
    ("G3", t, "irq-off", "broadcast"): ("oops", "oops") for t in ("aligned", "unaligned")
}


@pytest.mark.parametrize("cell", sorted(FOUND))
def test_x86_context_by_flush(cell: tuple[str, str, str, str]) -> None:
    gen, target, context, flush = cell
    base = dict(gen=gen, arch="x86", target=target, context=context, tlb_flush=flush)
    assert (verdict(SEED, **base), verdict(SEED, **base, tlb_evict="on")) == FOUND[cell]


def test_g3_irq_off_ipi_pass_is_the_flush_waiting_for_the_walker() -> None:
    """The walker keeps its read-write entry of the old frame; the IPI flush waits until it
    enables interrupts, so the old frame is not freed and the failed cmpxchg's write-back
    lands there, harmlessly; the eviction of that entry brings the fault back."""
    prog = SEED.build(dict(gen="G3", arch="x86", target="unaligned", context="irq-off",
                           tlb_flush="ipi"))
    r = explore(prog, "dpor", stop_on_violation=False)
    assert r.complete and not r.violations
    evicted = explore(SEED.build(dict(gen="G3", arch="x86", target="unaligned",
                                      context="irq-off", tlb_flush="ipi", tlb_evict="on")),
                      "dpor")
    assert evicted.violations and "vmemmap[5] -> frame 64 (ro" in evicted.violations[0].message


@pytest.mark.parametrize("gen,arch,target", list(itertools.product(
    ("G0", "rw-tails", "G1", "G1b", "G2", "G3"), ARCH_NAMES,
    ("aligned", "unaligned"))))
def test_preemptible_walker_verdicts_do_not_depend_on_the_tlb_model(
        gen: str, arch: str, target: str) -> None:
    params = dict(gen=gen, arch=arch, target=target)
    assert verdict(SEED, **params) == verdict(SEED, **params, tlb="current")


def test_hot_remove_stale_tlb_write_names_frame_owner_and_freer() -> None:
    """With the unmerged PG_offline_skippable driver the walker may hold its reference
    across offlining, so removal is where it goes wrong (these tests use that driver)."""
    r = explore(HOT_REMOVE.build(dict(driver="skippable", vmemmap="hole", rcu="off", warn="ignore",
                                      context="irq-off")), "dpor")
    v = r.violations[0]
    assert v.kind == "stale-tlb-write"
    assert "stale TLB entry vmemmap[1] -> frame 1" in v.message
    assert "freed by remove_pte_table" in v.message and "page allocator" in v.message


def test_hot_remove_freed_while_mapped_becomes_a_violation_when_the_walker_uses_it() -> None:
    r = explore(HOT_REMOVE.build(dict(driver="skippable", vmemmap="hole", rcu="off",
                                      warn="ignore")), "dpor", stop_on_violation=False)
    kinds = {v.kind for v in r.violations}
    assert {"vmemmap-use-after-free", "stale-tlb-write", "oops"} <= kinds
    legacy = explore(HOT_REMOVE.build(dict(driver="skippable", vmemmap="hole", rcu="off",
                                           warn="ignore", tlb="current")), "dpor",
                     stop_on_violation=False)
    assert {v.kind for v in legacy.violations} == {"oops"}


def test_hot_remove_zero_page_irq_off_ipi_is_protected_by_the_flush() -> None:
    """zero-page: remap, flush, then free (HVO's order): an interrupts-off walker keeps
    its entry of the old frame, and the IPI flush waits for it before the free."""
    base = dict(driver="skippable", vmemmap="zero-page", rcu="off", warn="ignore",
                context="irq-off")
    assert verdict(HOT_REMOVE, **base) == "pass"
    assert verdict(HOT_REMOVE, **base, tlb_flush="broadcast") == "oops"


def test_rcu_on_hot_remove_passes_in_every_context() -> None:
    for vm, c, f in itertools.product(("hole", "zero-page"), ("preemptible", "irq-off"),
                                      ("ipi", "broadcast")):
        assert verdict(HOT_REMOVE, driver="skippable", vmemmap=vm, rcu="on", warn="ignore",
                       context=c, tlb_flush=f) == "pass"


def test_the_walker_context_is_a_parameter_of_the_restore_scenario() -> None:
    sc = load_scenario("hvo-restore-vs-walker")
    for c, f in itertools.product(("preemptible", "irq-off"), ("ipi", "broadcast")):
        assert verdict(sc, gen="G3", arch="x86", target="unaligned", context=c,
                       tlb_flush=f) == "pass"
