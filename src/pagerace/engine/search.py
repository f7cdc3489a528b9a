"""Stateless systematic search: naive exhaustive DFS and Source-DPOR with sleep sets.

Algorithm: Source-DPOR, Algorithm 1 of P. Abdulla, S. Aronis, B. Jonsson, K. Sagonas,
"Optimal Dynamic Partial Order Reduction", POPL 2014 (and JACM 2017), with sleep sets
(P. Godefroid, LNCS 1032, 1996). Every maximal execution it completes belongs to a
different Mazurkiewicz trace (sleep sets guarantee that); every trace is covered (source
sets guarantee that). Where source sets alone would start a redundant exploration the
sleep set cuts it off early: such partial runs are counted as `sleep_blocked`, not as
executions. Wakeup trees (the "optimal" algorithm of the same paper) would avoid those
partial runs too; they are not implemented.

Happens-before is tracked with vector clocks: an event's immediate predecessors are its
thread's previous event and the latest dependent events of other threads not already
ordered before a later predecessor; an immediate predecessor on another thread is a race.
For a race e ⋖ e' the algorithm computes v = notdep(e, E).e' and adds an initial of v
(an enabled one) to the backtrack set of the state before e unless one is already there.
A race whose reversal would need a blocked `Await` to run early is not reversible and is
skipped. Blocking needs two additions: an `Await` races with every dependent write of
another thread before it, not only its immediate predecessors (it may have to go before
the write that disabled it, which an enabling write hides); and a thread still blocked
when a run ends never executes, so its await is analysed as a virtual last event.

Nondeterministic ops (several outcomes) make an event a (thread, outcome) pair: sleep sets
hold such events, so an explored outcome sleeps while the thread's other outcomes are
still explored after it.

Naive DFS explores every enabled thread at every state (and every distinct outcome of a
nondeterministic op): the reference the reductions are cross-checked against. With a
preemption bound it becomes iterative context bounding's inner search (Musuvathi & Qadeer,
PLDI 2007): a switch away from a still-enabled thread costs one preemption.

The search is stateless: each execution re-runs the program from the start along the
stack of choices (generators cannot be copied). No state caching is done: thread-local
state lives in the generators and has no canonical form.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Literal

from pagerace.engine.execution import Event, Execution, Footprint, dependent
from pagerace.engine.limits import Budget, Limits
from pagerace.engine.ops import Await
from pagerace.engine.program import Program
from pagerace.engine.result import ExplorationResult
from pagerace.engine.schedule import Choice, Schedule

Mode = Literal["dfs", "dpor"]


@dataclass(eq=False)
class SleepEntry:
    """A thread's sleeping events: its op's distinct outcomes and those asleep (with fps)."""

    outs: tuple[int, ...]
    asleep: dict[int, Footprint]

    def full(self) -> bool:
        return all(o in self.asleep for o in self.outs)


@dataclass(eq=False)
class Node:
    """A state on the current path and the choices made or pending there."""

    enabled: list[int]
    prev: int  # thread of the previous event (-1 at the root)
    preemptions: int  # preemptions on the path before this node
    backtrack: set[int] = field(default_factory=set)
    done: set[int] = field(default_factory=set)
    sleep: dict[int, SleepEntry] = field(default_factory=dict)
    thread: int = -1
    outcomes: list[int] | None = None  # the outcomes of `thread` explored here
    all_outcomes: tuple[int, ...] = ()
    oi: int = 0
    event: Event | None = None

    def choice(self) -> Choice:
        assert self.outcomes is not None
        return Choice(self.thread, self.outcomes[self.oi])


class TreeSearch:
    def __init__(self, program: Program, mode: Mode, limits: Limits,
                 stop_on_violation: bool,
                 on_execution: Callable[[Execution], None] | None = None) -> None:
        self.program = program
        self.on_execution = on_execution
        self.mode = mode
        self.limits = limits
        self.stop = stop_on_violation
        self.nthreads = len(program.threads)
        self.result = ExplorationResult(strategy=mode)
        self.stack: list[Node] = []
        # per run: each location's last write, the reads since, every write; and each
        # thread's last event
        self.last_write: dict[Hashable, int] = {}
        self.reads_since: dict[Hashable, list[int]] = {}
        self.writes_all: dict[Hashable, list[int]] = {}
        self.last: list[int] = [-1] * self.nthreads

    # -- DPOR race analysis --------------------------------------------------------------
    def _analyze(self, i: int, e: Event | None = None) -> None:
        """Clock event `e` (default: the event of node i) against stack[:i]; reverse races."""
        stack = self.stack
        if e is None:
            e = stack[i].event
        assert e is not None
        p = e.thread
        efp = e.fp
        # candidate predecessors from this run's per-location index: the last write of
        # each location touched and, for a write, the reads since then (earlier accesses
        # happen before those and cannot be immediate predecessors); an await looks at
        # every earlier write of what it reads
        found: set[int] = set()
        last_write = self.last_write
        for loc in efp[1]:
            w = last_write.get(loc)
            if w is not None:
                found.add(w)
            found.update(self.reads_since.get(loc, ()))
        for loc in efp[0]:
            w = last_write.get(loc)
            if w is not None:
                found.add(w)
            if e.is_await:
                found.update(self.writes_all.get(loc, ()))
        cand = sorted((j for j in found if j < i and stack[j].thread != p), reverse=True)
        prev = self.last[p]
        if prev >= 0:
            cand.append(prev)
            cand.sort(reverse=True)
        clock = [0] * self.nthreads
        races: list[int] = []
        for j in cand:
            f = stack[j].event
            assert f is not None
            if clock[f.thread] >= f.pos:
                continue
            if f.thread != p:
                races.append(j)
            fvc = f.vc
            for k in range(self.nthreads):
                if fvc[k] > clock[k]:
                    clock[k] = fvc[k]
        clock[p] = e.pos
        e.vc = clock
        if e.is_await:
            # an await can also go before a write that disabled it, which need not be its
            # immediate predecessor: try every dependent write of another thread
            races = [j for j in cand if stack[j].thread != p]
        for j in races:
            self._reverse(j, i, e)

    def _index(self, i: int) -> None:
        """Record the event of node i in this run's per-location access index."""
        e = self.stack[i].event
        assert e is not None
        reads, writes = e.fp
        for loc in writes:
            self.last_write[loc] = i
            self.reads_since[loc] = []
            self.writes_all.setdefault(loc, []).append(i)
        for loc in reads:
            if loc not in writes:
                self.reads_since.setdefault(loc, []).append(i)
        self.last[e.thread] = i

    def _analyze_blocked(self, ex: Execution) -> None:
        """A thread still blocked when the run ends races with the writes that disabled
        it: analyse its pending `Await` as if it were the next event."""
        end = len(self.stack)
        for t in range(ex.n):
            if ex.pending[t] is not None and isinstance(ex.pending[t], Await) \
                    and not ex.is_enabled(t):
                virtual = Event(end, t, ex.steps[t] + 1, "blocked", 0, ex.footprint(t), None,
                                is_await=True)
                self._analyze(end, virtual)

    def _reverse(self, j: int, i: int, ei: Event) -> None:
        stack = self.stack
        ej = stack[j].event
        assert ej is not None
        v: list[Event] = []
        for k in range(j + 1, i):
            ek = stack[k].event
            assert ek is not None
            if ek.vc[ej.thread] < ej.pos:
                v.append(ek)
        v.append(ei)
        initials: list[int] = []
        seen: set[int] = set()
        for idx, ek in enumerate(v):
            if ek.thread in seen:
                continue
            seen.add(ek.thread)
            if not any(ek.vc[em.thread] >= em.pos for em in v[:idx]):
                initials.append(ek.thread)
        node = stack[j]
        if node.backtrack.intersection(initials):
            return
        usable = [q for q in initials if q in node.enabled]
        if not usable:
            return  # not reversible: the later step was blocked before the earlier one
        q = ei.thread if ei.thread in usable else usable[0]
        node.backtrack.add(q)

    # -- choosing ---------------------------------------------------------------------
    def _allowed(self, node: Node, t: int) -> bool:
        bound = self.limits.preemption_bound
        if bound is None or self.mode != "dfs":
            return True
        cost = 1 if (node.prev >= 0 and node.prev != t and node.prev in node.enabled) else 0
        return node.preemptions + cost <= bound

    @staticmethod
    def _asleep(node: Node, t: int) -> bool:
        entry = node.sleep.get(t)
        return entry is not None and entry.full()

    def _pick(self, node: Node, options: list[int]) -> int:
        return node.prev if node.prev in options else options[0]

    def _new_node(self, ex: Execution, enabled: list[int]) -> Node | None:
        """A node for the current state, with its first choice; None if sleep-blocked."""
        parent = self.stack[-1] if self.stack else None
        prev = parent.thread if parent else -1
        pre = 0
        if parent is not None:
            pre = parent.preemptions + (
                1 if parent.prev >= 0 and parent.prev != parent.thread
                and parent.prev in parent.enabled else 0)
        node = Node(enabled=enabled, prev=prev, preemptions=pre)
        if self.mode == "dpor" and parent is not None:
            assert parent.event is not None
            efp = parent.event.fp
            for q, entry in parent.sleep.items():
                if q == parent.thread:
                    continue
                awake = {o: fp for o, fp in entry.asleep.items() if not dependent(fp, efp)}
                if awake:
                    node.sleep[q] = SleepEntry(entry.outs, awake)
        options = [t for t in enabled if not self._asleep(node, t) and self._allowed(node, t)]
        if not options:
            return None
        if self.mode == "dfs":
            node.backtrack = set(options)
        else:
            node.backtrack = {self._pick(node, options)}
        node.thread = self._pick(node, options)
        return node

    # -- the loop ---------------------------------------------------------------------
    def _step(self, ex: Execution, node: Node) -> None:
        if node.outcomes is None:
            node.all_outcomes = tuple(ex.outcomes(node.thread))
            entry = node.sleep.get(node.thread)
            node.outcomes = [o for o in node.all_outcomes
                             if entry is None or o not in entry.asleep]
        ev = ex.step(node.thread, node.outcomes[node.oi])
        if node.event is not None:
            ev.vc = node.event.vc  # a replayed step: same event, same clock
        node.event = ev

    def run(self) -> ExplorationResult:
        budget = Budget(self.limits)
        sometimes = {p.name for p in self.program.properties_of("sometimes")}
        hit: set[str] = set()
        while True:
            ex = Execution(self.program, self.limits.max_steps)
            # replay the stack; nodes whose event is unknown get analysed afresh
            dpor = self.mode == "dpor"
            self.last_write, self.reads_since, self.writes_all = {}, {}, {}
            self.last = [-1] * self.nthreads
            for i, node in enumerate(self.stack):
                fresh = node.event is None
                self._step(ex, node)
                if dpor:
                    if fresh:
                        self._analyze(i)
                    self._index(i)
            blocked = False
            while ex.violation is None and not ex.finished():
                enabled = ex.enabled()
                if ex.check_deadlock(enabled):
                    break
                new = self._new_node(ex, enabled)
                if new is None:
                    blocked = True
                    break
                self.stack.append(new)
                self._step(ex, new)
                if dpor:
                    self._analyze(len(self.stack) - 1)
                    self._index(len(self.stack) - 1)
            if self.mode == "dpor":
                self._analyze_blocked(ex)
            hit |= ex.sometimes_hit
            if not blocked and self.on_execution is not None:
                self.on_execution(ex)
            sched = None if blocked else Schedule(tuple(n.choice() for n in self.stack))
            if self.result.record(ex, sched, budget.elapsed()) and self.stop:
                break
            if not self._backtrack():
                self.result.complete = True
                break
            lim = budget.exhausted(self.result.stats.executions)
            if lim is not None:
                self.result.limit_hit = lim
                break
        self.result.finish(sometimes, hit, budget.elapsed())
        return self.result

    def _backtrack(self) -> bool:
        while self.stack:
            node = self.stack[-1]
            assert node.outcomes is not None and node.event is not None
            if self.mode == "dpor":
                entry = node.sleep.setdefault(node.thread, SleepEntry(node.all_outcomes, {}))
                entry.asleep[node.outcomes[node.oi]] = node.event.fp
            if node.oi + 1 < len(node.outcomes):
                node.oi += 1
                node.event = None
                return True
            node.done.add(node.thread)
            rest = sorted(t for t in node.backtrack
                          if t not in node.done and not self._asleep(node, t)
                          and self._allowed(node, t))
            if rest:
                node.thread = self._pick(node, rest)
                node.outcomes = None
                node.oi = 0
                node.event = None
                return True
            self.stack.pop()
        return False


def tree_search(program: Program, mode: Mode, limits: Limits | None = None,
                stop_on_violation: bool = True,
                on_execution: Callable[[Execution], None] | None = None) -> ExplorationResult:
    """Explore `program`; `on_execution` sees every maximal execution (for measurements)."""
    return TreeSearch(program, mode, limits or Limits(), stop_on_violation, on_execution).run()
