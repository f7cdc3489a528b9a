"""The progress hook and the tree searches' estimate of the fraction explored."""

from __future__ import annotations

import math
from typing import Any

import pytest
import toy_programs as toys

from pagerace.engine import Choose, Limits, Program, ThreadSpec, explore, progress
from pagerace.engine.dfs import NaiveDFS
from pagerace.engine.dpor import SourceDPOR
from pagerace.engine.progress import Progress
from pagerace.engine.runner import drive
from pagerace.engine.tree import TreeSearch


def _fractions(prog: Program, search: TreeSearch) -> tuple[list[float], int]:
    seen: list[float] = []

    def look(ex: Any) -> None:
        f = search.estimate()
        assert f is not None
        seen.append(f)

    r = drive(prog, search, Limits(), stop_on_violation=False, on_execution=look)
    assert r.complete
    return seen, r.stats.executions


def _choosers(n: int, k: int) -> Program:
    """n threads, each one Choose(k): every node has the same number of children below
    it at each depth (n! k^n leaves), so the estimate is exact after every leaf."""

    def body() -> Any:
        yield Choose(k)

    return Program([ThreadSpec(f"t{i}", body) for i in range(n)], {})


@pytest.mark.parametrize("prog, leaves", [
    (toys.independent(3, 1), 6),       # 3! thread orders
    (toys.independent(4, 1), 24),
    (_choosers(1, 5), 5),              # outcomes only
    (_choosers(2, 2), 8),              # threads and outcomes: 2! * 2^2
    (_choosers(3, 2), 48),
])
def test_estimate_is_exact_on_a_uniform_tree(prog: Program, leaves: int) -> None:
    seen, executions = _fractions(prog, NaiveDFS(prog))
    assert executions == leaves
    assert seen == pytest.approx([(j + 1) / leaves for j in range(leaves)])


@pytest.mark.parametrize("make", [NaiveDFS, SourceDPOR])
def test_estimate_stays_in_range_and_ends_at_one_on_uneven_trees(make: Any) -> None:
    for prog in (toys.lost_update(False, 3), toys.store_buffering(), toys.chooser()):
        search = make(prog)
        seen, _ = _fractions(prog, search)
        assert all(0 < f <= 1 for f in seen)
        assert seen[-1] == pytest.approx(1.0)
        assert search.estimate() == 1.0  # exhausted


def test_progress_reports_every_execution_when_due(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    calls: list[Progress] = []
    r = explore(toys.lost_update(False, 3), "dfs", stop_on_violation=False,
                progress=calls.append)
    assert [p.executions for p in calls[:-1]] == list(range(1, r.stats.executions + 1))
    last = calls[-1]
    assert last.done and last.fraction == 1.0
    assert last.executions == r.stats.executions == 90
    assert last.distinct_states == r.stats.distinct_states
    assert last.max_depth == r.stats.max_depth and last.depth <= last.max_depth
    assert not any(p.done for p in calls[:-1])


def test_progress_is_throttled() -> None:
    calls: list[Progress] = []
    r = explore(toys.lost_update(False, 4), "dpor", stop_on_violation=False,
                progress=calls.append)
    assert calls[-1].done and calls[-1].executions == r.stats.executions
    # at most one call per interval, plus the final one
    assert len(calls) <= math.ceil(r.stats.seconds / progress.INTERVAL) + 1


def test_samplers_have_no_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    calls: list[Progress] = []
    explore(toys.lost_update(False, 2), "random", Limits(max_executions=5),
            stop_on_violation=False, progress=calls.append)
    assert len(calls) == 6 and calls[-1].done  # one per execution, then the final one
    assert all(p.fraction is None for p in calls)
