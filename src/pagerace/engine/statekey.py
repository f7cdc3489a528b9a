"""An in-process key for a terminal state, so that its SHA-256 fingerprint is computed
once per distinct state rather than once per execution.

The key is built from the locations the execution wrote (the union of its events' write
sets) and the threads' results, each value tagged by its type: the key pairs each location
with its value and, apart, with its value's type, and adds a deep tag (`tag`) of every
value that is not an int, str, bool or None (a tuple, a float, ...). Either way `True`
and `1`, `0` and `False`, `0.0` and `-0.0` give different keys. Every other location
still holds its initial value, so within one exploration (one program, one initial
state) equal keys mean equal states and equal fingerprints. Unequal keys may still be
one state (two executions writing different locations to the same end): that costs one
more SHA-256, never a wrong fingerprint.

Under a weak memory model the model keeps its own bookkeeping in the state (message
histories, each thread's views, the clock: history.is_model_key), and a step changes it
beyond its event's write set - a failed cmpxchg writes no location but raises its CPU's
read view. Every model key in the state is part of the key.

Locations are compared as the state dict compares them (they are tuples of str / int,
ops.py). Values of a type the tag does not know are tagged by their canonical encoding
(fingerprint.encode), which is exact and raises the same error a fingerprint would.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from pagerace.engine.fingerprint import encode
from pagerace.engine.memory.history import is_model_key

if TYPE_CHECKING:
    from pagerace.engine.execution import Execution

_SCALARS = frozenset((int, str, bool, type(None), bytes))
_FLAT = frozenset((int, str, bool, type(None)))  # == within one type: identical encoding


def tag(value: Any) -> Hashable:
    """A hashable, type-tagged stand-in for `value`: equal tags, equal encodings."""
    t = type(value)
    if t in _SCALARS:
        return (t, value)
    if t is tuple:
        return (t, tuple(map(tag, value)))
    if t is float:
        return (t, value.hex())
    return (t, encode(value))


def state_key(ex: Execution) -> Hashable:
    """The key of `ex`'s current state and results (see the module docstring)."""
    written: set[Hashable] = set().union(*(ev.fp[1] for ev in ex.events))
    state = ex.state
    if ex.model is not None:
        written.update(loc for loc in state if is_model_key(loc))
    vals = [state[loc] for loc in written]
    types = list(map(type, vals))
    results = tag(tuple(ex.results))
    deep: frozenset[tuple[Hashable, Hashable]] | None = None
    if not _FLAT.issuperset(types):
        deep = frozenset((loc, tag(v)) for loc, v, t in zip(written, vals, types, strict=True)
                         if t not in _FLAT)
    try:
        # at C speed: equal values of equal types encode equally; the rest are in `deep`
        return (frozenset(zip(written, vals, strict=True)),
                frozenset(zip(written, types, strict=True)), deep, results)
    except TypeError:  # an unhashable value
        return frozenset(zip(written, map(tag, vals), strict=True)), results
