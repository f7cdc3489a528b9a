"""Litmus tests: the RCU grace-period guarantee, explored over every interleaving."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import pytest

from pagerace.engine.execution import Execution
from pagerace.engine.explorer import explore
from pagerace.engine.ops import Await, Load, Store
from pagerace.engine.program import Program, Property, ThreadSpec
from pagerace.kernel import Kernel, KernelConfig
from pagerace.kernel.rcu import nesting_loc
from pagerace.kernel.step import Gen

X, Y, R1, R2, DONE = ("x",), ("y",), ("r1",), ("r2",), ("done",)
State = Mapping[Hashable, Any]


def gp_program(k: Kernel) -> Program:
    """Updater: x = 1; synchronize_rcu(); y = 1.   Reader: lock; r1 = x; r2 = y; unlock.
    Forbidden: r2 == 1 (the reader saw a post-grace-period store) and r1 == 0."""
    up, rd = k.on_cpu(0), k.on_cpu(1)

    def updater() -> Gen:
        yield Store(X, 1)
        yield from up.synchronize_rcu()
        yield Store(Y, 1)

    def reader() -> Gen:
        yield from rd.rcu_read_lock()
        r1 = yield Load(X)
        r2 = yield Load(Y)
        yield from rd.rcu_read_unlock()
        yield Store(R1, r1)
        yield Store(R2, r2)

    def forbidden_absent(s: State) -> bool:
        return not (s.get(R2, 0) == 1 and s.get(R1, 0) == 0)

    def waited(s: State) -> bool:  # the updater really had to wait for the reader
        return s.get(X, 0) == 1 and s.get(nesting_loc(1), 0) == 1 and s.get(Y, 0) == 0

    return Program([ThreadSpec("updater", updater), ThreadSpec("reader", reader)],
                   properties=[Property("grace period", "at_end", forbidden_absent),
                               Property("reader inside", "sometimes", waited)])


@pytest.mark.parametrize("strategy", ["dfs", "dpor"])
def test_synchronize_rcu_waits_for_pre_existing_readers(strategy: str) -> None:
    r = explore(gp_program(Kernel()), strategy, stop_on_violation=False)
    assert r.complete and r.violations == []


def test_grace_period_litmus_fails_without_the_read_side_lock() -> None:
    """Sanity check that the litmus can fail: drop the reader's RCU section."""
    k = Kernel()
    prog = gp_program(k)

    def reader() -> Gen:
        r1 = yield Load(X)
        r2 = yield Load(Y)
        yield Store(R1, r1)
        yield Store(R2, r2)

    prog.threads = [prog.threads[0], ThreadSpec("reader", reader)]
    prog.properties = [prog.properties[0]]
    r = explore(prog, "dfs", stop_on_violation=False)
    assert any("grace period" in v.message for v in r.violations)


def test_synchronize_rcu_returns_while_a_later_reader_is_inside() -> None:
    k = Kernel()
    up, rd = k.on_cpu(0), k.on_cpu(1)

    def updater() -> Gen:
        yield from up.synchronize_rcu()
        yield Store(DONE, 1)

    def reader() -> Gen:
        yield from rd.rcu_read_lock()
        yield Load(X)
        yield from rd.rcu_read_unlock()

    def later_reader_inside(s: State) -> bool:
        return s.get(DONE, 0) == 1 and s.get(nesting_loc(1), 0) == 1

    prog = Program([ThreadSpec("updater", updater), ThreadSpec("reader", reader)],
                   properties=[Property("returned over a later reader", "sometimes",
                                        later_reader_inside)])
    r = explore(prog, "dfs", stop_on_violation=False)
    assert r.complete and r.violations == []


def test_a_reader_that_left_and_reentered_is_not_waited_for() -> None:
    """Schedule: reader enters; synchronize_rcu snapshots (must wait); reader leaves and
    enters a new section; the grace period can end while that later section is open."""
    k = Kernel()
    up, rd = k.on_cpu(0), k.on_cpu(1)

    def updater() -> Gen:
        yield from up.synchronize_rcu()
        yield Store(DONE, 1)

    def reader() -> Gen:
        yield from rd.rcu_read_lock()
        yield from rd.rcu_read_unlock()
        yield from rd.rcu_read_lock()
        yield Await(lambda v: v.load(DONE, 0) == 1, "wait for the updater")
        yield from rd.rcu_read_unlock()

    ex = Execution(Program([ThreadSpec("updater", updater), ThreadSpec("reader", reader)]))
    ex.step(1)  # rcu_read_lock
    ex.step(0)  # synchronize_rcu: snapshot, CPU 1 inside
    assert not ex.is_enabled(0)
    ex.step(1)  # rcu_read_unlock
    ex.step(1)  # rcu_read_lock: a new section
    assert ex.is_enabled(0)
    ex.step(0)  # grace period ends
    ex.step(0)  # done = 1
    ex.step(1)
    ex.step(1)
    assert ex.finished() and ex.violation is None


def test_a_section_begun_before_the_call_is_waited_for_even_after_reentry() -> None:
    """The dual: a section that was open at the snapshot blocks the updater, so a reader
    that waits for the updater inside that section deadlocks (reported, not hung)."""
    k = Kernel()
    up, rd = k.on_cpu(0), k.on_cpu(1)

    def updater() -> Gen:
        yield from up.synchronize_rcu()
        yield Store(DONE, 1)

    def reader() -> Gen:
        yield from rd.rcu_read_lock()
        yield Await(lambda v: v.load(DONE, 0) == 1, "wait for the updater")
        yield from rd.rcu_read_unlock()

    r = explore(Program([ThreadSpec("updater", updater), ThreadSpec("reader", reader)]),
                "dfs", stop_on_violation=False)
    assert r.complete
    assert {v.kind for v in r.violations} == {"deadlock"}
    assert len(r.terminal_states) == 1  # updater first: no reader to wait for


def test_nested_sections_end_at_the_outermost_unlock() -> None:
    """The grace-period litmus with the loads after an inner unlock."""
    k = Kernel()
    prog = gp_program(k)
    rd = k.on_cpu(1)

    def reader() -> Gen:
        yield from rd.rcu_read_lock()
        yield from rd.rcu_read_lock()
        yield from rd.rcu_read_unlock()
        r1 = yield Load(X)
        r2 = yield Load(Y)
        yield from rd.rcu_read_unlock()
        yield Store(R1, r1)
        yield Store(R2, r2)

    prog.threads = [prog.threads[0], ThreadSpec("reader", reader)]
    r = explore(prog, "dfs", stop_on_violation=False)
    assert r.complete and r.violations == []


@pytest.mark.parametrize("counts", [False, True])
def test_preempt_disable_is_a_reader_only_with_consolidated_rcu(counts: bool) -> None:
    k = Kernel(KernelConfig(rcu_counts_preempt_disabled=counts))
    up, rd = k.on_cpu(0), k.on_cpu(1)

    def updater() -> Gen:
        yield from up.synchronize_rcu()
        yield Store(DONE, 1)

    def reader() -> Gen:
        yield from rd.local_irq_disable()
        yield Store(X, 1)  # inside the irq-disabled region
        yield from rd.local_irq_enable()

    prog = Program([ThreadSpec("updater", updater), ThreadSpec("reader", reader)])
    r = explore(prog, "dfs", stop_on_violation=False)
    assert r.complete and r.violations == []
    ex = Execution(prog)
    if counts:
        ex.step(1)  # local_irq_disable: a read-side section begins
    ex.step(1)  # x = 1, inside the region
    ex.step(0)  # synchronize_rcu snapshot
    assert ex.is_enabled(0) is (not counts)  # with consolidated RCU the updater waits


def test_synchronize_rcu_inside_a_reader_is_a_bug() -> None:
    k = Kernel()

    def cpu0() -> Gen:
        yield from k.rcu_read_lock()
        yield from k.synchronize_rcu()

    r = explore(Program([ThreadSpec("cpu0", cpu0)]), "dfs")
    assert r.violation is not None and r.violation.kind == "bug"


def test_trace_notes_name_the_waited_cpu() -> None:
    k = Kernel()
    up, rd = k.on_cpu(0), k.on_cpu(1)

    def updater() -> Gen:
        yield from up.synchronize_rcu()

    def reader() -> Gen:
        yield from rd.rcu_read_lock()
        yield from rd.rcu_read_unlock()

    ex = Execution(Program([ThreadSpec("updater", updater), ThreadSpec("reader", reader)]))
    ev = ex.step(1)
    assert ev.notes[0]["text"].startswith("rcu_read_lock (CPU 1, nesting 1)")
    ev = ex.step(0)
    assert "waiting for CPU 1's section" in ev.notes[0]["text"]
    assert not ex.is_enabled(0)
    ex.step(1)
    assert ex.is_enabled(0)
    ev = ex.step(0)
    assert "grace period ends" in ev.label
