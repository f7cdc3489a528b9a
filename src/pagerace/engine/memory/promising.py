"""A relaxed model: the promise-free fragment of Promising-ARM/RISC-V.

Follows C. Pulte, J. Pichon-Pharabod, J. Kang, S.-H. Lee, C.-K. Hur, "Promising-ARM/RISC-V:
a simpler and faster operational concurrency model", PLDI 2019, without promises. Memory
is one list of messages at global timestamps (history.py); views are timestamps. Each
thread keeps, as in the paper: `coh(x)` per location, `vrOld` / `vwOld` (the views of its
reads and writes so far), `vrNew` (what later reads must respect), `vRel` (its last
release write, which an acquire load respects: ARMv8's LDAR after STLR is ordered), the
forwarding bank (its last write per location and the view of that write's inputs), and
per location the view of its latest read there (what a dependent access depends on).

A load of x with `deps` computes vpre = vaddr(deps) ⊔ vrNew (⊔ vRel when acquire) and may
read the newest message to x at or before max(vpre, coh(x)) or any newer one: that choice
is an explored outcome. Reading message t gives the view vpost = vpre ⊔ t (or the
forwarded write's input view when it reads its own last write); coh(x), vrOld ⊔= vpost;
an acquire load also raises vrNew. A store is appended at a fresh timestamp (promise-free:
stores happen in program order, so the write-side views of the paper have no effect);
it updates coh(x), vwOld, the forwarding bank and, for a release, vRel. Fences: smp_mb
(dmb sy) vrNew ⊔= vrOld ⊔ vwOld; smp_rmb / acquire fence (dmb ld) vrNew ⊔= vrOld;
smp_wmb / release fence (dmb st) nothing observable without promises. An RMW reads the
newest message (exclusive: nothing may come between it and its write); a fully ordered
("mb") RMW that writes is smp_mb(); acquire-read; release-write; smp_mb(). A failed
cmpxchg is an unordered read.

So it allows load->load reordering (reading an older message), store->load reordering
(a load not ordered after an earlier store reads a message older than it), per-location
coherence, acquire/release, fences and address/data dependencies (an address or data
dependency orders a load after the read it depends on; a control dependency orders
nothing here, as no store can overtake a load).

Leaves out (each makes the model stronger than ARMv8 / RVWMO, never weaker):
- promises, hence load buffering (load->store reordering: LB, S without ordering) and
  store->store reordering (2+2W, MP with only a reader-side fence): stores take their
  timestamps in program order;
- isb / control+isb, exclusives' failure paths, mixed-size accesses.
Being multi-copy atomic (one memory for all threads), it forbids the non-multi-copy-atomic
outcomes LKMM allows (IRIW / WRC with only read-side ordering).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from pagerace.engine.memory.base import MemoryModel, ModelContext, loc_name
from pagerace.engine.memory.history import Pairs, get, put, readable_from, value_of
from pagerace.engine.view import NO_WRITE

ACQUIRE = ("acquire", "mb")
RELEASE = ("release", "mb")


class RelaxedThread(NamedTuple):
    vr_old: int = 0
    vw_old: int = 0
    vr_new: int = 0
    v_rel: int = 0
    coh: Pairs = ()
    fwd: Pairs = ()  # loc -> (ts, input view) of this thread's last write there
    rview: Pairs = ()  # loc -> vpost of this thread's latest read there


def _dep_view(th: RelaxedThread, deps: tuple[Hashable, ...]) -> int:
    return max((int(get(th.rview, d, 0)) for d in deps), default=0)


class Relaxed(MemoryModel):
    name = "relaxed"
    follows = ("the promise-free fragment of Promising-ARM/RISC-V (Pulte et al., "
               "PLDI 2019)")

    def initial(self) -> RelaxedThread:
        return RelaxedThread()

    def _read(self, cx: ModelContext, th: RelaxedThread, loc: Hashable, default: Any,
              order: str, deps: tuple[Hashable, ...], newest: bool
              ) -> tuple[RelaxedThread, Any]:
        vaddr = _dep_view(th, deps)
        vpre = max(vaddr, th.vr_new, th.v_rel if order in ACQUIRE else 0)
        hist = cx.hist(loc)
        coh = int(get(th.coh, loc, 0))
        first = len(hist) - 1 if newest else readable_from(hist, max(vpre, coh))
        k = first + cx.choose(len(hist) - first)
        m = hist[k]
        fw = get(th.fwd, loc, None)
        vpost = max(vpre, fw[1]) if fw is not None and fw[0] == m.ts else max(vpre, m.ts)
        if k < len(hist) - 1:
            why = []
            if vaddr:
                why.append(f"its dependencies' view is ts {vaddr}")
            else:
                why.append("no address or data dependency orders it")
            why.append(f"its view is ts {vpre} and coherence view of {loc_name(loc)} "
                       f"is ts {coh}, both older than the newer store (ts {hist[k + 1].ts})"
                       if vpre or coh else "no fence or acquire orders it after a newer "
                       "store")
            cx.note(f"read {loc_name(loc)} = {value_of(m, default)!r} from an older message "
                    f"(ts {m.ts}; newest is ts {hist[-1].ts} = "
                    f"{value_of(hist[-1], default)!r}): " + "; ".join(why),
                    memory="relaxed", weak="older-message", loc=loc_name(loc), ts=m.ts)
        th = th._replace(
            coh=put(th.coh, loc, max(coh, vpost, m.ts)),
            vr_old=max(th.vr_old, vpost),
            vr_new=max(th.vr_new, vpost) if order in ACQUIRE else th.vr_new,
            rview=put(th.rview, loc, vpost))
        return th, value_of(m, default)

    def _write(self, cx: ModelContext, th: RelaxedThread, loc: Hashable, value: Any,
               order: str, deps: tuple[Hashable, ...]) -> RelaxedThread:
        ts = cx.append(loc, value)
        return th._replace(
            coh=put(th.coh, loc, ts), vw_old=max(th.vw_old, ts),
            v_rel=max(th.v_rel, ts) if order in RELEASE else th.v_rel,
            fwd=put(th.fwd, loc, (ts, _dep_view(th, deps))))

    @staticmethod
    def _fence(th: RelaxedThread, kind: str) -> RelaxedThread:
        if kind == "mb":
            return th._replace(vr_new=max(th.vr_new, th.vr_old, th.vw_old))
        if kind in ("rmb", "acquire"):
            return th._replace(vr_new=max(th.vr_new, th.vr_old))
        return th  # wmb, release: write-side views have no effect without promises

    def load(self, cx: ModelContext, loc: Hashable, default: Any, order: str,
             deps: tuple[Hashable, ...]) -> Any:
        th: RelaxedThread = cx.tstate(self.initial())
        if order == "mb":
            th = self._fence(th, "mb")
        th, v = self._read(cx, th, loc, default, order, deps, newest=False)
        if order == "mb":
            th = self._fence(th, "mb")
        cx.set_tstate(th)
        return v

    def store(self, cx: ModelContext, loc: Hashable, value: Any, order: str,
              deps: tuple[Hashable, ...]) -> None:
        th: RelaxedThread = cx.tstate(self.initial())
        if order == "mb":
            th = self._fence(th, "mb")
        th = self._write(cx, th, loc, value, order, deps)
        if order == "mb":
            th = self._fence(th, "mb")
        cx.set_tstate(th)

    def update(self, cx: ModelContext, loc: Hashable, fn: Callable[[Any], Any],
               default: Any, order: str, deps: tuple[Hashable, ...]) -> Any:
        th0: RelaxedThread = cx.tstate(self.initial())
        hist = cx.hist(loc)
        new = fn(value_of(hist[-1], default))
        writes = new is not NO_WRITE
        th = self._fence(th0, "mb") if writes and order == "mb" else th0
        read_order = order if writes else "relaxed"
        th, old = self._read(cx, th, loc, default, read_order, deps, newest=True)
        if writes:
            th = self._write(cx, th, loc, new, order, deps + (loc,))
            if order == "mb":
                th = self._fence(th, "mb")
        cx.set_tstate(th)
        return old

    def fence(self, cx: ModelContext, kind: str) -> None:
        th: RelaxedThread = cx.tstate(self.initial())
        cx.set_tstate(self._fence(th, kind))
