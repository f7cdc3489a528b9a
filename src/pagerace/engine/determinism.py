"""The nondeterminism check: a wrapper that makes sure re-running a schedule gives the
same events.

The search is stateless: every execution re-runs the program from the start and relies
on a thread doing exactly what it did before when it receives the same results. A body
that is not a deterministic function of the results it receives (it reads a global
counter, a clock, `random`, or state kept outside the engine's state) silently breaks
that. Two checks, each a `NondeterminismError` naming the schedule, the thread and what
differed:

- per thread: a thread that has received the same sequence of results must yield the
  same next op (kind, label, and the location of a single-location op) or finish, in
  every execution. Result sequences are interned as ids, so this costs a dict look-up
  per step; the tables stop growing at `MAX_HISTORIES` entries (what they hold is still
  checked).
- per replay: as long as an execution makes the same choices as the previous one, each
  step must have the same thread, outcome, label, footprint and result (this catches an
  `Atomic` function that is not deterministic), and the execution must end, or go on,
  where the previous one did. Consecutive executions of a tree search share the prefix
  up to the backtrack point, so every replayed step is compared - really re-run on its
  first replay; later replays of the same node re-apply the recorded effects (tree.py),
  so a step is checked once, not at every replay.

A store-buffer drain (a weak model's step that leaves the op pending) sends no result, so
it does not extend the thread's history; a finished thread still draining counts as
finished.

Leaves out: steps that end in a violation (what a thread does after one is not
recorded), and nondeterminism in an `Atomic` function on a step no execution replays.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from pagerace.engine.execution import Execution
from pagerace.engine.memory.stepping import DRAIN_OP
from pagerace.engine.ops import Await
from pagerace.engine.program import Program
from pagerace.engine.schedule import Choice, Schedule
from pagerace.engine.statekey import tag
from pagerace.engine.strategy import Strategy

MAX_HISTORIES = 1_000_000
_SCALARS = frozenset((int, str, bool, type(None)))
_MISSING = object()


class NondeterminismError(ValueError):
    """A thread body that is not a deterministic function of its inputs."""


def _result_key(value: Any) -> Hashable:
    try:
        return tag(value)
    except TypeError:
        return type(value).__name__


def _describe(key: Hashable) -> str:
    if key is None:
        return "finished"
    assert isinstance(key, tuple)
    where = "" if key[2] is None else f" of {key[2]!r}"
    return f"yielded {key[0].__name__} {key[1]!r}{where}"


class DeterminismCheck:
    def __init__(self, inner: Strategy, program: Program) -> None:
        self.inner = inner
        self.name = inner.name
        self.exhaustive = inner.exhaustive
        self.threads = [t.name for t in program.threads]
        self.histories: dict[tuple[int, Hashable], int] = {}  # (history, result) -> id
        self.next_op: dict[tuple[int, int], Hashable] = {}  # (thread, history) -> op key
        self.hist = [0] * len(self.threads)
        self.prev_choices: list[tuple[int, int]] = []  # (thread, outcome) per step
        self.prev_sigs: list[tuple[Any, ...]] = []
        self.prev_over = False  # the previous execution ended by itself (not by a None)
        self.asked_none = False
        self.choices: list[tuple[int, int]] = []
        self.sigs: list[tuple[Any, ...]] = []
        self.same = True  # the choices so far equal the previous execution's
        self.rooted = False  # the threads' first ops were checked

    def new_execution(self) -> bool:
        if self.choices or self.sigs:
            self.prev_choices, self.prev_sigs = self.choices, self.sigs
        self.choices, self.sigs = [], []
        self.same = True
        self.asked_none = False
        self.rooted = False
        self.hist = [0] * len(self.threads)
        return self.inner.new_execution()

    def _fail(self, k: int, what: str) -> None:
        sched = Schedule.of(self.choices[:k + 1])
        where = f"running schedule {sched}" if len(sched) else "at the start of a run"
        raise NondeterminismError(
            f"nondeterministic program: {where}, {what}; "
            "a thread body must be a deterministic function of the results it receives "
            "and keep all shared state in the engine's state")

    def _thread_op(self, ex: Execution, t: int, k: int) -> None:
        op = ex.pending[t]
        key = None if op is None or op is DRAIN_OP \
            else (type(op), op.label, getattr(op, "loc", None))
        slot = (t, self.hist[t])
        old = self.next_op.get(slot, _MISSING)
        if old is _MISSING:
            if len(self.next_op) < MAX_HISTORIES:
                self.next_op[slot] = key
        elif old != key:
            self._fail(k, f"thread {self.threads[t]} {_describe(key)} where, after the "
                          f"same results, it {_describe(old)} in an earlier run")

    def _check(self, ex: Execution) -> None:
        if not self.rooted:
            self.rooted = True
            if ex.violation is None:
                for t in range(ex.n):
                    self._thread_op(ex, t, -1)
        k = len(self.sigs)
        if k < len(ex.events):  # one new event at most
            ev = ex.events[k]
            r = ev.result
            rk = (type(r), r) if type(r) in _SCALARS else _result_key(r)
            t = ev.thread
            sig = (t, ev.outcome, ev.label, ev.fp, rk)
            self.sigs.append(sig)
            h = self.hist[t]
            if ex.violation is None and h >= 0 and not ev.drain:
                key = (h, rk)
                h = self.histories.get(key, 0)
                if h == 0:
                    h = len(self.histories) + 1 if len(self.histories) < MAX_HISTORIES else -1
                    if h > 0:
                        self.histories[key] = h
                self.hist[t] = h  # -1: the table is full; this thread goes unchecked
                if h > 0:
                    self._thread_op(ex, t, k)
            if not self.same or k >= len(self.prev_sigs):
                return
            if self.choices[k] != self.prev_choices[k]:
                self.same = False
                return
            old = self.prev_sigs[k]
            if sig != old:
                fields = ("thread", "outcome", "label", "footprint", "result")
                diff = [f for f, a, b in zip(fields, sig, old, strict=True) if a != b]
                self._fail(k, f"step {k} on thread {self.threads[ev.thread]} "
                              f"({ev.label!r}) differs from an earlier run in "
                              f"{', '.join(diff)}")

    def next_choice(self, ex: Execution) -> Choice | None:
        self._check(ex)
        n = len(ex.events)
        if self.prev_over and n == len(self.prev_sigs) and self.same \
                and n == len(self.choices) and not ex.finished():
            self._fail(n - 1, "the execution goes on where an earlier run ended")
        c = self.inner.next_choice(ex)
        if c is None:
            self.asked_none = True
            return None
        k = len(self.choices)
        pair = (c.thread, c.outcome)
        self.choices.append(pair)
        if self.same and k < len(self.prev_choices) and pair == self.prev_choices[k] \
                and 0 <= c.thread < ex.n:
            op = ex.pending[c.thread]
            if op is None or (isinstance(op, Await) and not ex.is_enabled(c.thread)):
                self._fail(k, f"thread {self.threads[c.thread]} cannot run at step {k}, "
                              "where it ran in an earlier run")
        return c

    def finish(self, ex: Execution) -> Schedule | None:
        self._check(ex)
        n = len(ex.events)
        if ex.over() and self.same and n < len(self.prev_sigs) and n == len(self.choices):
            self._fail(n - 1, f"the execution ends after {n} steps where an earlier run "
                              "went on")
        self.prev_over = ex.over() and not self.asked_none
        return self.inner.finish(ex)

    def estimate(self) -> float | None:
        return self.inner.estimate()
