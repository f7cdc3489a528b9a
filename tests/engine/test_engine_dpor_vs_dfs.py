"""Property tests: DPOR against the naive exhaustive reference on random small programs."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
import random_programs as rp
from hypothesis import HealthCheck, given, settings

from pagerace.engine import Atomic, FetchAdd, Program, Property, ThreadSpec, explore
from pagerace.engine.mazurkiewicz import count_traces
from pagerace.engine.violation import Violation


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rp.program_spec)
def test_dpor_finds_what_dfs_finds(spec: object) -> None:
    prog = rp.build(spec)  # type: ignore[arg-type]
    dfs = explore(prog, "dfs", stop_on_violation=False)
    dpor = explore(prog, "dpor", stop_on_violation=False)
    assert dfs.complete and dpor.complete
    assert dpor.violation_set() == dfs.violation_set()
    assert dpor.terminal_states == dfs.terminal_states
    assert dpor.stats.executions <= dfs.stats.executions


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rp.program_spec)
def test_dpor_explores_one_execution_per_mazurkiewicz_trace(spec: object) -> None:
    prog = rp.build(spec)  # type: ignore[arg-type]
    traces = count_traces(prog)
    dpor = explore(prog, "dpor", stop_on_violation=False)
    # sleep sets: never two executions of one trace; source sets: every trace covered
    assert dpor.stats.executions == traces


def _masking_program() -> Program:
    """Thread 0's oops needs only its own two steps; threads 1 and 2 together break an
    `always` property on a location thread 0 never touches."""
    def oopser() -> Generator[Any, Any, None]:
        yield FetchAdd("a", 1)

        def check(view: Any, outcome: int) -> None:
            if view.load("a") == 1:
                raise Violation("oops", "a is 1")
        yield Atomic(check, "check")

    def adder() -> Generator[Any, Any, None]:
        yield FetchAdd("b", 1)
    return Program([ThreadSpec("oopser", oopser), ThreadSpec("adder 1", adder),
                    ThreadSpec("adder 2", adder)], {"a": 0, "b": 0},
                   [Property("b-small", "always", lambda s: s.get("b", 0) < 2)])


@pytest.mark.parametrize(("strategy", "por"), [("dpor", False), ("stateful", True)])
def test_one_violation_does_not_hide_another(strategy: str, por: bool) -> None:
    # the oops ends every run in which thread 0 goes first: it disables the other threads,
    # so it races with their next steps (DPOR) and is never taken alone (ample sets) even
    # though it touches nothing of theirs
    p = _masking_program()
    kw = {"por": True} if por else {}
    found = explore(p, strategy, stop_on_violation=False, **kw)
    assert {v.kind for v in found.violations} == {"oops", "property"}
    assert {v.kind for v in explore(p, "dfs", stop_on_violation=False).violations} \
        == {"oops", "property"}
