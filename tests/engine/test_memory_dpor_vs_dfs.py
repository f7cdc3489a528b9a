"""Property tests: under every memory model DPOR finds what naive DFS finds.

Random small programs with ordering annotations, dependencies and fences
(random_programs.weak_program_spec) are explored under sc, tso and relaxed by naive DFS
and by Source-DPOR: the same violations, the same terminal states (histories, views and
the values each thread read), never more executions, and one execution per Mazurkiewicz
trace of the weak-model events.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
import random_programs as rp
from hypothesis import HealthCheck, example, given, settings

from pagerace.engine import Atomic, Program, Store, ThreadSpec, explore
from pagerace.engine.mazurkiewicz import count_traces
from pagerace.engine.memory import MODELS

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("memory", MODELS)
@SETTINGS
@given(spec=rp.weak_program_spec)
# a failed cmpxchg writes nothing but raises its CPU's read view under tso: two end states
# that differ only there must not share a terminal-state key
@example(spec=([[("store", "a", 2, "plain"), ("store", "b", 1, "plain")], [("cas", "a", 0, 1)],
                [("load", "a", "plain"), ("store", "a", 2, "plain")]], "a", 0))
def test_dpor_finds_what_dfs_finds(memory: str, spec: object) -> None:
    prog = rp.build_weak(spec, memory)  # type: ignore[arg-type]
    dfs = explore(prog, "dfs", stop_on_violation=False)
    dpor = explore(prog, "dpor", stop_on_violation=False)
    assert dfs.complete and dpor.complete
    assert dpor.violation_set() == dfs.violation_set()
    assert dpor.terminal_states == dfs.terminal_states
    assert dpor.stats.executions <= dfs.stats.executions


def test_an_asleep_alternative_is_named_across_a_drain_that_shifts_the_indices() -> None:
    """CPU a buffers x = 1, then reads y and runs smp_mb() where it read 0; CPU b stores
    y = 1. While x is buffered the read of y = 0 waits for the drain, so the step's
    alternatives are [read 1, drain x]; after the drain they are [read 0, read 1]. A sleep
    set that kept "alternative 0" asleep across the drain would put the never-explored
    read of 0 to sleep; DPOR must still end where DFS does (a read 0 with x visible)."""
    def cpu_a() -> Generator[Any, Any, Any]:
        yield Store("x", 1, order="once")
        return (yield Atomic(rp.condmb("y"), "condmb"))

    def cpu_b() -> Generator[Any, Any, Any]:
        yield Store("y", 1, order="once")

    prog = Program([ThreadSpec("a", cpu_a), ThreadSpec("b", cpu_b)], {"x": 0, "y": 0},
                   memory="relaxed", name="condmb")
    dfs = explore(prog, "dfs", stop_on_violation=False)
    dpor = explore(prog, "dpor", stop_on_violation=False)
    assert dfs.complete and dpor.complete
    assert dpor.terminal_states == dfs.terminal_states


@pytest.mark.parametrize("memory", MODELS)
@SETTINGS
@given(spec=rp.weak_program_spec)
def test_dpor_one_execution_per_trace(memory: str, spec: object) -> None:
    """One DPOR execution per Mazurkiewicz trace; with store buffers at most one: the
    traces count a drain before and after an independent op of its own thread as two
    (program order orders a thread's events), where the sleep sets explore one
    (dpor.py, _kept_across_own_step)."""
    prog = rp.build_weak(spec, memory)  # type: ignore[arg-type]
    executions = explore(prog, "dpor", stop_on_violation=False).stats.executions
    if memory == "relaxed":
        assert executions <= count_traces(prog)
    else:
        assert executions == count_traces(prog)
