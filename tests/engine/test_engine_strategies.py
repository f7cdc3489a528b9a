"""The strategy protocol, the replay strategy and the nondeterminism check."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import toy_programs as toys

from pagerace.engine import Limits, Load, Program, Schedule, Store, ThreadSpec, explore
from pagerace.engine.determinism import NondeterminismError
from pagerace.engine.execution import Execution
from pagerace.engine.replay_strategy import Replay
from pagerace.engine.runner import drive, run_one
from pagerace.engine.schedule import Choice


class LowestFirst:
    """A minimal strategy: one execution, always the lowest enabled thread."""

    name = "lowest"
    exhaustive = False

    def __init__(self) -> None:
        self.runs = 0
        self.choices: list[Choice] = []

    def new_execution(self) -> bool:
        self.runs += 1
        return self.runs == 1

    def next_choice(self, ex: Execution) -> Choice | None:
        enabled = ex.enabled()
        if not enabled:
            return None
        self.choices.append(Choice(enabled[0]))
        return self.choices[-1]

    def finish(self, ex: Execution) -> Schedule | None:
        return Schedule(tuple(self.choices))

    def estimate(self) -> float | None:
        return None


def test_a_strategy_is_three_methods() -> None:
    r = drive(toys.lost_update(False, 2), LowestFirst(), Limits(), stop_on_violation=False)
    assert r.stats.executions == 1 and not r.complete
    assert r.violation is None  # thread 0 runs to the end, then thread 1: no lost update


def test_replay_strategy_reproduces_an_explored_schedule() -> None:
    prog = toys.lost_update(False, 3)
    found = explore(prog, "dpor")
    assert found.schedule is not None
    ex = Execution(prog)
    strategy = Replay(found.schedule)
    assert strategy.new_execution()
    assert run_one(ex, strategy) == found.schedule
    assert ex.violation == found.violation
    assert not strategy.new_execution()


def test_lenient_replay_skips_what_does_not_fit() -> None:
    prog = toys.lost_update(False, 2)
    ex = Execution(prog)
    strategy = Replay(Schedule.parse("0,0,0,5,1,1"), strict=False)
    strategy.new_execution()
    assert str(run_one(ex, strategy)) == "0,0,1,1"
    assert ex.finished() and ex.violation is None


def _flaky_footprint() -> Program:
    """Thread a reads a location chosen by a counter outside the engine's state."""
    counter = itertools.count()

    def a() -> Any:
        yield Load("y" if next(counter) % 2 == 0 else "z")
        yield Store("x", 1)

    def b() -> Any:
        yield Store("y", 1)

    return Program([ThreadSpec("a", a), ThreadSpec("b", b)], {})


def _flaky_length() -> Program:
    """A thread that takes two steps in its first run and one step afterwards."""
    runs = itertools.count()

    def a() -> Any:
        first = next(runs) == 0
        yield Store("x", 1)
        if first:
            yield Store("x", 2)

    def b() -> Any:
        yield Load("x")

    return Program([ThreadSpec("a", a), ThreadSpec("b", b)], {})


@pytest.mark.parametrize("strategy", ["dfs", "dpor", "random", "pct"])
@pytest.mark.parametrize("make", [_flaky_footprint, _flaky_length])
def test_a_nondeterministic_body_is_reported(strategy: str, make: Any) -> None:
    with pytest.raises(NondeterminismError, match="nondeterministic program") as info:
        explore(make(), strategy, Limits(max_executions=200), stop_on_violation=False)
    assert "thread a" in str(info.value)


def test_the_message_names_the_thread_and_both_ops() -> None:
    with pytest.raises(NondeterminismError) as info:
        explore(_flaky_footprint(), "dfs", stop_on_violation=False)
    text = str(info.value)
    assert "thread a yielded Load 'load' of 'z'" in text
    assert "it yielded Load 'load' of 'y'" in text


@pytest.mark.parametrize("strategy", ["dfs", "dpor", "random", "pct"])
def test_deterministic_programs_pass_the_check(strategy: str) -> None:
    for prog in (toys.chooser(), toys.message_passing(), toys.deadlock(),
                 toys.store_buffering()):
        explore(prog, strategy, Limits(max_executions=100), stop_on_violation=False)


def test_preemption_bound_wraps_dfs_only() -> None:
    bounded = explore(toys.lost_update(False, 2), "dfs", Limits(preemption_bound=1),
                      stop_on_violation=False)
    assert bounded.complete
    assert all(f.schedule.preemptions() <= 2 for f in bounded.found)
    assert bounded.stats.executions < 6  # 6 interleavings unbounded
    with pytest.raises(ValueError):
        explore(toys.lost_update(False, 2), "pct", Limits(preemption_bound=1))


def test_an_atomic_function_that_differs_on_replay_is_reported() -> None:
    """The thread body is deterministic; its Atomic step's function is not."""
    from pagerace.engine import Atomic

    counter = itertools.count()

    def flaky(view: Any, outcome: int) -> None:
        view.store("x" if next(counter) == 0 else "z", 1)

    def a() -> Any:
        yield Atomic(flaky, "flaky")
        yield Load("y")

    def b() -> Any:
        yield Store("y", 1)

    prog = Program([ThreadSpec("a", a), ThreadSpec("b", b)], {})
    with pytest.raises(NondeterminismError, match="differs from an earlier run in footprint"):
        explore(prog, "dfs", stop_on_violation=False)


def test_the_check_is_what_reports_it() -> None:
    r = explore(_flaky_footprint(), "dfs", stop_on_violation=False, check_determinism=False)
    assert r.complete  # the unchecked search runs on, over a tree it cannot trust
