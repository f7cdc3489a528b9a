"""The driver: the one loop that runs executions chosen by a strategy (strategy.py).

`run_one` drives a single execution to its end: it asks the strategy for a choice and
applies it with `Execution.step` until a violation or until the strategy returns None
(every thread finished, no thread enabled - then a deadlock is recorded - or a cut).
`drive` repeats that until the strategy has no execution left, a violation stops the
search, or a limit is hit, accounting for every execution in one `ExplorationResult` and
reporting progress.
"""

from __future__ import annotations

from collections.abc import Callable

from pagerace.engine.execution import Execution
from pagerace.engine.limits import Budget, Limits
from pagerace.engine.program import Program
from pagerace.engine.progress import Progress, ProgressFn, Throttle
from pagerace.engine.result import ExplorationResult
from pagerace.engine.schedule import Schedule
from pagerace.engine.strategy import Strategy
from pagerace.engine.symmetry import Symmetry


def run_one(ex: Execution, strategy: Strategy) -> Schedule | None:
    """Run `ex` to its end under `strategy`; the schedule, or None if cut off.

    The loop asks the strategy even when every thread has finished (no thread is
    enabled, so it returns None): that saves a check of every thread per step."""
    while ex.violation is None:
        c = strategy.next_choice(ex)
        if c is None:
            ex.check_deadlock()
            break
        ex.step(c.thread, c.outcome)
    return strategy.finish(ex)


def _progress(result: ExplorationResult, strategy: Strategy, budget: Budget, depth: int,
              done: bool) -> Progress:
    elapsed = budget.elapsed()
    stats = result.stats
    return Progress(stats.executions, stats.executions / elapsed if elapsed > 0 else 0.0,
                    len(result.terminal_states), depth, stats.max_depth, elapsed,
                    strategy.estimate(), done)


def drive(program: Program, strategy: Strategy, limits: Limits, stop_on_violation: bool,
          progress: ProgressFn | None = None,
          on_execution: Callable[[Execution], None] | None = None,
          orbit: Symmetry | None = None) -> ExplorationResult:
    """Explore `program` with `strategy`; `on_execution` sees every maximal execution.
    With `orbit`, terminal states are counted up to that symmetry."""
    budget = Budget(limits)
    throttle = Throttle(progress)
    result = ExplorationResult(strategy=strategy.name, orbit=orbit)
    sometimes = [p.name for p in program.properties_of("sometimes")]
    hit: set[str] = set()
    depth = 0
    more = strategy.new_execution()
    while more:
        ex = Execution(program, limits.max_steps)
        sched = run_one(ex, strategy)
        hit |= ex.sometimes_hit
        depth = len(ex.events)
        if sched is not None and on_execution is not None:
            on_execution(ex)
        if result.record(ex, sched, budget.elapsed()) and stop_on_violation:
            break
        if throttle.due():  # before the strategy moves on, so its estimate is current
            throttle.emit(_progress(result, strategy, budget, depth, False))
        if not strategy.new_execution():
            result.complete = strategy.exhaustive
            break
        lim = budget.exhausted(result.stats.executions)
        if lim is not None:
            result.limit_hit = lim
            break
    result.finish(sometimes, hit, budget.elapsed())
    if progress is not None:
        throttle.emit(_progress(result, strategy, budget, depth, True))
    return result
