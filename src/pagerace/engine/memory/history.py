"""Per-location message histories and thread-private model state, kept in engine state.

Under a weak memory model a shared location's value in the engine state is its history: a
tuple of messages `Msg(ts, value, thread)` in coherence order, the first one the initial
value (timestamp 0, thread -1; `UNSET` when the program gave none: a read then returns the
op's default). Timestamps are global (one counter, `CLOCK`, shared by every store): the
memory of the Promising model is one list of messages, which is what makes it multi-copy
atomic. Each thread's views live under `thread_key(t)`, a location only that thread reads
or writes and that no footprint records, so DPOR's dependency analysis sees exactly the
accesses to shared locations: a load of x depends on stores to x only; stores depend on
each other through `CLOCK` (their order fixes their timestamps).

`Pairs` is an immutable, fingerprintable map (a tuple of (key, value) pairs) for per-location
views. `Visible` is the mapping properties, instruments and `observe` hooks see: each
location's newest value, the model's own keys hidden.

Leaves out: garbage collection of messages no view can read any more (histories only grow;
programs are short).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

MODEL_KEY = "__memory__"
CLOCK: Hashable = (MODEL_KEY, "clock")
UNSET: Any = ("__unset__",)

Pairs = tuple[tuple[Hashable, Any], ...]


class Msg(NamedTuple):
    ts: int
    value: Any
    thread: int


def thread_key(t: int) -> Hashable:
    return (MODEL_KEY, "thread", t)


def buffer_key(t: int, loc: Hashable) -> Hashable:
    """Thread t's buffered store to `loc`, as a location of footprints: its drain writes
    it (a constant, True) and a load forwarding from it reads it, so DPOR sees that the
    two do not commute; no other thread touches it."""
    return (MODEL_KEY, "buf", t, loc)


def buffer_locs(locs: Iterable[Hashable], t: int) -> frozenset[Hashable]:
    """The locations whose thread-t buffer keys are among `locs`."""
    return frozenset(k[3] for k in locs if isinstance(k, tuple) and len(k) == 4
                     and k[:3] == (MODEL_KEY, "buf", t))


def is_model_key(loc: Hashable) -> bool:
    return isinstance(loc, tuple) and len(loc) > 0 and loc[0] == MODEL_KEY


def initial_history(value: Any) -> tuple[Msg, ...]:
    return (Msg(0, value, -1),)


def value_of(msg: Msg, default: Any) -> Any:
    return default if msg.value is UNSET or msg.value == UNSET else msg.value


def get(pairs: Pairs, key: Hashable, default: Any = 0) -> Any:
    for k, v in pairs:
        if k == key:
            return v
    return default


def put(pairs: Pairs, key: Hashable, value: Any) -> Pairs:
    """`pairs` with `key` mapped to `value`, kept sorted by the keys' repr: one map, one
    tuple, whatever order the keys were written in (equal views fingerprint equally)."""
    r = repr(key)
    for i, (k, _v) in enumerate(pairs):
        if k == key:
            return pairs[:i] + ((key, value),) + pairs[i + 1:]
        if repr(k) > r:
            return pairs[:i] + ((key, value),) + pairs[i:]
    return pairs + ((key, value),)


def readable_from(hist: tuple[Msg, ...], bound: int) -> int:
    """Index of the newest message with a timestamp <= `bound`: a read whose view is
    `bound` may read that message or any newer one (coherence: never an older one)."""
    idx = 0
    for i, m in enumerate(hist):
        if m.ts <= bound:
            idx = i
    return idx


class Visible(Mapping[Hashable, Any]):
    """The newest value of every location (what a sequentially consistent reader of the
    final state would see); the memory model's bookkeeping is hidden."""

    def __init__(self, state: Mapping[Hashable, Any]) -> None:
        self._state = state

    def __getitem__(self, loc: Hashable) -> Any:
        if is_model_key(loc):
            raise KeyError(loc)
        hist = self._state[loc]
        v = hist[-1].value
        if v == UNSET:
            raise KeyError(loc)
        return v

    def get(self, loc: Hashable, default: Any = None) -> Any:
        try:
            return self[loc]
        except KeyError:
            return default

    def __iter__(self) -> Iterator[Hashable]:
        return (k for k in self._state if not is_model_key(k) and k in self)

    def __contains__(self, loc: object) -> bool:
        try:
            self[loc]
        except (KeyError, TypeError):
            return False
        return True

    def __len__(self) -> int:
        return sum(1 for _ in self)
