"""Applying one op: what each engine op means, and the footprint type of a step.

`apply_op(op, view, outcome)` performs an op through a view (a `StepView`, or a weak
memory model's view) and returns its result; `op_outcomes(op)` is how many outcomes a
nondeterministic op has; `dependent(a, b)` says whether two footprints conflict. The
ground floor of the step machinery: execution.py (the strategies' single point of state
change) and memory/stepping.py (a weak model's alternatives) both build on it, so neither
imports the other.

Leaves out: scheduling, footprints' computation (execution.py dry-runs ops for that).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from pagerace.engine.ops import (
    Atomic,
    Await,
    Choose,
    CompareExchange,
    Fence,
    FetchAdd,
    Load,
    Op,
    Store,
)
from pagerace.engine.view import NO_WRITE, StepView

Footprint = tuple[frozenset[Hashable], frozenset[Hashable]]
EMPTY_FP: Footprint = (frozenset(), frozenset())


def apply_op(op: Op, view: StepView, outcome: int = 0) -> Any:
    """Perform `op` through `view`; return its result. May raise `Violation`."""
    if isinstance(op, Atomic):
        return op.fn(view, outcome)
    if isinstance(op, Load):
        return view.load(op.loc, op.default, op.order, op.deps)
    if isinstance(op, Store):
        view.store(op.loc, op.value, op.order, op.deps)
        return None
    if isinstance(op, Fence):
        view.fence(op.kind)
        return None
    if view.weak and isinstance(op, CompareExchange):
        exp, new = op.expected, op.new
        return view.update(op.loc, lambda old: new if old == exp and type(old) is type(exp)
                           else NO_WRITE, op.default, op.order, op.deps)
    if view.weak and isinstance(op, FetchAdd):
        delta = op.delta
        return view.update(op.loc, lambda old: old + delta, op.default, op.order, op.deps)
    if isinstance(op, CompareExchange):
        old = view.load(op.loc, op.default)
        if old == op.expected and type(old) is type(op.expected):
            view.store(op.loc, op.new)
        return old
    if isinstance(op, FetchAdd):
        old = view.load(op.loc, op.default)
        view.store(op.loc, old + op.delta)
        return old
    if isinstance(op, Await):
        if not op.pred(view):
            raise RuntimeError("an Await step was applied while disabled")
        return None
    if isinstance(op, Choose):
        return outcome
    raise TypeError(f"a thread yielded {op!r}, which is not an op from pagerace.engine.ops")


def op_outcomes(op: Op) -> int:
    if isinstance(op, Choose):
        return op.n
    if isinstance(op, Atomic):
        return op.outcomes
    return 1


def dependent(a: Footprint, b: Footprint) -> bool:
    """Two steps conflict when one writes a location the other reads or writes."""
    ar, aw = a
    br, bw = b
    return not (aw.isdisjoint(br) and aw.isdisjoint(bw) and bw.isdisjoint(ar))


__all__ = ["EMPTY_FP", "Footprint", "apply_op", "dependent", "op_outcomes"]
