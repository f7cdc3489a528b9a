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
an acquire load also raises vrNew. An ordinary or release store goes into the thread's
store buffer (storebuffer.py) and is appended at a fresh timestamp when a later drain
step makes it visible; appending updates coh(x), vwOld, the forwarding bank and, for a
release, vRel. A load of a location with a buffered store forwards from it. Fences: smp_mb
(dmb sy) waits for the buffer to drain, then vrNew ⊔= vrOld ⊔ vwOld; smp_rmb / acquire
fence (dmb ld) vrNew ⊔= vrOld; smp_wmb / release fence (dmb st) starts a new buffer
epoch (stores before it become visible before stores after it). An RMW reads the newest
message (exclusive: nothing may come between it and its write) once the CPU's own stores
to that location are visible; a fully ordered ("mb") RMW that writes is smp_mb();
acquire-read; release-write; smp_mb(); a release RMW waits for the buffer. A failed
cmpxchg is an unordered read. "ghost" stores (model bookkeeping) are appended at once.

So it allows load->load reordering (reading an older message), store->load reordering
(a load not ordered after an earlier store reads a message older than it), store->store
reordering (a buffered store overtaken by a later one: 2+2W, R, S, MP without smp_wmb),
per-location coherence, acquire/release, fences and address/data dependencies (an
address or data dependency orders a load after the read it depends on; a control
dependency orders nothing here, as no store can overtake a load).

Leaves out (each makes the model stronger than ARMv8 / RVWMO, never weaker):
- promises, hence load buffering (load->store reordering: LB and its relatives): a store
  enters the buffer only after the loads before it have read;
- store->store reordering inside one engine step (an `Atomic` step's stores drain
  together, in program order);
- an RMW's store is never buffered (visible at once, with its read), so the store half of
  an acquire RMW cannot become visible after later stores;
- isb / control+isb, exclusives' failure paths, mixed-size accesses.
- with `store_buffer=False` ("relaxed-nosb") stores are appended at once, in program
  order, so store->store reordering is left out as well: the model before store buffers,
  kept because its exploration of the kernel scenarios finishes where the buffered one
  does not (docs/memory-models.md, "Cost").
Being multi-copy atomic (one memory for all threads), it forbids the non-multi-copy-atomic
outcomes LKMM allows (IRIW / WRC with only read-side ordering).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from pagerace.engine.memory import storebuffer as sb
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
    buf: sb.Buffer = ()  # stores not yet visible to other CPUs (storebuffer.py)
    epoch: int = 0  # smp_wmb() / release fences so far: the buffer drains in epoch order


def _dep_view(th: RelaxedThread, deps: tuple[Hashable, ...]) -> int:
    return max((int(get(th.rview, d, 0)) for d in deps), default=0)


class Relaxed(MemoryModel):
    name = "relaxed"
    follows = ("the promise-free fragment of Promising-ARM/RISC-V (Pulte et al., "
               "PLDI 2019)")

    def __init__(self, store_buffer: bool = True) -> None:
        self.store_buffer = store_buffer
        if not store_buffer:
            self.name = "relaxed-nosb"
            self.follows = (self.follows + ", without store buffers (stores visible in "
                            "program order)")

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
                    memory=self.name, weak="older-message", loc=loc_name(loc), ts=m.ts)
        th = th._replace(
            coh=put(th.coh, loc, max(coh, vpost, m.ts)),
            vr_old=max(th.vr_old, vpost),
            vr_new=max(th.vr_new, vpost) if order in ACQUIRE else th.vr_new,
            rview=put(th.rview, loc, vpost))
        return th, value_of(m, default)

    def _write(self, cx: ModelContext, th: RelaxedThread, loc: Hashable, value: Any,
               order: str, dep_view: int) -> RelaxedThread:
        ts = cx.append(loc, value)
        return th._replace(
            coh=put(th.coh, loc, ts), vw_old=max(th.vw_old, ts),
            v_rel=max(th.v_rel, ts) if order in RELEASE else th.v_rel,
            fwd=put(th.fwd, loc, (ts, dep_view)))

    # -- the store buffer (storebuffer.py) -------------------------------------------
    @staticmethod
    def _split(cx: ModelContext, th: RelaxedThread) -> tuple[sb.Buffer, sb.Buffer]:
        """The buffer as (entries of earlier steps, entries this step made)."""
        mine = int(cx.scratch.get("mine", 0))
        cut = len(th.buf) - mine
        return th.buf[:cut], th.buf[cut:]

    def _flush_mine(self, cx: ModelContext, th: RelaxedThread) -> RelaxedThread:
        """Make this step's own buffered stores visible now, in program order (at a full
        fence, an RMW of a location they hold, ...: they drain at that point of the step).
        Where an older entry must go first, the step waits for it (MustDrain); with no
        older entries this always succeeds, so a waiting step can always run later."""
        older, mine = self._split(cx, th)
        for k, e in enumerate(mine):
            if len(older) not in sb.eligible(older + mine[k:]):
                raise sb.MustDrain
            for st in e.stores:
                th = self._write(cx, th, st.loc, st.value, st.order, st.dep_view)
        cx.scratch["mine"] = 0
        cx.scratch.pop("open", None)
        return th._replace(buf=older)

    def _full(self, cx: ModelContext, th: RelaxedThread) -> RelaxedThread:
        """smp_mb(): every earlier store visible first, then the fence."""
        if self._split(cx, th)[0]:
            raise sb.MustDrain
        return self._fence(self._flush_mine(cx, th), "mb")

    def _buffer(self, cx: ModelContext, th: RelaxedThread, loc: Hashable, value: Any,
                order: str, deps: tuple[Hashable, ...]) -> RelaxedThread:
        st = sb.Buffered(loc, value, order, _dep_view(th, deps))
        if cx.scratch.get("open") and order not in RELEASE:
            last = th.buf[-1]
            return th._replace(buf=th.buf[:-1] + (last._replace(stores=last.stores + (st,)),))
        cx.scratch["mine"] = int(cx.scratch.get("mine", 0)) + 1
        if order in RELEASE:  # its own entry, closing its epoch; later stores may pass it
            cx.scratch.pop("open", None)      # but not the stores before it
            return th._replace(buf=th.buf + (sb.Entry((st,), th.epoch, release=True),),
                               epoch=th.epoch + 1)
        cx.scratch["open"] = True
        return th._replace(buf=th.buf + (sb.Entry((st,), th.epoch),))

    def drainable(self, tstate: Any) -> list[int]:
        return sb.eligible(tstate.buf) if tstate is not None and tstate.buf else []

    def forwarded(self, tstate: Any, loc: Hashable) -> tuple[bool, Any]:
        got = sb.forward(tstate.buf, loc) if tstate is not None else None
        return (False, None) if got is None else (True, got.value)

    def drain(self, cx: ModelContext, entry: int) -> str:
        th: RelaxedThread = cx.tstate(self.initial())
        if entry not in sb.eligible(th.buf):
            raise RuntimeError(f"store-buffer entry {entry} may not drain now")
        e = th.buf[entry]
        passed = th.buf[:entry]
        th = th._replace(buf=th.buf[:entry] + th.buf[entry + 1:])
        for s in e.stores:
            th = self._write(cx, th, s.loc, s.value, s.order, s.dep_view)
            cx.buffer_write(s.loc)
        cx.set_tstate(th)
        if passed:
            older = "; ".join(sb.describe(p) for p in passed)
            cx.note(f"store {sb.describe(e)} becomes visible before this CPU's earlier "
                    f"store(s) {older}: no smp_wmb(), release or full fence comes between "
                    "them and they are to different locations",
                    memory=self.name, weak="store-reordered")
        return f"store buffer drains {sb.describe(e)}"

    @staticmethod
    def _fence(th: RelaxedThread, kind: str) -> RelaxedThread:
        if kind == "mb":
            return th._replace(vr_new=max(th.vr_new, th.vr_old, th.vw_old))
        if kind in ("rmb", "acquire"):
            return th._replace(vr_new=max(th.vr_new, th.vr_old))
        return th  # wmb, release: order the store buffer (a new epoch: see fence())

    def load(self, cx: ModelContext, loc: Hashable, default: Any, order: str,
             deps: tuple[Hashable, ...]) -> Any:
        th: RelaxedThread = cx.tstate(self.initial())
        if order == "mb":
            th = self._full(cx, th)
        if order in ACQUIRE and sb.has_release(th.buf):
            # an acquire load waits for an earlier release store to be visible
            if sb.has_release(self._split(cx, th)[0]):
                raise sb.MustDrain
            th = self._flush_mine(cx, th)
        fw = sb.forward(th.buf, loc)
        if fw is not None:  # forwarded from this CPU's own buffered store
            cx.buffer_read(loc)
            vpre = max(_dep_view(th, deps), th.vr_new)
            vpost = max(vpre, fw.dep_view)
            th = th._replace(vr_old=max(th.vr_old, vpost), rview=put(th.rview, loc, vpost),
                             vr_new=max(th.vr_new, vpost) if order in ACQUIRE else th.vr_new)
            cx.note(f"read {loc_name(loc)} = {fw.value!r} from this CPU's store buffer "
                    "(forwarding; the store is not yet visible to other CPUs)",
                    memory=self.name, weak="forwarded")
            v: Any = fw.value
        else:
            th, v = self._read(cx, th, loc, default, order, deps, newest=False)
        if order == "mb":
            th = self._fence(th, "mb")
        cx.set_tstate(th)
        return v

    def store(self, cx: ModelContext, loc: Hashable, value: Any, order: str,
              deps: tuple[Hashable, ...]) -> None:
        th: RelaxedThread = cx.tstate(self.initial())
        if order == "ghost":
            th = self._write(cx, th, loc, value, order, 0)
        elif order == "mb":
            th = self._full(cx, th)
            th = self._fence(self._write(cx, th, loc, value, order, _dep_view(th, deps)),
                             "mb")
        elif not self.store_buffer:  # relaxed-nosb: visible at once, in program order
            th = self._write(cx, th, loc, value, order, _dep_view(th, deps))
        else:
            th = self._buffer(cx, th, loc, value, order, deps)
        cx.set_tstate(th)

    def update(self, cx: ModelContext, loc: Hashable, fn: Callable[[Any], Any],
               default: Any, order: str, deps: tuple[Hashable, ...]) -> Any:
        th: RelaxedThread = cx.tstate(self.initial())
        older, mine = self._split(cx, th)
        if any(loc in e.locs for e in th.buf):
            cx.buffer_read(loc)
        if any(loc in e.locs for e in older):
            raise sb.MustDrain  # an RMW reads memory: this CPU's own store must be there
        if any(loc in e.locs for e in mine):
            th = self._flush_mine(cx, th)
        hist = cx.hist(loc)
        new = fn(value_of(hist[-1], default))
        writes = new is not NO_WRITE
        if writes and order in RELEASE:
            th = self._full(cx, th) if order == "mb" else self._release_all(cx, th)
        read_order = order if writes else "relaxed"
        th, old = self._read(cx, th, loc, default, read_order, deps, newest=True)
        if writes:
            th = self._write(cx, th, loc, new, order, _dep_view(th, deps + (loc,)))
            if order == "mb":
                th = self._fence(th, "mb")
        cx.set_tstate(th)
        return old

    def _release_all(self, cx: ModelContext, th: RelaxedThread) -> RelaxedThread:
        """A release RMW: every earlier store visible first (no fence on later reads)."""
        if self._split(cx, th)[0]:
            raise sb.MustDrain
        return self._flush_mine(cx, th)

    def fence(self, cx: ModelContext, kind: str) -> None:
        th: RelaxedThread = cx.tstate(self.initial())
        if kind == "mb":
            th = self._full(cx, th)
        elif kind in ("wmb", "release"):
            if not self.store_buffer:
                return  # stores are already visible in program order
            cx.scratch.pop("open", None)
            th = th._replace(epoch=th.epoch + 1)
        else:
            th = self._fence(th, kind)
        cx.set_tstate(th)
