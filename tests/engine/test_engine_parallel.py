"""The split search (engine/parallel.py) against one process: the same executions,
sleep-blocked runs, steps, distinct terminal states, violations and schedules, in the
same order, at every split depth - on toy programs, on hypothesis random programs, and
(test_engine_parallel_seed.py) on the seed matrix with real worker processes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

import pytest
import random_programs as rp
import toy_programs as toys
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pagerace.engine import ExplorationResult, Limits, Program, explore
from pagerace.engine.parallel import explore_parallel, frontier
from pagerace.engine.splitplan import uniform


class Inline(Executor):
    """Runs each task when it is submitted: the merge logic without processes."""

    def __init__(self) -> None:
        self.tasks = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.tasks += 1
        f: Future[Any] = Future()
        f.set_result(fn(*args, **kwargs))
        return f


def summary(r: ExplorationResult) -> tuple[Any, ...]:
    s = r.stats
    return (s.executions, s.sleep_blocked, s.steps, s.max_depth, s.distinct_states,
            r.terminal_states, [(f.violation, f.schedule) for f in r.found], r.complete,
            r.limit_hit, r.sometimes)


def same(factory: Callable[[], Program], strategy: str, stop: bool, depth: int | None,
         limits: Limits | None = None) -> ExplorationResult:
    seq = explore(factory(), strategy, limits, stop_on_violation=stop)
    par = explore_parallel(factory, strategy, Inline(), 2, limits, stop_on_violation=stop,
                           depth=depth)
    assert summary(par) == summary(seq)
    return par


TOYS: list[Callable[[], Program]] = [
    functools.partial(toys.lost_update, False), functools.partial(toys.lost_update, True),
    toys.store_buffering, functools.partial(toys.independent, 3, 2), toys.deadlock,
    toys.message_passing, toys.chooser, functools.partial(toys.lost_update, False, 3),
]


@pytest.mark.parametrize("factory", TOYS)
@pytest.mark.parametrize("strategy", ["dfs", "dpor"])
@pytest.mark.parametrize("stop", [True, False])
@pytest.mark.parametrize("depth", [None, 1, 2, 3, 5])
def test_toys_split_at_any_depth_give_the_sequential_result(
        factory: Callable[[], Program], strategy: str, stop: bool, depth: int | None) -> None:
    same(factory, strategy, stop, depth)


def test_the_split_really_hands_out_subtrees() -> None:
    factory = functools.partial(toys.lost_update, False, 3)
    pool = Inline()
    par = explore_parallel(factory, "dpor", pool, 2, stop_on_violation=False, depth=2)
    assert par.parallel["subtrees"] > 1 and pool.tasks == par.parallel["submitted"]
    # DFS knows its frontier in advance: nothing guessed is wasted
    dfs = explore_parallel(factory, "dfs", Inline(), 2, stop_on_violation=False, depth=2)
    assert dfs.parallel["wasted"] == 0
    cuts = uniform(factory(), Limits(), 2)
    assert dfs.parallel["subtrees"] == len(frontier(factory(), "dfs", cuts, Limits()))


@pytest.mark.parametrize("strategy", ["dfs", "dpor"])
@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13])
def test_an_execution_limit_stops_where_one_process_stops(strategy: str, n: int) -> None:
    factory = functools.partial(toys.lost_update, False, 3)
    par = same(factory, strategy, False, 2, Limits(max_executions=n))
    assert par.stats.executions <= n


def test_a_preemption_bound_splits_too() -> None:
    factory = functools.partial(toys.lost_update, False, 3)
    for bound in (0, 1, 2):
        same(factory, "dfs", False, 2, Limits(preemption_bound=bound))


def test_samplers_do_not_split() -> None:
    with pytest.raises(ValueError, match="cannot run in parallel"):
        explore_parallel(toys.store_buffering, "random", Inline(), 2)


def test_progress_ends_with_the_whole_tree() -> None:
    seen: list[Any] = []
    explore_parallel(functools.partial(toys.independent, 3, 2), "dfs", Inline(), 2,
                     stop_on_violation=False, depth=2, progress=seen.append)
    assert seen and seen[-1].done and seen[-1].executions == 90
    assert seen[-1].fraction == pytest.approx(1.0)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rp.program_spec, st.sampled_from(["dfs", "dpor"]), st.booleans(),
       st.one_of(st.none(), st.integers(1, 5)))
def test_random_programs_split_give_the_sequential_result(
        spec: object, strategy: str, stop: bool, depth: int | None) -> None:
    same(functools.partial(rp.build, spec), strategy, stop, depth)  # type: ignore[arg-type]
