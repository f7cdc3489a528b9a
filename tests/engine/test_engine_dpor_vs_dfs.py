"""Property tests: DPOR against the naive exhaustive reference on random small programs."""

from __future__ import annotations

import random_programs as rp
from hypothesis import HealthCheck, given, settings

from pagerace.engine import explore
from pagerace.engine.mazurkiewicz import count_traces


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
