"""One execution of a program: the single place where steps are applied.

An `Execution` owns the state of one run (the shared state dict, the thread generators,
their next ops) and applies steps chosen by a strategy: `step(thread, outcome)` is the
only function that changes the state. Strategies only choose. Thread bodies are
re-executed from the start for every execution (generators cannot be copied).

`apply_op` (apply.py) gives each op its meaning; `footprint` computes the locations a pending op
would read and write by dry-running it on an overlay (see ops.py); `outcomes` lists the
outcomes of a nondeterministic op whose effects actually differ (compared by their
type-tagged encoding, so storing `True` and storing `1` are different effects).

Under a weak memory model (`Program.memory` other than "sc") the state holds message
histories and thread views, steps see a `WeakStepView`, and a step's outcomes are its
alternatives (op outcome x which message each load reads): engine/memory/stepping.py
computes them; properties, instruments and traces see `visible`, the newest values. A
model with store buffers (`relaxed`) adds drain steps: a step of the thread that makes a
buffered store visible and leaves its op pending (memory/storebuffer.py).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pagerace.engine import violation as vk
from pagerace.engine.apply import EMPTY_FP as EMPTY_FP
from pagerace.engine.apply import Footprint as Footprint
from pagerace.engine.apply import apply_op as apply_op
from pagerace.engine.apply import dependent as dependent
from pagerace.engine.apply import op_outcomes as op_outcomes
from pagerace.engine.fingerprint import encode
from pagerace.engine.instrument import EndContext, StepContext
from pagerace.engine.memory import make_model
from pagerace.engine.memory import stepping as weak
from pagerace.engine.memory.choices import Alternative
from pagerace.engine.memory.history import Visible, initial_history
from pagerace.engine.ops import (
    Await,
    Choose,
    CompareExchange,
    Fence,
    FetchAdd,
    Load,
    Op,
    Store,
)
from pagerace.engine.program import Program
from pagerace.engine.view import State, StepView
from pagerace.engine.violation import Violation, ViolationRecord


@dataclass(eq=False)
class Event:
    """One executed step."""

    index: int
    thread: int
    pos: int  # 1-based index of this step within its thread
    label: str
    outcome: int
    fp: Footprint
    result: Any
    notes: list[dict[str, Any]] = field(default_factory=list)
    old: dict[Hashable, Any] = field(default_factory=dict)
    stack: tuple[str, ...] = ()
    vc: list[int] = field(default_factory=list)  # vector clock, filled by DPOR
    is_await: bool = False  # a blocking step: its races include the writes that disabled it
    # under sc, what the step left in the locations it wrote and the `sometimes` names it
    # witnessed: what a replay of the same step from the same state re-applies (`redo`)
    effects: dict[Hashable, Any] | None = None
    witnessed: tuple[str, ...] = ()
    drain: bool = False  # a store-buffer drain: the thread's op stays pending, no result
    # under a weak model, the alternative the step took (memory/choices.py): its op
    # outcome and model choices, which name it where its index changes
    alt: Alternative | None = None


class Execution:
    """The state of one run and the one function (`step`) that advances it."""

    def __init__(self, program: Program, max_steps: int | None = None,
                 trace: bool = False) -> None:
        self.program = program
        self.max_steps = max_steps
        self.trace = trace
        self.model = make_model(program.memory)
        self.state: State = dict(program.initial)
        self.visible: Mapping[Hashable, Any] = self.state
        if self.model is not None:
            self.state = {k: initial_history(v) for k, v in program.initial.items()}
            self.visible = Visible(self.state)
        self._alts: weak.AltCache = {}
        n = len(program.threads)
        self.n = n
        self.pending: list[Op | None] = [None] * n
        self.results: list[Any] = [None] * n
        self.steps: list[int] = [0] * n
        self.events: list[Event] = []
        # a replayed choice's recorded event, set by a tree search before the step: step()
        # re-applies its effects instead of running the op (see `_redo`)
        self.redo: Event | None = None
        self.violation: ViolationRecord | None = None
        self.sometimes_hit: set[str] = set()
        self._always = program.properties_of("always")
        self._sometimes = program.properties_of("sometimes")
        self._instruments = tuple(program.instruments)
        for inst in self._instruments:
            inst.start()
        self._gens = [t.body() for t in program.threads]
        for t in range(n):
            if self.violation is None:
                self._advance(t, None, first=True)

    # -- thread plumbing -------------------------------------------------------------
    def _advance(self, t: int, value: Any, first: bool = False) -> None:
        gen = self._gens[t]
        try:
            op = next(gen) if first else gen.send(value)
        except StopIteration as stop:
            # a thread whose stores are still buffered lives on until they drain
            self.pending[t] = weak.DRAIN_OP if weak.buffered(self, t) else None
            self.results[t] = stop.value
            return
        except Violation as v:
            self.pending[t] = None
            self.violation = v.record()
            return
        except Exception as e:  # a bug in the model, reported rather than crashing
            self.pending[t] = None
            self.violation = ViolationRecord(
                vk.EXCEPTION, f"thread {self.program.threads[t].name}: "
                f"{type(e).__name__}: {e}")
            return
        self.pending[t] = op

    def _stack(self, t: int) -> tuple[str, ...]:
        names = []
        g: Any = self._gens[t]
        while g is not None and hasattr(g, "gi_code"):
            names.append(g.gi_code.co_name)
            g = g.gi_yieldfrom
        return tuple(names)

    # -- queries -----------------------------------------------------------------------
    def finished(self) -> bool:
        return self.pending.count(None) == self.n

    def over(self) -> bool:
        return self.violation is not None or self.finished()

    def is_enabled(self, t: int) -> bool:
        op = self.pending[t]
        if op is None:
            return False
        if isinstance(op, Await):
            if self.model is not None and weak.buffered(self, t):
                return True  # its store buffer can drain
            try:
                return bool(op.pred(self._await_view(t)))
            except Violation:
                return True  # stepping it will report the violation
        return True

    def _await_view(self, t: int) -> StepView:
        if self.model is None:
            return StepView(self.state, commit=False)
        return weak.await_view(self, t)

    def enabled(self) -> list[int]:
        return [t for t in range(self.n) if self.is_enabled(t)]

    def footprint(self, t: int) -> Footprint:
        """Locations the pending op of `t` would read and write (union over outcomes)."""
        op = self.pending[t]
        if op is None or isinstance(op, Choose | Fence):
            return EMPTY_FP
        if self.model is not None:
            return weak.footprint(self, t, op)
        if isinstance(op, Load):
            return frozenset((op.loc,)), frozenset()
        if isinstance(op, Store):
            return frozenset(), frozenset((op.loc,))
        if isinstance(op, CompareExchange | FetchAdd):
            return frozenset((op.loc,)), frozenset((op.loc,))
        reads: set[Hashable] = set()
        writes: set[Hashable] = set()
        for o in range(op_outcomes(op)):
            view = StepView(self.state, commit=False)
            try:
                if isinstance(op, Await):
                    op.pred(view)
                else:
                    apply_op(op, view, o)
            except Exception:
                pass
            reads |= view.reads
            writes |= view.writes
        return frozenset(reads), frozenset(writes)

    def outcomes(self, t: int) -> list[int]:
        """The outcomes of `t`'s pending op whose effects differ (at least [0])."""
        op = self.pending[t]
        if op is None:
            return [0]
        if self.model is not None:
            return weak.outcomes(self, t, op)
        n = op_outcomes(op)
        if n == 1 or isinstance(op, Choose):
            return list(range(n))
        seen: dict[Any, int] = {}
        for o in range(n):
            view = StepView(self.state, commit=False)
            try:
                res: Any = repr(apply_op(op, view, o))
            except Violation as v:
                res = ("violation", v.kind, v.message)
            sig = (res, encode(view.overlay))  # type-tagged: True and 1 differ
            seen.setdefault(sig, o)
        return sorted(seen.values())

    # -- the step ----------------------------------------------------------------------
    def step(self, t: int, outcome: int = 0) -> Event:
        """Apply the pending op of thread `t` with `outcome`: the only state change."""
        op = self.pending[t]
        if op is None or self.violation is not None:
            raise RuntimeError(f"thread {t} cannot step")
        rec = self.redo
        if rec is not None:
            self.redo = None
            if rec.effects is not None and rec.thread == t and rec.outcome == outcome \
                    and rec.index == len(self.events) and not self.trace:
                return self._redo(rec)
        stack = self._stack(t) if self.trace else ()
        drain: int | None = None
        alt: Alternative | None = None
        view: StepView
        if self.model is None:
            view, op_outcome = self._commit_view(), outcome
        else:
            wview, op_outcome, drain, alt = weak.commit_view(self, t, op, outcome)
            view = wview
        result: Any = None
        label = op.label
        self.steps[t] += 1
        try:
            if drain is not None:
                assert self.model is not None
                label = self.model.drain(wview, drain)
            else:
                result = apply_op(op, view, op_outcome)
        except Violation as v:
            self.violation = v.record()
        except Exception as e:
            self.violation = ViolationRecord(
                vk.EXCEPTION, f"{op.label}: {type(e).__name__}: {e}")
        if view.witnessed:
            self.sometimes_hit.update(view.witnessed)
        ev = Event(len(self.events), t, self.steps[t], label, outcome,
                   (frozenset(view.reads), frozenset(view.writes)), result,
                   view.notes, view.old, stack,
                   is_await=isinstance(op, Await) and drain is None,
                   drain=drain is not None, alt=alt)
        if self.violation is None and self.model is None:
            state = self.state
            ev.effects = {loc: state[loc] for loc in view.writes}
            ev.witnessed = tuple(view.witnessed)
        return self._after(ev, result, advance=drain is None)

    def _commit_view(self) -> StepView:
        """The view a step under sc runs through (a subclass may record more)."""
        return StepView(self.state, commit=True)

    def _redo(self, rec: Event) -> Event:
        """Replay `rec`, a step recorded from this same state (the same choices from the
        start of a deterministic program): put back what it wrote instead of running the
        op. Instruments, the thread's next op and the properties are processed as after
        any step. Exact under sc, where a step's effect on the state is its writes."""
        t = rec.thread
        self.steps[t] += 1
        assert rec.pos == self.steps[t] and rec.effects is not None
        self.state.update(rec.effects)
        if rec.witnessed:
            self.sometimes_hit.update(rec.witnessed)
        return self._after(rec, rec.result)

    def _after(self, ev: Event, result: Any, advance: bool = True) -> Event:
        """What follows a step: instruments, the thread's next op (not after a drain of
        its store buffer, which leaves the op pending), properties."""
        t = ev.thread
        self.events.append(ev)
        if self.violation is None and self._instruments:
            self._run_instruments(ev)
        if self.violation is not None:
            self.pending[t] = None
            return ev
        if advance:
            self._advance(t, result)
        elif self.pending[t] is weak.DRAIN_OP and not weak.buffered(self, t):
            self.pending[t] = None
        if self.violation is None and self.max_steps is not None \
                and self.steps[t] >= self.max_steps and self.pending[t] is not None:
            self.violation = ViolationRecord(
                vk.STEP_BOUND, f"thread {self.program.threads[t].name} took "
                f"{self.steps[t]} steps without finishing (bound {self.max_steps})")
        if self.violation is None:
            self._check_properties()
        return ev

    def _run_instruments(self, ev: Event) -> None:
        ctx = StepContext(ev, self.visible)
        try:
            for inst in self._instruments:
                inst.after_step(ctx)
        except Violation as v:
            self.violation = v.record()
        except Exception as e:
            self.violation = ViolationRecord(
                vk.EXCEPTION, f"instrument after {ev.label}: {type(e).__name__}: {e}")
        if ctx.witnessed:
            self.sometimes_hit.update(ctx.witnessed)

    def _check_properties(self) -> None:
        try:
            self._check_property_predicates()
        except Exception as e:  # a bug in a property is a model bug, not a verdict
            self.violation = ViolationRecord(
                vk.EXCEPTION, f"property check: {type(e).__name__}: {e}")
            return
        if self.violation is None and self.finished():
            end = EndContext(self.visible, tuple(self.results))
            try:
                for inst in self._instruments:
                    inst.at_end(end)
            except Violation as v:
                self.violation = v.record()

    def _check_property_predicates(self) -> None:
        for p in self._always:
            if not p.check(self.visible):
                self.violation = ViolationRecord(
                    vk.PROPERTY, f"always {p.name}: {p.message or 'violated'}")
                return
        for p in self._sometimes:
            if p.name not in self.sometimes_hit and p.check(self.visible):
                self.sometimes_hit.add(p.name)
        if self.finished():
            for p in self.program.properties_of("at_end"):
                if not p.check(self.visible):
                    self.violation = ViolationRecord(
                        vk.PROPERTY, f"at end {p.name}: {p.message or 'violated'}")
                    return

    def check_deadlock(self, enabled: list[int] | None = None) -> bool:
        """If live threads exist but none is enabled, record a deadlock; return True.
        `enabled` is `self.enabled()` when the caller already has it."""
        if enabled is None:
            enabled = self.enabled()
        if self.violation is None and not self.finished() and not enabled:
            blocked = [self.program.threads[t].name for t in range(self.n)
                       if self.pending[t] is not None]
            self.violation = ViolationRecord(
                vk.DEADLOCK, "every live thread is blocked: " + ", ".join(blocked))
            return True
        return False
