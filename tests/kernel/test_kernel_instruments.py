"""The kernel's instruments: end-of-execution invariants and the generation registry."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import pytest

from pagerace.engine import Program, ThreadSpec, explore
from pagerace.kernel import GENERATION_NAMES, Kernel, KernelConfig, generation, get_generation
from pagerace.kernel.generation import Generation, register
from pagerace.kernel.generations import G0
from pagerace.kernel.hotplug.memory_hotplug import WARNINGS
from pagerace.kernel.invariants import NoGhostViolations, RcuQuiescentAtEnd
from pagerace.kernel.step import Gen
from pagerace.kernel.vmemmap import DEDUP_WRITES


def run(k: Kernel, body: Any, initial: dict[Hashable, Any] | None = None) -> Any:
    prog = Program([ThreadSpec("t", body)], initial=initial or k.initial_state(),
                   instruments=k.instruments())
    return explore(prog, "dfs")


def test_a_cpu_left_inside_an_rcu_section_is_a_bug_at_the_end() -> None:
    k = Kernel(KernelConfig(ncpus=2)).on_cpu(1)

    def leaks_a_section() -> Gen:
        yield from k.rcu_read_lock()

    r = run(k, leaks_a_section)
    assert r.violation is not None and r.violation.kind == "bug"
    assert "CPU 1 ends inside an RCU read-side critical section" in r.violation.message


def test_a_balanced_section_passes() -> None:
    k = Kernel(KernelConfig(ncpus=2))

    def balanced() -> Gen:
        yield from k.rcu_read_lock()
        yield from k.rcu_read_unlock()

    assert run(k, balanced).violation is None


@pytest.mark.parametrize("loc, tolerated", [(DEDUP_WRITES, {"record_vmemmap_ghosts"}),
                                            (WARNINGS, {"ignore_warnings"})])
def test_a_ghost_count_fails_unless_the_configuration_records_it(
        loc: tuple[Any, ...], tolerated: set[str]) -> None:
    k = Kernel()
    initial = {**k.initial_state(), loc: 1}

    def nothing() -> Gen:
        yield from k.page_ref_count(0)

    def check(inst: NoGhostViolations) -> Any:
        prog = Program([ThreadSpec("t", nothing)], initial=initial, instruments=[inst])
        return explore(prog, "dfs").violation

    assert check(NoGhostViolations()) is not None
    assert check(NoGhostViolations(**{t: True for t in tolerated})) is None
    assert RcuQuiescentAtEnd(ncpus=1).name == "rcu-quiescent-at-end"


def test_the_instruments_follow_the_configuration() -> None:
    insts = Kernel(KernelConfig(ghost_violations="record")).instruments()
    ghosts = [i for i in insts if isinstance(i, NoGhostViolations)]
    assert ghosts and ghosts[0].record_vmemmap_ghosts and not ghosts[0].ignore_warnings


def test_generations_are_entries_not_names() -> None:
    assert GENERATION_NAMES == ("G0", "rw-tails", "G1", "G1b", "G2", "G2-noacquire", "G3",
                                "G3-frozen-bit")
    g1, g2 = get_generation("G1"), get_generation("G2")
    assert g1.page_ref_add_unless is not g2.page_ref_add_unless
    assert get_generation("G1b").hugetlb_vmemmap_optimize_folio is \
        g2.hugetlb_vmemmap_optimize_folio  # both run the v6.12 HVO
    assert not get_generation("G0").unfreeze_after_restore
    assert get_generation("G3").shares_tail_frame and not get_generation("G3").fake_heads
    with pytest.raises(ValueError, match="unknown generation 'G9'"):
        KernelConfig(gen="G9")
    with pytest.raises(ValueError, match="already registered"):
        register(G0)


def test_a_new_generation_is_one_entry() -> None:
    """An entry that mixes G0's speculative get with G2's HVO runs without other code."""
    from dataclasses import replace

    register(replace(get_generation("G2"), name="test-mix",
                     page_ref_add_unless=G0.page_ref_add_unless))
    try:
        k = Kernel(KernelConfig(gen="test-mix"))
        assert isinstance(k.gen, Generation) and k.gen.page_ref_add_unless is \
            G0.page_ref_add_unless
        state = k.initial_state(lru={5: 1})
        assert k.run_setup(state, lambda: k.get_page_unless_zero(5)) is True
        # no rcu_read_lock(): the plain atomic_add_unless() of G0
        assert not any(key[0] == "rcu" for key in state if isinstance(key, tuple))
    finally:
        generation._REGISTRY.pop("test-mix")
