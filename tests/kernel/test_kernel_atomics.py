"""Litmus tests: compare-and-swap on a read-only vmemmap page, per architecture."""

from __future__ import annotations

from typing import Any

import pytest

from pagerace.engine.execution import Execution
from pagerace.engine.explorer import explore
from pagerace.engine.program import Program, ThreadSpec
from pagerace.engine.violation import Violation
from pagerace.kernel import Kernel, KernelConfig
from pagerace.kernel.arch import (
    ARCH_NAMES,
    PRIMITIVES,
    PROFILES,
    NeedlessStore,
    Ordering,
    Sequence,
    get_profile,
    host_profile,
)
from pagerace.kernel.atomics import cmpxchg_desc
from pagerace.kernel.step import Gen
from pagerace.kernel.vmemmap import REFCOUNT, field_loc, pte_loc

PFN = 9  # scaled geometry: vmemmap page 2, slot 1
FRAME = 5


def ro_program(arch: str, expected: int, new: int) -> Program:
    """One CPU does cmpxchg(&page->_refcount, expected, new) on a page whose vmemmap page
    is mapped read-only; its _refcount is 0."""
    k = Kernel(KernelConfig(arch=arch))
    state = k.initial_state()
    state[pte_loc(2)] = (FRAME, "ro")
    state[field_loc(FRAME, 1, REFCOUNT)] = 0

    def cpu0() -> Gen:
        got = yield from cmpxchg_desc(k, PFN, REFCOUNT, expected, new, "litmus")
        return got

    return Program([ThreadSpec("cpu0", cpu0)], initial=state)


@pytest.mark.parametrize("arch", ["x86", "riscv-zacas"])
def test_failing_cmpxchg_on_ro_faults_when_the_instruction_always_writes(arch: str) -> None:
    r = explore(ro_program(arch, expected=1, new=2), "dfs", stop_on_violation=False)
    assert r.complete
    assert [v.kind for v in r.violations] == ["oops"]
    assert "compare failed" in r.violations[0].message
    assert r.terminal_states == set()  # no execution survives


@pytest.mark.parametrize("arch", ["arm64-nolse", "riscv", "loongarch"])
def test_failing_cmpxchg_on_ro_does_not_fault_on_llsc(arch: str) -> None:
    r = explore(ro_program(arch, expected=1, new=2), "dfs", stop_on_violation=False)
    assert r.complete and r.violations == []
    assert r.stats.executions == 1


def test_failing_cas_on_ro_explores_both_outcomes_on_arm64_lse() -> None:
    r = explore(ro_program("arm64-lse", expected=1, new=2), "dfs", stop_on_violation=False)
    assert r.complete
    assert r.stats.executions == 2
    assert [v.kind for v in r.violations] == ["oops"]  # the outcome that writes back
    assert len(r.terminal_states) == 1  # the outcome that does not write survives
    assert "writes the old value back" in r.violations[0].message


@pytest.mark.parametrize("arch", list(ARCH_NAMES))
def test_successful_cmpxchg_on_ro_faults_everywhere(arch: str) -> None:
    r = explore(ro_program(arch, expected=0, new=1), "dfs", stop_on_violation=False)
    assert r.complete
    assert r.violations and all(v.kind == "oops" for v in r.violations)
    assert "compare succeeded" in r.violations[0].message


def test_cmpxchg_step_notes_compare_and_write_cycle() -> None:
    ex = Execution(ro_program("arm64-nolse", expected=1, new=2))
    ev = ex.step(0)
    note: dict[str, Any] = ev.notes[-1]
    assert note["compare_failed"] is True and note["write_cycle"] is False
    assert (note["pfn"], note["vpage"], note["frame"], note["perm"]) == (PFN, 2, FRAME, "ro")
    assert note["access"] == "cmpxchg" and note["field"] == REFCOUNT
    assert ex.violation is None and ex.results[0] == 0


def test_x86_failed_cmpxchg_on_rw_writes_the_old_value_back() -> None:
    """The write-back is a real write: the step's footprint writes the location."""
    k = Kernel(KernelConfig(arch="x86"))
    state = k.initial_state(lru={PFN: 3})

    def cpu0() -> Gen:
        return (yield from cmpxchg_desc(k, PFN, REFCOUNT, 1, 2, "litmus"))

    ex = Execution(Program([ThreadSpec("cpu0", cpu0)], initial=state))
    ev = ex.step(0)
    loc = field_loc(2, 1, REFCOUNT)
    assert loc in ev.fp[1]  # written
    assert ex.state[loc] == 3 and ex.results[0] == 3


def test_violation_carries_the_kernel_function() -> None:
    prog = ro_program("x86", expected=1, new=2)
    ex = Execution(prog)
    ex.step(0)
    assert ex.violation is not None
    msg = ex.violation.message
    for part in ("litmus", "pfn 9", "vmemmap[2]", "frame 5", "(ro)", "_refcount"):
        assert part in msg
    with pytest.raises(Violation):
        raise Violation(ex.violation.kind, msg)


# -- the profiles as data -------------------------------------------------------------------

def test_every_profile_names_every_primitive_with_its_source() -> None:
    for prof in PROFILES.values():
        assert tuple(prof.primitives) == PRIMITIVES
        for prim in prof.primitives.values():
            assert prim.insns and prim.source.endswith(".h"), (prof.name, prim.name)
            assert prim.source.startswith(("arch/", "include/linux/atomic/"))


def test_unconditional_rmw_and_stores_always_write_loads_never() -> None:
    for prof in PROFILES.values():
        for name in ("atomic_inc", "atomic_add_return", "atomic_dec_and_test"):
            assert prof.op(name).sequence is Sequence.RMW
            assert prof.op(name).needless_store is NeedlessStore.ALWAYS
        assert prof.op("atomic_set_release").needless_store is NeedlessStore.ALWAYS
        assert prof.op("atomic_set_release").ordering is Ordering.RELEASE
        assert prof.op("atomic_read_acquire").needless_store is NeedlessStore.NEVER
        assert prof.op("atomic_read_acquire").ordering is Ordering.ACQUIRE


def test_fetch_add_unless_is_the_fallback_on_x86_and_arm64_and_llsc_elsewhere() -> None:
    seq = {n: p.op("atomic_fetch_add_unless") for n, p in PROFILES.items()}
    for name in ("x86", "arm64-lse", "arm64-nolse"):
        assert seq[name].sequence is Sequence.FALLBACK
        assert seq[name].source == "include/linux/atomic/atomic-arch-fallback.h"
        # the loop's cmpxchg decides what a needless store does
        assert seq[name].needless_store is PROFILES[name].failed_cas_writes
    for name in ("riscv", "riscv-zacas", "loongarch"):
        assert seq[name].sequence is Sequence.LLSC
        assert seq[name].needless_store is NeedlessStore.NEVER
        assert "amocas" not in seq[name].insns
    assert seq["riscv"] == seq["riscv-zacas"]
    assert PROFILES["riscv-zacas"].op("cmpxchg").insns.startswith("amocas")
    assert PROFILES["riscv-zacas"].failed_cas_writes is NeedlessStore.ALWAYS
    assert PROFILES["riscv"].failed_cas_writes is NeedlessStore.NEVER


def test_llsc_is_not_an_architecture() -> None:
    assert ARCH_NAMES == ("x86", "arm64-lse", "arm64-nolse", "riscv", "riscv-zacas",
                          "loongarch")
    with pytest.raises(ValueError, match="unknown architecture 'llsc'"):
        get_profile("llsc")
    with pytest.raises(ValueError):
        KernelConfig(arch="llsc")


def test_host_profile() -> None:
    assert host_profile("x86_64") is PROFILES["x86"]
    assert host_profile("aarch64", "Features\t: fp asimd atomics") is PROFILES["arm64-lse"]
    assert host_profile("aarch64", "Features\t: fp asimd") is PROFILES["arm64-nolse"]
    assert host_profile("riscv64", "isa\t: rv64imafdc_zacas") is PROFILES["riscv-zacas"]
    assert host_profile("riscv64", "isa\t: rv64imafdc") is PROFILES["riscv"]
    assert host_profile("loongarch64") is PROFILES["loongarch"]
    assert host_profile("s390x") is None
