"""Stateful search: depth-first over canonical states with a visited set, symmetry
reduction and an ample-set partial-order reduction, in the manner of SPIN.

Algorithm: explicit-state depth-first search with a visited set (G. J. Holzmann, "The
Model Checker SPIN", IEEE TSE 23(5), 1997), over canonical states (canonical.py: shared
state plus each thread's result history, least over the program's symmetry group,
symmetry.py - Ip & Dill 1996), with ample sets (D. Peled, "All from one, one for all: on
model checking using representatives", CAV 1993; conditions C0-C3 as in Clarke, Grumberg
and Peled, "Model Checking", ch. 10).

Ample sets (mayaccess.py): an enabled thread's pending op is taken alone from a state
when it conflicts with nothing any other live thread may ever access and writes nothing a
property predicate reads. "May ever access" is each thread's may-access set: learned from
seeded random runs and from every footprint the search computes (every executed step and
every pending op of every live thread, enabled or blocked), closed under the symmetry.
When a set grows during a search, the search goes on with the larger sets (so one search
learns all it can) and then starts again from scratch (`Stats.restarts`); only a search
during which no set grew is reported (a violation found on the way is real and stands).
The op's own footprint is exact (computed on the state). A step taken alone that raises
a violation ends the path, so it disables every other thread and breaks C1: the state's
other threads are then explored too (`_unample`), and one violation never hides another.
C1 then holds for every path the
sets cover; a path that leaves them has a first step outside them, and the prefix before
that step is covered, so an equivalent prefix is explored and the thread reaches the same
program point and pending op there: the search sees it and its sets grow - so a search in
which no set grew used sets that cover every reachable step. C2: steps that write a
predicate's location are never taken alone, and instruments see the events of every
explored path (as under DPOR, an instrument must judge a step by the step itself). C3
(the cycle proviso) holds trivially: every step extends one thread's history, so no path
returns to a state and the state graph is acyclic.

`por=False` (the default) uses no sets, only the ample sets that need none: an op with an
empty footprint (a `Choose`, a `Fence`, an `Atomic` that touches no location) commutes
with everything and changes nothing anything reads. On the walker scenario nearly every
step conflicts with another thread's later step, so the learned sets cut states by 4%
while their one restart doubles the time: they are an option, not the default.

States are kept alive by forking (forking.py): a transition forks the state's execution
and steps the fork; only the thread that moves re-creates its generator (by feeding it
its history), and only when it does not own it. A state's last move steps the state's
own execution (no fork), and a fork takes over its parent's generator of the thread that
moves when no later move of the parent is that thread's. Every transition is really
executed, so step violations, instruments, `always` properties and `sometimes`
witnesses are checked on every transition; a successor whose canonical key was seen
before is dropped. A violation is reported with the schedule from the initial state to
it (`Schedule`), which the stateless replay turns into a trace as for any other strategy.

Counts: `Stats.states` (canonical states stored), `Stats.transitions` (steps executed);
`executions` counts the end states reached (finished, deadlocked or violating), and
`distinct_states` the distinct terminal states up to symmetry.

The visited set holds canonical keys whose thread-invariant part is a 128-bit hash
(canonical.py: hash compaction as SPIN's -DHC; the chance that it merges two distinct
states is below N**2 / 2**129 for N states). An `Atomic` step that runs again from the
same program point on the same values is re-applied from its record (memo.py).

Leaves out: weak memory models (a fork copies the state dict shallowly and the symmetry
does not rename thread views), preemption bounds, and a bit-state visited set.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, NamedTuple

from pagerace.engine.canonical import Canon, tag_results
from pagerace.engine.fingerprint import fingerprint
from pagerace.engine.forking import ForkingExecution
from pagerace.engine.limits import Budget, Limits
from pagerace.engine.mayaccess import MayAccess
from pagerace.engine.memo import Record
from pagerace.engine.program import Program
from pagerace.engine.progress import Progress, ProgressFn, Throttle
from pagerace.engine.result import ExplorationResult, Found
from pagerace.engine.schedule import Choice, Schedule
from pagerace.engine.symmetry import Symmetry, check_initial, orbit_fingerprint

NAME = "stateful"
SEED_RUNS = 16  # random executions that seed the may-access sets


class _Path(NamedTuple):
    """The schedule to a state, as a list linked to its parent's (a step is O(1))."""

    up: _Path | None
    choice: Choice
    depth: int


def _choices(path: _Path | None) -> tuple[Choice, ...]:
    out = []
    while path is not None:
        out.append(path.choice)
        path = path.up
    out.reverse()
    return tuple(out)


@dataclass(eq=False)
class _Frame:
    ex: ForkingExecution
    path: _Path | None
    moves: list[tuple[int, int]]
    ample: bool  # the moves are one thread's, taken alone
    next: int = 0


def moves(ex: ForkingExecution, may: MayAccess | None) -> tuple[list[tuple[int, int]], bool]:
    """The (thread, outcome) pairs to explore from `ex`'s state, and whether they are an
    ample set (one thread's, taken alone) rather than every enabled thread's every
    distinct outcome. With `may`, every live thread's pending footprint is recorded in it
    on the way."""
    enabled = ex.enabled()
    if may is None:  # only the rule that needs no sets: an op that touches nothing
        if len(enabled) > 1:
            for t in enabled:
                reads, writes = ex.footprint(t)
                if not reads and not writes:
                    return [(t, o) for o in ex.outcomes(t)], True
        return others(ex, enabled, None), False
    live = [t for t in range(ex.n) if ex.pending[t] is not None]
    fps = {t: ex.footprint(t) for t in live}
    for t in live:  # learned even where nothing is to decide (a blocked thread's op)
        may.observe(t, ex.steps[t], fps[t])
    if len(enabled) > 1:
        for t in enabled:
            if may.independent(t, fps[t], ex.steps, live):
                return [(t, o) for o in ex.outcomes(t)], True
    return others(ex, enabled, None), False


def others(ex: ForkingExecution, enabled: list[int], but: int | None
           ) -> list[tuple[int, int]]:
    """Every distinct outcome of every thread of `enabled` (`ex`'s) other than `but`."""
    return [(t, o) for t in enabled if t != but for o in ex.outcomes(t)]


class _Restart(Exception):
    """A may-access set grew: the search starts again with the larger sets."""


class StatefulSearch:
    """One stateful exploration of a program."""

    def __init__(self, program: Program, limits: Limits, symmetry: bool = True,
                 por: bool = False) -> None:
        if program.memory != "sc":
            raise ValueError("the stateful strategy supports only the sc memory model")
        if limits.preemption_bound is not None:
            raise ValueError("a preemption bound needs the dfs strategy")
        self.program = program
        self.limits = limits
        self.sym: Symmetry | None = program.symmetry if symmetry else None
        n = len(program.threads)
        if self.sym is not None:
            check_initial(self.sym, program.initial, n)
        self.canon = Canon(program.initial, n, self.sym)
        self.memo: dict[tuple[int, int, int], Record] = {}  # memo.py, shared by all forks
        self.next_ops: dict[tuple[int, int], tuple[bool, Any]] = {}  # forking.py, likewise
        self.por = por
        self._fps: dict[tuple[frozenset[int], Hashable], str] = {}
        self.name = NAME if self.sym is None else NAME + "+symmetry"

    def _terminal_fp(self, ex: ForkingExecution) -> str:
        """The terminal state's fingerprint (least over the symmetry group), computed once
        per distinct state: the in-process key is the state's item ids and its results."""
        key = (frozenset(ex.items.values()), tag_results(ex.results))
        got = self._fps.get(key)
        if got is None:
            got = self._fps[key] = self._terminal_fp_of(ex)
        return got

    def _terminal_fp_of(self, ex: ForkingExecution) -> str:
        if self.sym is None:
            return fingerprint(ex.state, tuple(ex.results))
        return orbit_fingerprint(self.sym, ex.state, ex.results)

    def run(self, stop_on_violation: bool = True,
            progress: ProgressFn | None = None) -> ExplorationResult:
        budget = Budget(self.limits)
        throttle = Throttle(progress)
        may: MayAccess | None = None
        if self.por:
            may = MayAccess(self.program, self.sym)
            may.seed(self.program, SEED_RUNS, self.limits.max_steps)
        restarts = 0
        while True:
            if may is not None:
                may.grew = False
            try:
                result = self._search(may, budget, throttle, stop_on_violation)
            except _Restart:
                restarts += 1
                continue
            break
        result.stats.restarts = restarts
        if progress is not None:
            throttle.emit(self._progress(result, budget, 0, True))
        return result

    def _search(self, may: MayAccess | None, budget: Budget, throttle: Throttle,
                stop_on_violation: bool) -> ExplorationResult:
        result = ExplorationResult(strategy=NAME, orbit=self.sym)  # fps are the search's own
        stats = result.stats
        hit: set[str] = set()
        sometimes = [p.name for p in self.program.properties_of("sometimes")]
        visited: set[bytes] = set()
        found: list[Found] = []

        def end(ex: ForkingExecution, path: _Path | None) -> bool:
            """Account for an end state; True when the search stops here."""
            stats.executions += 1
            if ex.violation is not None:
                if stats.first_violation_seconds is None:
                    stats.first_violation_seconds = budget.elapsed()
                found.append(Found(ex.violation, Schedule(_choices(path))))
                return stop_on_violation
            result.terminal_states.add(self._terminal_fp(ex))
            return False

        root = ForkingExecution(self.program, self.canon, self.limits.max_steps, self.memo,
                              self.next_ops)
        hit |= root.sometimes_hit
        stack: list[_Frame] = []
        stopped = False
        if root.violation is not None or root.finished() or root.check_deadlock():
            stopped = end(root, None)
        else:
            visited.add(root.key())
            stats.states = 1
            stack.append(_Frame(root, None, *moves(root, may)))
        while stack and not stopped:
            frame = stack[-1]
            if frame.next >= len(frame.moves):
                stack.pop()
                continue
            t, o = frame.moves[frame.next]
            frame.next += 1
            if frame.next == len(frame.moves):
                stack.pop()  # its last move: the child takes over its execution
                child = frame.ex
            else:  # the child may have t's generator if no later move of this frame is t's
                later = frame.moves[frame.next:]
                child = frame.ex.fork(None if any(m[0] == t for m in later) else t)
            ev = child.step(t, o)
            stats.transitions += 1
            stats.steps += 1
            if may is not None:
                may.observe(t, ev.pos - 1, ev.fp)
                may.observe_properties(child.visible)
            hit |= child.sometimes_hit
            depth = frame.path.depth + 1 if frame.path is not None else 1
            path = _Path(frame.path, Choice(t, o), depth)
            if depth > stats.max_depth:
                stats.max_depth = depth
            if child.violation is not None:
                stopped = end(child, path)
                if frame.ample and not stopped:
                    self._unample(frame, t, stack)
                continue
            key = child.key()
            if key in visited:
                continue
            visited.add(key)
            stats.states += 1
            if child.finished() or child.check_deadlock():
                stopped = end(child, path)
                continue
            stack.append(_Frame(child, path, *moves(child, may)))
            if throttle.due():
                throttle.emit(self._progress(result, budget, depth, False))
            lim = budget.exhausted(stats.states)
            if lim is not None:
                result.limit_hit = lim
                break
        if may is not None and may.grew and result.limit_hit is None \
                and not (stopped and found):
            raise _Restart  # the sets grew: this search's ample sets may have been too big
        result.found.extend(found)
        result.complete = not stack and result.limit_hit is None
        result.finish(sometimes, hit, budget.elapsed())
        return result

    def _unample(self, frame: _Frame, t: int, stack: list[_Frame]) -> None:
        """A step taken alone raised a violation, so it disabled every other thread (C1
        fails): the state's other enabled threads are explored too. The frame's
        execution is still the state's unless that step was its last move; then the
        state is rebuilt from its schedule."""
        frame.ample = False
        if frame.next < len(frame.moves):
            frame.moves.extend(others(frame.ex, frame.ex.enabled(), t))
            return
        ex = ForkingExecution(self.program, self.canon, self.limits.max_steps, self.memo,
                              self.next_ops)
        for c in _choices(frame.path):
            ex.step(c.thread, c.outcome)
        stack.append(_Frame(ex, frame.path, others(ex, ex.enabled(), t), False))

    @staticmethod
    def _progress(result: ExplorationResult, budget: Budget, depth: int,
                  done: bool) -> Progress:
        elapsed = budget.elapsed()
        s = result.stats
        return Progress(s.states, s.states / elapsed if elapsed > 0 else 0.0,
                        len(result.terminal_states), depth, s.max_depth, elapsed,
                        None, done)


def explore_stateful(program: Program, limits: Limits, symmetry: bool = True,
                     por: bool = False, stop_on_violation: bool = True,
                     progress: ProgressFn | None = None) -> ExplorationResult:
    """Explore `program` statefully (see the module docstring)."""
    search = StatefulSearch(program, limits, symmetry, por)
    return search.run(stop_on_violation, progress)


__all__ = ["NAME", "StatefulSearch", "explore_stateful", "moves"]
