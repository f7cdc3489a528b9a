"""Parallel exploration: one naive DFS or Source-DPOR search split over worker processes,
with the same result as one process.

`explore_parallel(factory, strategy, executor, ...)` runs the top part of the search
itself (subtree.py `TopSearch`, cut where splitplan.py says, or at one `depth`) and the
subtrees below the cuts in `executor` (a
`concurrent.futures.Executor`: a process pool, or a Dask cluster's executor). Everything
is merged in the order the sequential search visits it, so the verdict, the execution,
sleep-blocked and step counts, the distinct terminal states and the first violation (and
its schedule) are the sequential search's:

- a subtree's result is a function of its path and root sleep set (`Subtree`), so it is
  computed once, wherever and whenever, and used when the sequential order reaches it;
- DPOR's backtrack additions for the top nodes come back with the result and are applied
  in the sequential order before the top part moves on (in the style of Simsa, Bryant,
  Gibson, "Scalable Dynamic Partial Order Reduction", RV 2012, made deterministic);
- for DFS the subtrees to explore are known in advance: all are submitted at once. For
  DPOR they depend on those additions, so the explorer speculates: it enumerates the top
  part as if every enabled thread were explored (with DPOR's sleep sets) and keeps that
  many subtrees in flight ahead of the sequential order. A subtree asked for and not
  guessed is computed then; a guess never asked for is wasted work (counted in
  `result.parallel["wasted"]`), never part of the result;
- `max_executions` is exact too: a subtree that would overrun it is explored again in
  this process with the executions left. `max_seconds` is not (each worker stops on its
  own clock).

`factory` must be picklable (a module-level function, a `functools.partial` or a frozen
dataclass): the program's thread bodies are closures and cannot cross a process
boundary, so each worker builds the program itself (once per process when the factory is
hashable).

Leaves out: the random and pct samplers (run them with more samples instead), and load
balancing inside a subtree (a big subtree is one task: splitplan.py sizes the cuts).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass, field

from pagerace.engine.determinism import DeterminismCheck
from pagerace.engine.execution import Execution
from pagerace.engine.explorer import SOMETIMES
from pagerace.engine.limits import Budget, Limits
from pagerace.engine.preemption import PreemptionBound
from pagerace.engine.program import Program
from pagerace.engine.progress import INTERVAL, Progress, ProgressFn, Throttle
from pagerace.engine.result import ExplorationResult, Found
from pagerace.engine.runner import drive, run_one
from pagerace.engine.schedule import Schedule
from pagerace.engine.splitplan import Prefix, plan, uniform
from pagerace.engine.strategy import Strategy
from pagerace.engine.subtree import Request, Subtree, subtree_search, top_search
from pagerace.engine.tree import TreeSearch
from pagerace.engine.violation import ViolationRecord

ProgramFactory = Callable[[], Program]
SPLITTABLE = ("dfs", "dpor")


@dataclass
class SubtreeResult:
    """What a worker sends back: the subtree's share of the statistics, its terminal
    states and violations in order, and its backtrack additions for the top nodes."""

    executions: int = 0
    sleep_blocked: int = 0
    steps: int = 0
    max_depth: int = 0
    states: set[str] = field(default_factory=set)
    found: list[Found] = field(default_factory=list)
    hit: set[str] = field(default_factory=set)
    requests: list[Request] = field(default_factory=list)
    limit_hit: str | None = None


_PROGRAMS: dict[Hashable, Program] = {}


def _program(factory: ProgramFactory) -> Program:
    try:
        cached = _PROGRAMS.get(factory)
    except TypeError:  # not hashable: build it every time
        return factory()
    if cached is None:
        if len(_PROGRAMS) > 16:
            _PROGRAMS.clear()
        cached = _PROGRAMS[factory] = factory()
    return cached


def _wrap(search: TreeSearch, program: Program, limits: Limits,
          check_determinism: bool) -> Strategy:
    strat: Strategy = search
    if limits.preemption_bound is not None:
        strat = PreemptionBound(search, limits.preemption_bound)
    if check_determinism:
        strat = DeterminismCheck(strat, program)
    return strat


def explore_subtree(factory: ProgramFactory, strategy: str, sub: Subtree, limits: Limits,
                    stop_on_violation: bool, check_determinism: bool = True,
                    symmetry: bool = False) -> SubtreeResult:
    """Explore one subtree (runs in a worker)."""
    program = _program(factory)
    search = subtree_search(program, strategy, sub, symmetry)
    r = drive(program, _wrap(search, program, limits, check_determinism), limits,
              stop_on_violation, orbit=search.sym)
    s = r.stats
    return SubtreeResult(s.executions, s.sleep_blocked, s.steps, s.max_depth,
                         set(r.terminal_states), list(r.found),
                         {name for name, ok in r.sometimes.items() if ok},
                         search.requests(), r.limit_hit)


def frontier(program: Program, strategy: str, cuts: frozenset[Prefix], limits: Limits,
             speculate: bool = True, symmetry: bool = False) -> list[Subtree]:
    """The subtrees at `cuts`, in sequential order, as the top part would meet them
    (with `speculate`: as if every enabled thread were explored there)."""
    top = top_search(program, strategy, cuts, speculate, symmetry)
    strat = _wrap(top, program, limits, False)
    out: list[Subtree] = []
    while strat.new_execution():
        ex = Execution(program, limits.max_steps)
        run_one(ex, strat)
        if top.frontier is not None:
            out.append(top.frontier)
    return out


class _Pool:
    """The subtrees submitted, the guesses ahead of the sequential order, the results."""

    def __init__(self, executor: Executor, factory: ProgramFactory, strategy: str,
                 limits: Limits, stop: bool, determinism: bool, guesses: list[Subtree],
                 window: int, symmetry: bool) -> None:
        self.executor = executor
        self.symmetry = symmetry
        self.args = (factory, strategy)
        self.limits = limits
        self.stop = stop
        self.determinism = determinism
        self.guesses = guesses
        self.index = {g: k for k, g in enumerate(guesses)}
        self.next = 0
        self.window = window
        self.futures: dict[Subtree, Future[SubtreeResult]] = {}
        self.submitted = 0
        self.used = 0

    def _submit(self, sub: Subtree) -> None:
        self.futures[sub] = self.executor.submit(
            explore_subtree, *self.args, sub, self.limits, self.stop, self.determinism,
            self.symmetry)
        self.submitted += 1

    def top_up(self) -> None:
        while len(self.futures) < self.window and self.next < len(self.guesses):
            g = self.guesses[self.next]
            self.next += 1
            if g not in self.futures:
                self._submit(g)

    def get(self, sub: Subtree, tick: Callable[[], None]) -> SubtreeResult:
        k = self.index.get(sub)
        if k is not None:
            self.next = max(self.next, k + 1)
        if sub not in self.futures:
            self._submit(sub)
        self.top_up()
        fut = self.futures[sub]
        while not fut.done():
            wait([fut], timeout=INTERVAL)
            tick()
        del self.futures[sub]
        self.used += 1
        self.top_up()
        return fut.result()

    def close(self) -> None:
        for fut in self.futures.values():
            fut.cancel()
        self.futures.clear()


def _merge(result: ExplorationResult, sub: SubtreeResult, hit: set[str]) -> None:
    s = result.stats
    s.executions += sub.executions
    s.sleep_blocked += sub.sleep_blocked
    s.steps += sub.steps
    s.max_depth = max(s.max_depth, sub.max_depth)
    result.terminal_states |= sub.states
    result.found.extend(sub.found)
    hit |= sub.hit


def explore_parallel(factory: ProgramFactory, strategy: str, executor: Executor,
                     jobs: int, limits: Limits | None = None, stop_on_violation: bool = True,
                     depth: int | None = None, progress: ProgressFn | None = None,
                     check_determinism: bool = True, symmetry: bool = True
                     ) -> ExplorationResult:
    """Explore `factory()` with `strategy` ("dfs" or "dpor") split over `executor`
    (`jobs` workers); the same result as `explore` in one process (see the header)."""
    if strategy not in SPLITTABLE:
        raise ValueError(f"strategy {strategy!r} cannot run in parallel "
                         f"(only {', '.join(SPLITTABLE)})")
    limits = limits or Limits()
    if limits.preemption_bound is not None and strategy != "dfs":
        raise ValueError("a preemption bound needs the dfs strategy")
    program = factory()
    budget = Budget(limits)
    cuts = plan(program, limits, jobs) if depth is None else uniform(program, limits, depth)
    guesses = frontier(program, strategy, cuts, limits, symmetry=symmetry)
    # DFS's guesses are its frontier: submit them all; DPOR's only a window ahead
    window = len(guesses) if strategy == "dfs" else max(2, 2 * jobs)
    pool = _Pool(executor, factory, strategy, limits, stop_on_violation, check_determinism,
                 guesses, window, symmetry)
    top = top_search(program, strategy, cuts, symmetry=symmetry)
    strat = _wrap(top, program, limits, check_determinism)
    result = ExplorationResult(strategy=strategy, orbit=top.sym)
    throttle = Throttle(progress)
    sometimes = [p.name for p in program.properties_of("sometimes")]
    hit: set[str] = set()
    last_depth = 0

    def report(done: bool = False) -> None:
        elapsed = budget.elapsed()
        st = result.stats
        throttle.emit(Progress(st.executions, st.executions / elapsed if elapsed else 0.0,
                               len(result.terminal_states), last_depth, st.max_depth,
                               elapsed, top.estimate(), done))

    def tick() -> None:
        if throttle.due():
            report()

    try:
        more = strat.new_execution()
        while more:
            ex = Execution(program, limits.max_steps)
            sched = run_one(ex, strat)
            sub = top.frontier
            if sub is not None:
                got = pool.get(sub, tick)
                left = (None if limits.max_executions is None
                        else limits.max_executions - result.stats.executions)
                if left is not None and got.executions > left:
                    # the sequential search stops inside this subtree: explore it again
                    # here, up to the limit
                    got = explore_subtree(factory, strategy, sub, Limits(
                        left, limits.max_seconds, limits.max_steps, limits.preemption_bound),
                        stop_on_violation, check_determinism, symmetry)
                _merge(result, got, hit)
                last_depth = got.max_depth
                top.apply(got.requests)
                if got.found and stop_on_violation:
                    break
                if got.limit_hit is not None:
                    result.limit_hit = got.limit_hit
                    break
            else:
                hit |= ex.sometimes_hit
                last_depth = len(ex.events)
                if result.record(ex, sched, budget.elapsed()) and stop_on_violation:
                    break
            tick()
            if not strat.new_execution():
                result.complete = True
                break
            lim = budget.exhausted(result.stats.executions)
            if lim is not None:
                result.limit_hit = lim
                break
    finally:
        pool.close()
    if result.found and result.stats.first_violation_seconds is None:
        result.stats.first_violation_seconds = budget.elapsed()
    result.finish(sometimes, hit, budget.elapsed())
    result.parallel = {"jobs": jobs, "cuts": len(cuts),
                       "depth": max((len(c) for c in cuts), default=0), "subtrees": pool.used,
                       "submitted": pool.submitted,
                       "wasted": max(0, pool.submitted - pool.used)}
    if progress is not None:
        report(True)
    _vacuous(result, limits)
    return result


def _vacuous(result: ExplorationResult, limits: Limits) -> None:
    """As explore(): a complete search that never reached a `sometimes` property."""
    if result.complete and limits.preemption_bound is None and not result.found:
        missing = [name for name, ok in result.sometimes.items() if not ok]
        if missing:
            result.found.append(Found(ViolationRecord(
                SOMETIMES, "no execution reaches: " + ", ".join(missing)), Schedule(())))


__all__ = ["SPLITTABLE", "ProgramFactory", "SubtreeResult", "explore_parallel",
           "explore_subtree", "frontier"]
