"""The engine on toy programs whose answers are known exactly."""

from __future__ import annotations

from collections.abc import Generator, Hashable, Mapping
from typing import Any

import pytest
import toy_programs as toys

from pagerace.engine import Limits, explore, minimize, record_trace, replay
from pagerace.engine.ops import Op, Store
from pagerace.engine.program import Program, Property, ThreadSpec
from pagerace.engine.schedule import Schedule, ScheduleError


@pytest.mark.parametrize("strategy", ["dfs", "dpor"])
def test_non_atomic_increment_loses_an_update(strategy: str) -> None:
    r = explore(toys.lost_update(atomic=False), strategy)
    assert r.violation is not None
    assert r.violation.kind == "property"
    assert "no-lost-update" in r.violation.message


@pytest.mark.parametrize("strategy", ["dfs", "dpor"])
def test_atomic_increment_never_does(strategy: str) -> None:
    r = explore(toys.lost_update(atomic=True, n=3), strategy)
    assert r.violation is None
    assert r.complete


@pytest.mark.parametrize("strategy", ["dfs", "dpor"])
def test_store_buffering_never_both_zero_under_sc(strategy: str) -> None:
    r = explore(toys.store_buffering(), strategy, stop_on_violation=False)
    assert r.violation is None and r.complete
    assert len(r.terminal_states) == 3  # (r0,r1) in {(0,1), (1,0), (1,1)}


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_independent_threads_give_one_execution_under_dpor(n: int) -> None:
    r = explore(toys.independent(n), "dpor")
    assert r.stats.executions == 1
    assert r.stats.sleep_blocked == 0


@pytest.mark.parametrize("program, dfs, dpor", [
    (toys.lost_update(atomic=False), 6, 4),   # 4!/(2!2!) interleavings; 4 traces
    (toys.lost_update(atomic=True, n=3), 6, 6),   # all fetch_adds conflict
    (toys.store_buffering(), 20, 3),         # C(6,3) interleavings; 3 traces
    (toys.independent(3), 90, 1),            # 6!/(2!^3)
    (toys.message_passing(), 1, 1),  # the consumer waits for the flag
    (toys.chooser(), 2 * 3 * 2 + 3 * 2, 6),
])
def test_exact_execution_counts(program: object, dfs: int, dpor: int) -> None:
    from pagerace.engine import Program
    assert isinstance(program, Program)
    assert explore(program, "dfs", stop_on_violation=False).stats.executions == dfs
    assert explore(program, "dpor", stop_on_violation=False).stats.executions == dpor


@pytest.mark.parametrize("strategy", ["dfs", "dpor", "random", "pct"])
def test_deadlock_is_reported_as_its_own_kind(strategy: str) -> None:
    r = explore(toys.deadlock(), strategy, Limits(max_executions=50))
    assert r.violation is not None and r.violation.kind == "deadlock"


def test_step_bound_is_reported_not_hung() -> None:
    r = explore(toys.spin_forever(), "dpor", Limits(max_steps=100))
    assert r.violation is not None and r.violation.kind == "step-bound"


def test_message_passing_always_reads_the_data() -> None:
    r = explore(toys.message_passing(), "dfs", stop_on_violation=False)
    assert r.complete and r.violation is None
    assert len(r.terminal_states) == 1


def test_preemption_bound_prunes_dfs() -> None:
    full = explore(toys.independent(3), "dfs").stats.executions
    bounded = explore(toys.independent(3), "dfs", Limits(preemption_bound=0)).stats.executions
    assert bounded == 6 and full == 90  # 0 preemptions: the 3! thread orders
    with pytest.raises(ValueError):
        explore(toys.independent(3), "dpor", Limits(preemption_bound=1))


@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_same_seed_same_schedule(strategy: str) -> None:
    a = explore(toys.lost_update(atomic=False, n=3), strategy, Limits(max_executions=200), seed=7)
    b = explore(toys.lost_update(atomic=False, n=3), strategy, Limits(max_executions=200), seed=7)
    assert a.violation is not None
    assert str(a.schedule) == str(b.schedule)
    assert a.stats.executions == b.stats.executions


def test_printed_schedule_replays_to_the_same_violation() -> None:
    prog = toys.lost_update(atomic=False, n=3)
    r = explore(prog, "dpor")
    assert r.violation is not None and r.schedule is not None
    text = str(r.schedule)
    ex, _ = replay(prog, Schedule.parse(text))
    assert ex.violation == r.violation


def test_minimized_schedule_is_no_longer_and_still_fails() -> None:
    prog = toys.lost_update(atomic=False, n=3)
    r = explore(prog, "random", Limits(max_executions=500), seed=3)
    assert r.violation is not None and r.schedule is not None
    m = minimize(prog, r.schedule, r.violation)
    assert (len(m), m.preemptions()) <= (len(r.schedule), r.schedule.preemptions())
    # every thread must finish for the at_end property: 6 steps; an update is lost with
    # one thread's load and store split by another's: 3 context switches at least
    assert (len(m), m.preemptions()) == (6, 3)
    ex, _ = replay(prog, m)
    assert ex.violation == r.violation


def test_bad_schedule_is_rejected() -> None:
    prog = toys.lost_update(atomic=False)
    with pytest.raises(ScheduleError):
        replay(prog, Schedule.parse("0,0,0"))
    with pytest.raises(ScheduleError):
        Schedule.parse("0,x")


def test_trace_records_reads_writes_and_stack() -> None:
    prog = toys.lost_update(atomic=False)
    t = record_trace(prog, Schedule.parse("0,1,0,1"))
    assert t.violation is not None
    assert [s.thread for s in t.steps] == [0, 1, 0, 1]
    assert t.steps[0].reads == [("x", 0)]
    assert t.steps[2].writes == [("x", 0, 1)]
    assert t.steps[0].stack == ["inc"]


def test_a_step_can_witness_a_sometimes_property() -> None:
    from pagerace.engine import Atomic, Program, Property, ThreadSpec

    def racer(view: object, outcome: int) -> None:
        v = view.load("x")  # type: ignore[attr-defined]
        if v == 1:
            view.witness("saw-one")  # type: ignore[attr-defined]

    def reader() -> toys.Body:
        yield Atomic(racer, "read x")

    def writer() -> toys.Body:
        yield toys.Store("x", 1)

    def never() -> toys.Body:
        yield Atomic(lambda v, o: v.load("x"), "read x")

    saw = Property("saw-one", "sometimes", lambda s: False)
    ok = explore(Program([ThreadSpec("r", reader), ThreadSpec("w", writer)], {"x": 0}, [saw]))
    assert ok.violation is None and ok.sometimes == {"saw-one": True}
    vacuous = explore(Program([ThreadSpec("r", never)], {"x": 0}, [saw]))
    assert vacuous.violation is not None and vacuous.violation.kind == "sometimes"


def test_pct_finds_a_depth_two_bug_that_random_walk_misses() -> None:
    """After PCT's paper: a bug needing B's one step inside a narrow window late in A's long
    run has probability 2^-(n-1) under a uniform random walk, about 1/(2n) under PCT d=2."""
    from pagerace.engine import Atomic, Program, ThreadSpec, Violation

    n = 30

    def a() -> toys.Body:
        for i in range(n):
            yield toys.Store(("a", i), 1)
        yield toys.Store("done", 1)

    def check(view: object, outcome: int) -> None:
        late = view.load(("a", n - 1))  # type: ignore[attr-defined]
        done = view.load("done")  # type: ignore[attr-defined]
        if late == 1 and done == 0:
            raise Violation("bug", "B ran between A's last two steps")

    def b() -> toys.Body:
        yield Atomic(check, "check")

    prog = Program([ThreadSpec("A", a), ThreadSpec("B", b)], {"done": 0})
    pct = explore(prog, "pct", Limits(max_executions=500), seed=1, pct_depth=2)
    rnd = explore(prog, "random", Limits(max_executions=500), seed=1)
    assert pct.violation is not None and pct.violation.kind == "bug"
    assert rnd.violation is None
    assert explore(prog, "dpor").violation is not None  # the exhaustive search finds it


def test_a_property_that_raises_is_an_exception_not_a_verdict() -> None:
    def body() -> Generator[Op, Any, None]:
        yield Store(("x",), 1)

    def broken(state: Mapping[Hashable, Any]) -> bool:
        return bool(state[("missing",)] == 1)  # KeyError: a bug in the property

    prog = Program(threads=[ThreadSpec("A", body)],
                   properties=[Property("broken", "at_end", broken)])
    r = explore(prog, "dpor")
    assert r.violation is not None and r.violation.kind == "exception"
    assert "KeyError" in r.violation.message
