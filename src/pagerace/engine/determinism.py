"""The nondeterminism check: a wrapper that makes sure re-running a schedule gives the
same events.

The search is stateless: every execution re-runs the program from the start and relies
on a replayed prefix doing exactly what it did before. A thread body that is not a
deterministic function of the results it receives (it reads a global counter, a clock,
`random`, or state kept outside the engine's state) silently breaks that. The wrapper
compares each execution with the previous one: as long as both made the same choices,
each step must have the same thread, outcome, label, footprint and result, and the
execution must end (or go on) where the previous one did. A difference is a
`NondeterminismError` naming the step, the thread and what differed.

Consecutive executions of a tree search share the prefix up to the backtrack point, so
every replayed step is checked; a sampler is checked wherever two consecutive draws
share a prefix. The check costs one comparison per step.

Leaves out: nondeterminism that never shows in events (a body that differs only in
thread-local values it never passes to an op).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from pagerace.engine.execution import Event, Execution
from pagerace.engine.program import Program
from pagerace.engine.schedule import Choice, Schedule
from pagerace.engine.statekey import tag
from pagerace.engine.strategy import Strategy


class NondeterminismError(ValueError):
    """A thread body that is not a deterministic function of its inputs."""


def _result_key(value: Any) -> Hashable:
    try:
        return tag(value)
    except TypeError:
        return type(value).__name__


def _sig(ev: Event) -> tuple[Any, ...]:
    return (ev.thread, ev.outcome, ev.label, ev.fp, _result_key(ev.result))


class DeterminismCheck:
    def __init__(self, inner: Strategy, program: Program) -> None:
        self.inner = inner
        self.name = inner.name
        self.exhaustive = inner.exhaustive
        self.threads = [t.name for t in program.threads]
        self.prev_choices: list[Choice] = []
        self.prev_sigs: list[tuple[Any, ...]] = []
        self.prev_over = False  # the previous execution ended by itself (not by a None)
        self.asked_none = False
        self.choices: list[Choice] = []
        self.sigs: list[tuple[Any, ...]] = []
        self.same = True  # the choices so far equal the previous execution's

    def new_execution(self) -> bool:
        if self.choices or self.sigs:
            self.prev_choices, self.prev_sigs = self.choices, self.sigs
        self.choices, self.sigs = [], []
        self.same = True
        self.asked_none = False
        return self.inner.new_execution()

    def _fail(self, k: int, what: str) -> None:
        sched = Schedule(tuple(self.choices[:k + 1]))
        raise NondeterminismError(
            f"nondeterministic program: replaying schedule {sched or '(empty)'} {what}; "
            "a thread body must be a deterministic function of the results it receives "
            "and keep all shared state in the engine's state")

    def _check(self, ex: Execution) -> None:
        for k in range(len(self.sigs), len(ex.events)):
            ev = ex.events[k]
            sig = _sig(ev)
            self.sigs.append(sig)
            if not self.same or k >= len(self.prev_sigs):
                continue
            if self.choices[k] != self.prev_choices[k]:
                self.same = False
                continue
            old = self.prev_sigs[k]
            if sig != old:
                fields = ("thread", "outcome", "label", "footprint", "result")
                diff = [f for f, a, b in zip(fields, sig, old, strict=True) if a != b]
                self._fail(k, f"gave a different step {k} on thread "
                              f"{self.threads[ev.thread]} ({ev.label!r}; "
                              f"{', '.join(diff)} differ from an earlier run)")

    def _same_prefix(self, ex: Execution) -> bool:
        n = len(ex.events)
        return self.same and n == len(self.prev_sigs) and n == len(self.choices)

    def next_choice(self, ex: Execution) -> Choice | None:
        self._check(ex)
        if self.prev_over and self._same_prefix(ex):
            self._fail(len(ex.events) - 1, "did not end where an earlier run ended")
        c = self.inner.next_choice(ex)
        if c is None:
            self.asked_none = True
            return None
        k = len(self.choices)
        self.choices.append(c)
        if self.same and k < len(self.prev_choices) and c == self.prev_choices[k] \
                and 0 <= c.thread < ex.n and not ex.is_enabled(c.thread):
            self._fail(k, f"finds thread {self.threads[c.thread]} unable to run at step "
                          f"{k}, where it ran in an earlier run")
        return c

    def finish(self, ex: Execution) -> Schedule | None:
        self._check(ex)
        n = len(ex.events)
        if ex.over() and self.same and n < len(self.prev_sigs) and n == len(self.choices):
            self._fail(n - 1, f"ended after {n} steps where an earlier run went on")
        self.prev_over = ex.over() and not self.asked_none
        return self.inner.finish(ex)

    def estimate(self) -> float | None:
        return self.inner.estimate()
