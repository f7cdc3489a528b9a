"""A CPU's buffer of stores not yet visible to other CPUs: store->store reordering.

The `relaxed` model (promising.py) puts a thread's ordinary stores in a buffer that lives
in the thread's private model state; a store becomes a message of memory (at a fresh
global timestamp) only when the buffer *drains* it, which is a separate step of the same
thread: the engine offers one drain alternative per eligible entry at every step of a
thread with a non-empty buffer (stepping.py), and a finished thread stays live until its
buffer is empty. So the drain may fall between any two steps of any threads.

An entry is the ordinary stores of one engine step, in program order; they drain together
(an `Atomic` step of the model claims atomicity of its code already; reordering inside one
step is left out). Entry j may drain before an older entry i only if
- no smp_wmb(), release fence, full fence or release store comes between them (each such
  barrier starts a new *epoch*; entries drain in epoch order, except that an entry may
  pass the release store that ended the epoch before its own),
- they store to no common location (per-location coherence: a CPU's stores to one location
  reach memory in program order), and
- entry j is not a release store (a release store becomes visible after every earlier
  store of its CPU).
A later store may pass a release store (release is one-way), and a load never waits for a
buffered store to another location.

Where that is like the hardware: ARMv8 and RVWMO let independent stores to different
locations become visible out of program order (the `2+2W`, `R` and `S` shapes); a delayed
store is one that Promising-ARM/RISC-V would have the later stores promise before it, with
a trivially certified promise (the store's value and address are already computed), so
the buffer adds no outcome the promising model forbids.

Leaves out: reordering of stores within one engine step; store->store reordering on x86
(TSO is FIFO: tso.py).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, NamedTuple

from pagerace.engine.memory.base import loc_name


class MustDrain(Exception):
    """Raised by a model when an access needs its thread's buffer drained first (a full
    fence, a release RMW, an RMW or a read-newest of a location with a buffered store, an
    acquire load after a buffered release store): that alternative of the step is not
    available until drain steps have run."""


class Buffered(NamedTuple):
    loc: Hashable
    value: Any
    order: str
    dep_view: int  # the view of the store's inputs (what a forwarded read inherits)


class Entry(NamedTuple):
    stores: tuple[Buffered, ...]
    epoch: int
    release: bool = False

    @property
    def locs(self) -> frozenset[Hashable]:
        return frozenset(s.loc for s in self.stores)


Buffer = tuple[Entry, ...]


def eligible(buf: Buffer) -> list[int]:
    """Indices of the entries that may drain next."""
    out = []
    for j, e in enumerate(buf):
        if j == 0:
            out.append(0)
            continue
        if e.release:
            continue
        locs = e.locs
        if all((i.epoch == e.epoch or i.release and i.epoch == e.epoch - 1)
               and locs.isdisjoint(i.locs) for i in buf[:j]):
            out.append(j)
    return out


def forward(buf: Buffer, loc: Hashable) -> Buffered | None:
    """The newest buffered store to `loc` (what a load of it by this CPU forwards)."""
    for e in reversed(buf):
        for s in reversed(e.stores):
            if s.loc == loc:
                found: Buffered = s
                return found
    return None


def has_release(buf: Buffer) -> bool:
    return any(e.release for e in buf)


def describe(e: Entry) -> str:
    return ", ".join(f"{loc_name(s.loc)} = {s.value!r}" for s in e.stores)
