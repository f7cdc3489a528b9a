"""x86-TSO as messages and views (Owens, Sarkar, Sewell, "A better x86 memory model:
x86-TSO", TPHOLs 2009), in the view-based form of the promise-free Promising model.

Stores are appended to memory in program order at global timestamps, and every CPU sees
them in that one order (TSO is multi-copy atomic for other CPUs). A CPU's loads are
ordered among themselves: each thread has one read view `vr`, a point in the global store
order at or after its previous load, and a load reads the newest message of its location
at or before `vr` or a newer one (raising `vr` to it). What a FIFO store buffer adds is
that a load may be satisfied before the CPU's own earlier stores drain: a thread's own
stores do not raise `vr` (its stores with timestamps above `vr` are the ones still in
its buffer), and a load of a location the CPU has a buffered store to reads that store
(store forwarding, coherence) or a newer one without raising `vr`. A full fence (smp_mb /
MFENCE) and every locked RMW (xchg, cmpxchg - also when the compare fails -, atomic_*)
drain the buffer: `vr` rises to the thread's last store.

Orders and dependencies need nothing more under TSO (loads are acquire, stores release);
smp_rmb / smp_wmb / acquire / release fences are no-ops.

Leaves out: non-temporal stores, string operations, memory types; mixed-size accesses.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from pagerace.engine.memory.base import MemoryModel, ModelContext, loc_name
from pagerace.engine.memory.history import Pairs, get, put, readable_from, value_of
from pagerace.engine.view import NO_WRITE


class TsoThread(NamedTuple):
    vr: int = 0  # read view: loads are placed at or after it
    vw: int = 0  # timestamp of this CPU's last store
    coh: Pairs = ()  # per location: the newest timestamp this CPU read or wrote
    fwd: Pairs = ()  # per location: this CPU's last store there


class Tso(MemoryModel):
    name = "tso"
    follows = "x86-TSO (Owens, Sarkar, Sewell, TPHOLs 2009), as messages and views"

    def initial(self) -> TsoThread:
        return TsoThread()

    def load(self, cx: ModelContext, loc: Hashable, default: Any, order: str,
             deps: tuple[Hashable, ...]) -> Any:
        th: TsoThread = cx.tstate(self.initial())
        hist = cx.hist(loc)
        bound = max(th.vr, get(th.coh, loc, 0))
        first = readable_from(hist, bound)
        k = first + cx.choose(len(hist) - first)
        m = hist[k]
        own = get(th.fwd, loc, -1) == m.ts and m.ts > th.vr
        vr = th.vr if own else max(th.vr, m.ts)
        if k < len(hist) - 1:
            buffered = sorted({loc_name(x) for x, ts in th.fwd if ts > vr})
            why = ("this CPU's store(s) to " + ", ".join(buffered)
                   + " are still in its store buffer, and TSO lets a load pass them"
                   if buffered else
                   "the load is placed before the newer store in the global order")
            cx.note(f"read {loc_name(loc)} = {value_of(m, default)!r} from an older message "
                    f"(ts {m.ts}; newest is ts {hist[-1].ts}): {why}",
                    memory="tso", weak="older-message", loc=loc_name(loc), ts=m.ts)
        elif own:
            cx.note(f"read {loc_name(loc)} = {value_of(m, default)!r} from this CPU's "
                    "store buffer (forwarding)", memory="tso", weak="forwarded")
        cx.set_tstate(th._replace(vr=vr, coh=put(th.coh, loc, max(get(th.coh, loc, 0), m.ts))))
        return value_of(m, default)

    def store(self, cx: ModelContext, loc: Hashable, value: Any, order: str,
              deps: tuple[Hashable, ...]) -> None:
        th: TsoThread = cx.tstate(self.initial())
        ts = cx.append(loc, value)
        cx.set_tstate(th._replace(vw=ts, coh=put(th.coh, loc, ts), fwd=put(th.fwd, loc, ts)))

    def update(self, cx: ModelContext, loc: Hashable, fn: Callable[[Any], Any],
               default: Any, order: str, deps: tuple[Hashable, ...]) -> Any:
        th: TsoThread = cx.tstate(self.initial())
        hist = cx.hist(loc)
        m = hist[-1]  # a locked instruction reads the newest value
        old = value_of(m, default)
        new = fn(old)
        vr = max(th.vr, th.vw, m.ts)
        coh = put(th.coh, loc, m.ts)
        th = th._replace(vr=vr, coh=coh)
        if new is not NO_WRITE:
            ts = cx.append(loc, new)
            th = th._replace(vr=ts, vw=ts, coh=put(coh, loc, ts), fwd=put(th.fwd, loc, ts))
        cx.set_tstate(th)
        return old

    def fence(self, cx: ModelContext, kind: str) -> None:
        if kind == "mb":
            th: TsoThread = cx.tstate(self.initial())
            cx.set_tstate(th._replace(vr=max(th.vr, th.vw)))
