"""Enumerating the alternatives of one step under a weak memory model.

A step may make several memory-model choices (each load of an `Atomic` step picks a
message), on top of its op's own outcomes. The engine still sees one integer outcome per
step: outcome k is the k-th alternative, a pair (op outcome, tuple of model choices), in
the deterministic order this module enumerates them (op outcomes in order, then model
choices as an odometer over the choice points met by dry runs). The list depends only on
the state the step reads (its footprint) and the thread's own views, so a schedule and a
sleep-set entry name the same alternative wherever the step is independent of what ran
in between.

Under a model with store buffers (storebuffer.py) a thread with buffered stores has more
alternatives: one per entry that may drain, after the op's own (a drain does not advance
the thread's op); op alternatives that need the buffer drained first are left out until
it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pagerace.engine.memory.storebuffer import MustDrain
from pagerace.engine.memory.weak_view import Chooser, WeakStepView

Alternative = tuple[int, tuple[int, ...]]
RunFn = Callable[[WeakStepView, int], Any]
DrainFn = Callable[[WeakStepView, int], str]
MakeView = Callable[[Chooser], WeakStepView]
DRAIN = -1  # the op outcome of a drain alternative: its path is (entry,)


def alternatives(n_outcomes: int, make_view: MakeView, run: RunFn,
                 drains: Sequence[int] = (), drain: DrainFn | None = None,
                 limit: int = 4096) -> list[tuple[Alternative, WeakStepView, Any]]:
    """Every alternative, with its dry-run view and its result (or raised exception).
    An alternative whose model raises `MustDrain` is not available now and is left out;
    each of `drains` (store-buffer entries that may drain) adds `(DRAIN, (entry,))`."""
    out: list[tuple[Alternative, WeakStepView, Any]] = []
    for o in range(n_outcomes):
        path: tuple[int, ...] | None = ()
        while path is not None:
            chooser = Chooser(path)
            view = make_view(chooser)
            res: Any
            try:
                res = run(view, o)
            except MustDrain:
                res = MustDrain
            except Exception as e:  # a violation or a model bug: an alternative too
                res = e
            taken = chooser.taken()
            if res is not MustDrain:
                out.append(((o, taken), view, res))
            if len(out) > limit:
                raise RuntimeError(f"a step has more than {limit} memory-model alternatives")
            path = _next(taken, chooser.arities)
    for j in drains:
        assert drain is not None
        view = make_view(Chooser())
        try:
            res = drain(view, j)
        except Exception as e:  # a model bug: reported like any other
            res = e
        out.append(((DRAIN, (j,)), view, res))
    return out


def _next(taken: tuple[int, ...], arities: list[int]) -> tuple[int, ...] | None:
    for i in range(len(taken) - 1, -1, -1):
        if taken[i] + 1 < arities[i]:
            return taken[:i] + (taken[i] + 1,)
    return None
