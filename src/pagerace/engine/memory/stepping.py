"""The engine's hooks for a weak memory model: footprints, outcomes and the committing view.

`Execution` calls these only when its program runs under a weak model (under "sc" it keeps
its own code paths, so counts and verdicts there are unchanged). A step's outcomes are the
indices of its alternatives (choices.py) whose effects differ - the result and the state
the dry run left - so two ways of reading the same message are explored once. The
alternatives of thread t's pending op are computed once per state and cached until the
next step.

A thread with buffered stores (storebuffer.py) also has drain alternatives; one whose body
has returned keeps `DRAIN_OP` pending until its buffer is empty.
"""

from __future__ import annotations

from collections.abc import Hashable, Sized
from typing import Any, Protocol

from pagerace.engine.apply import Footprint, apply_op, op_outcomes
from pagerace.engine.fingerprint import encode
from pagerace.engine.memory.base import MemoryModel
from pagerace.engine.memory.choices import DRAIN, Alternative, alternatives
from pagerace.engine.memory.history import buffer_locs, thread_key
from pagerace.engine.memory.weak_view import AwaitView, Chooser, WeakStepView
from pagerace.engine.ops import Atomic, Await, Op
from pagerace.engine.view import State
from pagerace.engine.violation import Violation

AltList = list[tuple[Alternative, WeakStepView, Any]]
AltCache = dict[tuple[int, int], AltList]


class Execution(Protocol):
    """What these hooks read of an execution.Execution (which imports this module)."""

    @property
    def state(self) -> State: ...
    @property
    def events(self) -> Sized: ...
    @property
    def model(self) -> MemoryModel | None: ...
    @property
    def _alts(self) -> AltCache: ...
    @property
    def pending(self) -> list[Op | None]: ...


def _never(view: Any, outcome: int) -> None:
    raise RuntimeError("the store-buffer drain op is never applied")


DRAIN_OP = Atomic(fn=_never, label="store buffer drains")
"""The pending op of a thread whose body has returned while its store buffer still holds
stores: its only alternatives are drains."""


def tstate(ex: Execution, t: int) -> Any:
    return ex.state.get(thread_key(t))


def buffered(ex: Execution, t: int) -> bool:
    """Whether thread t has stores in its buffer (so a drain step is possible)."""
    model = ex.model
    return model is not None and bool(model.drainable(tstate(ex, t)))


def _alts(ex: Execution, t: int, op: Op) -> AltList:
    key = (t, len(ex.events))
    got = ex._alts.get(key)
    if got is not None:
        return got
    model = ex.model
    assert model is not None
    drains = model.drainable(tstate(ex, t))
    if isinstance(op, Await):
        pred = op.pred
        got = alternatives(1, lambda c: AwaitView(ex.state, False, model, t, c),
                           lambda v, o: pred(v), drains, model.drain)
    else:
        got = alternatives(0 if op is DRAIN_OP else op_outcomes(op),
                           lambda c: WeakStepView(ex.state, False, model, t, c),
                           lambda v, o: apply_op(op, v, o), drains, model.drain)
    ex._alts.clear()  # only the current state's alternatives are ever asked for again
    ex._alts[key] = got
    return got


def footprint(ex: Execution, t: int, op: Op) -> Footprint:
    reads: set[Hashable] = set()
    writes: set[Hashable] = set()
    for _alt, view, _res in _alts(ex, t, op):
        reads |= view.reads
        writes |= view.writes
    return frozenset(reads), frozenset(writes)


def _effects(overlay: dict[Hashable, Any]) -> Any:
    """A step's writes, compared type-tagged (storing True and storing 1 differ)."""
    try:
        return encode(overlay)
    except TypeError:  # a value the encoding does not know: compare by equality
        return frozenset(overlay.items())


def outcomes(ex: Execution, t: int, op: Op) -> list[int]:
    seen: dict[Any, int] = {}
    alts = _alts(ex, t, op)
    waiting = isinstance(op, Await) and len(alts) > 1  # an await with drains
    for i, ((o, _path), view, res) in enumerate(alts):
        if waiting and o != DRAIN and res is False:
            continue  # the await does not hold: only its drains can step now
        sig_res: Any = (("violation", res.kind, res.message) if isinstance(res, Violation)
                        else ("error", repr(res)) if isinstance(res, Exception)
                        else repr(res))
        seen.setdefault((o == DRAIN, sig_res, _effects(view.overlay)), i)
    if not seen:
        raise RuntimeError(f"memory model: {op.label!r} waits for a store-buffer drain, "
                           "but the buffer has nothing that may drain")
    return sorted(seen.values())


def commit_view(ex: Execution, t: int, op: Op, outcome: int
                ) -> tuple[WeakStepView, int, int | None, Alternative]:
    """The view that applies alternative `outcome` of `t`'s op, the op's own outcome, the
    store-buffer entry to drain instead when the alternative is a drain (else None), and
    the alternative itself (its op outcome and model choices: what names it across steps
    that change its index)."""
    alts = _alts(ex, t, op)
    if not 0 <= outcome < len(alts):
        raise RuntimeError(f"outcome {outcome} is not an alternative of this step")
    (o, path), _view, _res = alts[outcome]
    model = ex.model
    assert model is not None
    if o == DRAIN:
        return WeakStepView(ex.state, True, model, t), o, path[0], (o, path)
    cls = AwaitView if isinstance(op, Await) else WeakStepView
    return cls(ex.state, True, model, t, Chooser(path)), o, None, (o, path)


def _pending_alts(ex: Execution, t: int) -> AltList:
    """The alternatives of `t`'s pending op now (none for a finished thread)."""
    op = ex.pending[t]
    return [] if op is None else _alts(ex, t, op)


def drain_outcome(ex: Execution, t: int, outcomes: list[int],
                  locs: frozenset[Hashable]) -> int | None:
    """Which of `outcomes` of `t`'s pending op drains the buffer entry holding exactly
    `locs` (None: none does). Eligible entries have pairwise disjoint locations, so the
    locations name the entry across the thread's own steps."""
    alts = _pending_alts(ex, t)
    for i in outcomes:
        (o, _path), view, _res = alts[i]
        if o == DRAIN and buffer_locs(view.writes, t) == locs:
            return i
    return None


def alternative_at(ex: Execution, t: int, i: int) -> Alternative | None:
    """Alternative `i` of `t`'s pending op now (None: there is none)."""
    alts = _pending_alts(ex, t)
    return alts[i][0] if 0 <= i < len(alts) else None


def index_of(ex: Execution, t: int, alt: Alternative) -> int | None:
    """The index of alternative `alt` of `t`'s pending op now (None: it is not one)."""
    for i, (a, _view, _res) in enumerate(_pending_alts(ex, t)):
        if a == alt:
            return i
    return None


def await_view(ex: Execution, t: int) -> WeakStepView:
    model = ex.model
    assert model is not None
    return AwaitView(ex.state, False, model, t)
