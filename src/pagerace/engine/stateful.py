"""Stateful search: depth-first over canonical states with a visited set, symmetry
reduction and an ample-set partial-order reduction, in the manner of SPIN.

Algorithm: explicit-state depth-first search with a visited set (G. J. Holzmann, "The
Model Checker SPIN", IEEE TSE 23(5), 1997), over canonical states (canonical.py: shared
state plus each thread's result history, least over the program's symmetry group,
symmetry.py - Ip & Dill 1996), with ample sets (D. Peled, "All from one, one for all: on
model checking using representatives", CAV 1993; conditions C0-C3 as in Clarke, Grumberg
and Peled, "Model Checking", ch. 10).

Ample set: if an enabled thread's pending op has an empty footprint (a `Choose`, a
`Fence`, an `Atomic` that touches no location) it is independent of every transition of
every other thread, now and later, and changes nothing a property or instrument reads
(C1, C2), so its outcomes alone are explored from that state. C3 (the cycle proviso)
holds trivially: every step extends one thread's history, so no path returns to a state
and the state graph is acyclic.

States are kept alive by forking (forking.py): a transition forks the state's execution
and steps the fork; only the thread that moves re-creates its generator (by feeding it
its history), and only when it does not own it. Every transition is really executed, so
step violations, instruments, `always` properties and `sometimes` witnesses are checked on
every transition; a successor whose canonical key was seen before is dropped. A violation
is reported with the schedule from the initial state to it (`Schedule`), which the
stateless replay turns into a trace as for any other strategy.

Counts: `Stats.states` (canonical states stored), `Stats.transitions` (steps executed);
`executions` counts the end states reached (finished, deadlocked or violating), and
`distinct_states` the distinct terminal states up to symmetry.

Leaves out: weak memory models (a fork copies the state dict shallowly and the symmetry
does not rename thread views), preemption bounds, and hash-compacted visited sets.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pagerace.engine.canonical import Canon
from pagerace.engine.fingerprint import fingerprint
from pagerace.engine.forking import ForkingExecution
from pagerace.engine.limits import Budget, Limits
from pagerace.engine.program import Program
from pagerace.engine.progress import Progress, ProgressFn, Throttle
from pagerace.engine.result import ExplorationResult, Found
from pagerace.engine.schedule import Choice, Schedule
from pagerace.engine.symmetry import Symmetry, check_initial

NAME = "stateful"


@dataclass(eq=False)
class _Frame:
    ex: ForkingExecution
    path: tuple[Choice, ...]
    moves: Iterator[tuple[int, int]]


def moves(ex: ForkingExecution, por: bool) -> list[tuple[int, int]]:
    """The (thread, outcome) pairs to explore from `ex`'s state: an ample set if one
    exists, else every enabled thread's every distinct outcome."""
    enabled = ex.enabled()
    if por:
        for t in enabled:
            reads, writes = ex.footprint(t)
            if not reads and not writes:
                return [(t, o) for o in ex.outcomes(t)]
    return [(t, o) for t in enabled for o in ex.outcomes(t)]


class StatefulSearch:
    """One stateful exploration of a program."""

    def __init__(self, program: Program, limits: Limits, symmetry: bool = True,
                 por: bool = True) -> None:
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
        self.por = por
        self.name = NAME if self.sym is None else NAME + "+symmetry"

    def _terminal_fp(self, ex: ForkingExecution) -> str:
        if self.sym is None:
            return fingerprint(ex.state, tuple(ex.results))
        best: str | None = None
        for perm in self.sym.all_perms(ex.n):
            res = [None] * ex.n
            for t, r in enumerate(ex.results):
                res[perm[t]] = self.sym.rename_result(r, perm) if self.sym.mentions(r) else r
            fp = fingerprint(self.sym.rename_state(ex.state, perm), tuple(res))
            if best is None or fp < best:
                best = fp
        assert best is not None
        return best

    def run(self, stop_on_violation: bool = True,
            progress: ProgressFn | None = None) -> ExplorationResult:
        budget = Budget(self.limits)
        throttle = Throttle(progress)
        result = ExplorationResult(strategy=NAME)
        stats = result.stats
        hit: set[str] = set()
        sometimes = [p.name for p in self.program.properties_of("sometimes")]
        visited: set[bytes] = set()

        def end(ex: ForkingExecution, path: tuple[Choice, ...]) -> bool:
            """Account for an end state; True when the search stops here."""
            stats.executions += 1
            if ex.violation is not None:
                if stats.first_violation_seconds is None:
                    stats.first_violation_seconds = budget.elapsed()
                result.found.append(Found(ex.violation, Schedule(path)))
                return stop_on_violation
            result.terminal_states.add(self._terminal_fp(ex))
            return False

        root = ForkingExecution(self.program, self.canon, self.limits.max_steps)
        hit |= root.sometimes_hit
        stack: list[_Frame] = []
        stopped = False
        if root.violation is not None or root.finished() or root.check_deadlock():
            stopped = end(root, ())
        else:
            visited.add(root.key())
            stats.states = 1
            stack.append(_Frame(root, (), iter(moves(root, self.por))))
        while stack and not stopped:
            frame = stack[-1]
            mv = next(frame.moves, None)
            if mv is None:
                stack.pop()
                continue
            t, o = mv
            child = frame.ex.fork()
            child.step(t, o)
            stats.transitions += 1
            stats.steps += 1
            hit |= child.sometimes_hit
            path = (*frame.path, Choice(t, o))
            stats.max_depth = max(stats.max_depth, len(path))
            if child.violation is not None:
                stopped = end(child, path)
                continue
            key = child.key()
            if key in visited:
                continue
            visited.add(key)
            stats.states += 1
            if child.finished() or child.check_deadlock():
                stopped = end(child, path)
                continue
            stack.append(_Frame(child, path, iter(moves(child, self.por))))
            if throttle.due():
                throttle.emit(self._progress(result, budget, len(path), False))
            lim = budget.exhausted(stats.states)
            if lim is not None:
                result.limit_hit = lim
                break
        result.complete = not stack and result.limit_hit is None
        result.finish(sometimes, hit, budget.elapsed())
        if progress is not None:
            throttle.emit(self._progress(result, budget, 0, True))
        return result

    @staticmethod
    def _progress(result: ExplorationResult, budget: Budget, depth: int,
                  done: bool) -> Progress:
        elapsed = budget.elapsed()
        s = result.stats
        return Progress(s.states, s.states / elapsed if elapsed > 0 else 0.0,
                        len(result.terminal_states), depth, s.max_depth, elapsed,
                        None, done)


def explore_stateful(program: Program, limits: Limits, symmetry: bool = True,
                     por: bool = True, stop_on_violation: bool = True,
                     progress: ProgressFn | None = None) -> ExplorationResult:
    """Explore `program` statefully (see the module docstring)."""
    search = StatefulSearch(program, limits, symmetry, por)
    return search.run(stop_on_violation, progress)


__all__ = ["NAME", "StatefulSearch", "explore_stateful", "moves"]
