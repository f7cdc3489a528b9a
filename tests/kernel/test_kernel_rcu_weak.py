"""The kernel model's RCU keeps the grace-period guarantee under weak memory.

The two shapes of the kernel's Documentation/litmus-tests/rcu/ (both "Result: Never" in
LKMM), written with the kernel model's rcu_read_lock() / synchronize_rcu() and
READ_ONCE / WRITE_ONCE ("once") accesses, explored under tso, relaxed and relaxed-nosb with DPOR and
naive DFS: the forbidden outcome must never be reached. Each has a control without RCU,
where the weak model does reach it (so the tests can fail).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import pytest

from pagerace.engine.explorer import explore
from pagerace.engine.ops import Load, Store
from pagerace.engine.program import Program, Property, ThreadSpec
from pagerace.kernel import Kernel
from pagerace.kernel.step import Gen

X, Y, R0, R1 = ("x",), ("y",), ("r0",), ("r1",)
State = Mapping[Hashable, Any]
MODELS = ("tso", "relaxed", "relaxed-nosb")


def sync_read(memory: str, rcu: bool = True) -> Program:
    """RCU+sync+read.litmus: P0: lock; x = 1; y = 1; unlock.  P1: r0 = x;
    synchronize_rcu(); r1 = y.  Never r0 == 1 && r1 == 0."""
    k = Kernel()
    p0, p1 = k.on_cpu(0), k.on_cpu(1)

    def reader() -> Gen:
        if rcu:
            yield from p0.rcu_read_lock()
        yield Store(X, 1, order="once")
        yield Store(Y, 1, order="once")
        if rcu:
            yield from p0.rcu_read_unlock()

    def updater() -> Gen:
        r0 = yield Load(X, order="once")
        if rcu:
            yield from p1.synchronize_rcu()
        r1 = yield Load(Y, order="once")
        yield Store(R0, r0)
        yield Store(R1, r1)

    def never(s: State) -> bool:
        return not (s.get(R0, 0) == 1 and s.get(R1, 0) == 0)

    return Program([ThreadSpec("P0", reader), ThreadSpec("P1", updater)],
                   properties=[Property("grace period", "at_end", never)], memory=memory)


def sync_free(memory: str, rcu: bool = True) -> Program:
    """RCU+sync+free's shape: P0: lock; r0 = y; r1 = x; unlock.  P1: x = 1;
    synchronize_rcu(); y = 1.  Never r0 == 1 && r1 == 0 (a reader that sees the
    post-grace-period store sees the pre-grace-period one)."""
    k = Kernel()
    p0, p1 = k.on_cpu(0), k.on_cpu(1)

    def reader() -> Gen:
        if rcu:
            yield from p0.rcu_read_lock()
        r0 = yield Load(Y, order="once")
        r1 = yield Load(X, order="once")
        if rcu:
            yield from p0.rcu_read_unlock()
        yield Store(R0, r0)
        yield Store(R1, r1)

    def updater() -> Gen:
        yield Store(X, 1, order="once")
        if rcu:
            yield from p1.synchronize_rcu()
        yield Store(Y, 1, order="once")

    def never(s: State) -> bool:
        return not (s.get(R0, 0) == 1 and s.get(R1, 0) == 0)

    return Program([ThreadSpec("P0", reader), ThreadSpec("P1", updater)],
                   properties=[Property("grace period", "at_end", never)], memory=memory)


@pytest.mark.parametrize("strategy", ["dfs", "dpor"])
@pytest.mark.parametrize("memory", MODELS)
@pytest.mark.parametrize("shape", [sync_read, sync_free])
def test_grace_period_guarantee_holds_under_weak_memory(shape: Any, memory: str,
                                                        strategy: str) -> None:
    r = explore(shape(memory), strategy, stop_on_violation=False)
    assert r.complete and r.violations == []


@pytest.mark.parametrize("shape", [sync_read, sync_free])
def test_without_rcu_the_relaxed_model_reaches_the_outcome(shape: Any) -> None:
    r = explore(shape("relaxed", rcu=False), "dpor")
    assert r.violation is not None and r.violation.kind == "property"
