"""Descriptor access: one struct page field read or written through the vmemmap.

Every descriptor access is ONE step that reads the PTE current at that step (vmemmap.py;
with `KernelConfig.tlb = "percpu"` the CPU's TLB entry, tlb.py) and then the field, and
attaches a trace note (cpu, pfn, vpage, frame, perm, field, access, value...): the notes
are what the trace shows and what instruments (tracepoints, tracepoint.py) match on. A
write through a read-only PTE is an oops naming the pfn, the vmemmap page, the frame and
the kernel function; any access through a hole is an oops.

Checks that stay inside the step (they raise in the step that does the bad thing, read
ghost state through `peek` and so add no footprint): a refcount stored below zero
("refcount"), and a write that changes a value through a vmemmap page HVO aliased onto a
deduplicated frame ("dedup-write", or counted in `("ghost", "dedup_writes")` when
KernelConfig.ghost_violations is "record"); with per-CPU TLBs, an access that lands on a
freed vmemmap frame ("stale-tlb-write", "vmemmap-use-after-free", tlb.py).

Ordering (used only under a weak memory model, engine/memory/): the PTE read of a
translation is READ_ONCE ("once"), and the field access that follows carries an address
dependency on it (`Where.deps`: the PTE, and with per-CPU TLBs the CPU's TLB state), so a
translation read from an older PTE message reaches the frame that PTE named, and the
field read through a new PTE sees what was stored before that PTE. Each access function
takes the kernel function's `order` (read_desc / write_desc: "once" for READ_ONCE /
WRITE_ONCE / atomic_read / atomic_set; the callers pass "acquire" / "release" for
atomic_read_acquire / atomic_set_release); an atomic read-modify-write goes through
`rmw_read` (one `view.update`: it reads the newest value, as an exclusive does) with the
order the architecture profile records. Ghost checks read through `peek` (the newest
value), never as weakly ordered messages.

Leaves out: word tearing (a field is read or written whole).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any, NamedTuple

from pagerace.engine.ops import Atomic
from pagerace.engine.view import NO_WRITE, StepView
from pagerace.engine.violation import Violation
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.step import Gen
from pagerace.kernel.tlb import check_frame_live, check_store_live, tlb_loc, tlb_translate
from pagerace.kernel.vmemmap import (
    DEDUP_WRITES,
    FIELD_DEFAULTS,
    REFCOUNT,
    RW,
    STALE_TLB,
    field_loc,
    ghost_loc,
    pte_loc,
    read_pte,
)


class Where(NamedTuple):
    """Where one descriptor access lands: pfn -> vmemmap page -> frame (permission)."""

    pfn: int
    vpage: int
    slot: int
    frame: int
    perm: str
    tlb: str = ""  # per-CPU TLBs (tlb.py): "TLB hit", "TLB fill" or STALE_TLB
    deps: tuple[Hashable, ...] = ()  # what the address was computed from (weak memory)

    @property
    def stale(self) -> bool:
        """Through a TLB entry that no longer matches the PTE."""
        return self.tlb == STALE_TLB

    def loc(self, field: str) -> tuple[str, int, int, str]:
        return field_loc(self.frame, self.slot, field)

    def describe(self) -> str:
        stale = f", {STALE_TLB}" if self.stale else ""
        return (f"pfn {self.pfn} via vmemmap[{self.vpage}] -> frame {self.frame} "
                f"({self.perm}{stale})")


def translate(view: StepView, k: KernelHandle, pfn: int, field: str, access: str,
              func: str) -> Where:
    """Translate pfn's descriptor address; an oops on a hole."""
    g = k.geometry
    vpage, slot = g.vpage(pfn), g.slot(pfn)
    if k.config.tlb == "percpu":
        return _translate_tlb(view, k, pfn, vpage, slot, field, access, func)
    pte = read_pte(view, k, vpage)
    if pte is None:
        raise _hole(view, pfn, vpage, field, access, func)
    return Where(pfn, vpage, slot, pte[0], pte[1], deps=(pte_loc(vpage),))


class PageWalks:
    """translate() for the many descriptors of one step, walked once per vmemmap page.

    The first access to a page translates it as translate() does (the PTE read, or the
    CPU's TLB); every later access of the step to the same page, for the same kind of
    access, reuses that translation, as the CPU's TLB entry filled (or hit) by the first
    access serves the rest (a step is atomic, so the PTE cannot change in between). With
    per-CPU TLBs each access still checks its frame is live."""

    def __init__(self, view: StepView, k: KernelHandle, func: str) -> None:
        self.view, self.k, self.func = view, k, func
        self.pages: dict[tuple[int, str], Where] = {}

    def __call__(self, pfn: int, field: str, access: str) -> Where:
        g = self.k.geometry
        vpage = g.vpage(pfn)
        base = self.pages.get((vpage, access))
        if base is None:
            w = self.pages[vpage, access] = translate(self.view, self.k, pfn, field,
                                                      access, self.func)
            return w
        w = Where(pfn, vpage, g.slot(pfn), base.frame, base.perm,
                  "TLB hit" if base.tlb == "TLB fill" else base.tlb, base.deps)
        if self.k.config.tlb == "percpu":
            check_frame_live(self.view, self.k, w, field, access, self.func)
        return w


def _translate_tlb(view: StepView, k: KernelHandle, pfn: int, vpage: int, slot: int,
                   field: str, access: str, func: str) -> Where:
    """translate() through CPU k.cpu's TLB (tlb.py); also checks the frame is not freed."""
    hit = tlb_translate(view, k, vpage, access)
    if hit is None:
        raise _hole(view, pfn, vpage, field, access, func)
    w = Where(pfn, vpage, slot, hit[0], hit[1], hit[2],
              deps=(pte_loc(vpage), tlb_loc(k.cpu)))
    check_frame_live(view, k, w, field, access, func)
    return w


def _hole(view: StepView, pfn: int, vpage: int, field: str, access: str,
          func: str) -> Violation:
    view.note(f"pfn {pfn} via vmemmap[{vpage}]: HOLE ({access} {field})", pfn=pfn,
              vpage=vpage, frame=None, perm=None, field=field, access=access, func=func)
    return Violation("oops", f"{func}: {access} of {field} of pfn {pfn} through a "
                     f"vmemmap hole: vmemmap[{vpage}] is not mapped")


def note_access(view: StepView, k: KernelHandle, w: Where, field: str, access: str,
                func: str, text: str, **extra: Any) -> None:
    """The trace note of one access (what tracepoints match on)."""
    if w.tlb:
        extra["tlb"] = w.tlb
    view.note(f"{w.describe()}: {text}", pfn=w.pfn, vpage=w.vpage, frame=w.frame,
              perm=w.perm, field=field, access=access, func=func, cpu=k.cpu, **extra)


def ro_fault(w: Where, field: str, func: str, what: str) -> Violation:
    return Violation("oops", f"{func}: write to read-only vmemmap: {w.describe()}, "
                     f"{field} ({what})")


def rmw_read(view: StepView, w: Where, field: str, decide: Callable[[Any], Any],
             order: str) -> Any:
    """The read of an atomic read-modify-write through `w`; returns the value found.

    `decide(found)` is the value the instruction stores, or NO_WRITE. Under "sc" a plain
    load (the caller's checked_store does the store, as before); under a weak model one
    `view.update` that also stores (the caller's checked_store then only checks)."""
    loc = w.loc(field)
    if not view.weak:
        return view.load(loc, FIELD_DEFAULTS[field])
    return view.update(loc, decide, FIELD_DEFAULTS[field], order, w.deps)


def fence_after_failed_rmw(view: StepView, order_no_store: str) -> None:
    """The ordering an RMW that did not store still gives (arch.py ordering_no_store)."""
    if order_no_store == "mb":
        view.fence("mb")
    elif order_no_store == "acquire":
        view.fence("acquire")  # orders every earlier read too: stronger, never weaker


def checked_store(view: StepView, k: KernelHandle, w: Where, field: str, value: Any,
                  func: str, what: str, order: str = "once", old: Any = NO_WRITE) -> None:
    """Store a field through `w`: faults on ro, checks refcount and dedup ghosts.

    Under a weak model an RMW's store was already done by `rmw_read` (the caller passes
    the value it found as `old`); a plain store's old value is peeked (ghost check)."""
    if w.perm != RW:
        raise ro_fault(w, field, func, what)
    if k.config.tlb == "percpu":
        check_store_live(view, k, w, field, func)
    loc = w.loc(field)
    stored = view.weak and old is not NO_WRITE
    if not view.weak:
        old = view.load(loc, FIELD_DEFAULTS[field])
    elif not stored:
        old = view.peek(loc, FIELD_DEFAULTS[field])
    if field == REFCOUNT and isinstance(value, int) and value < 0:
        raise Violation("refcount", f"{func}: _refcount of pfn {w.pfn} becomes {value} "
                        f"({w.describe()})")
    if value != old and view.peek(ghost_loc("alias", w.vpage), False):
        if k.config.ghost_violations == "raise":
            raise Violation("dedup-write", f"{func}: {field} of pfn {w.pfn} changed "
                            f"{old!r} -> {value!r} through vmemmap[{w.vpage}], an alias of "
                            f"the deduplicated frame {w.frame}")
        view.ghost(DEDUP_WRITES, view.peek(DEDUP_WRITES, 0) + 1)
    if not stored:
        view.store(loc, value, order=order, deps=w.deps)


def fmt(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1 << 32:
        return f"{value:#x}"
    return repr(value) if isinstance(value, str) else str(value)


# -- descriptor accesses: one step each ----------------------------------------------------

def read_desc(k: KernelHandle, pfn: int, field: str, func: str, label: str = "",
              order: str = "once") -> Gen:
    """READ_ONCE / atomic_read (order "once") or atomic_read_acquire ("acquire") of one
    descriptor field."""
    def fn(view: StepView, outcome: int) -> Any:
        w = translate(view, k, pfn, field, "read", func)
        value = view.load(w.loc(field), FIELD_DEFAULTS[field], order=order, deps=w.deps)
        note_access(view, k, w, field, "read", func, f"read {field} = {fmt(value)}",
                    value=value)
        return value
    return (yield Atomic(fn, label or f"{func}: read {field} of pfn {pfn}"))


def write_desc(k: KernelHandle, pfn: int, field: str, value: Any, func: str,
               label: str = "", order: str = "once") -> Gen:
    """WRITE_ONCE / atomic_set (order "once") or atomic_set_release ("release") of one
    descriptor field."""
    def fn(view: StepView, outcome: int) -> None:
        w = translate(view, k, pfn, field, "write", func)
        note_access(view, k, w, field, "write", func, f"write {field} = {fmt(value)}",
                    value=value)
        checked_store(view, k, w, field, value, func, "store", order=order)
    return (yield Atomic(fn, label or f"{func}: write {field} of pfn {pfn}"))


def update_desc(k: KernelHandle, pfn: int, field: str, update: Callable[[Any], Any],
                func: str, label: str, order: str = "relaxed") -> Gen:
    """An atomic read-modify-write that always writes (atomic_inc, set_bit, ...: no
    return value, so "relaxed"). Returns (old, new)."""
    def fn(view: StepView, outcome: int) -> tuple[Any, Any]:
        w = translate(view, k, pfn, field, "rmw", func)
        old = rmw_read(view, w, field, update, order)
        new = update(old)
        note_access(view, k, w, field, "rmw", func, f"{field} {fmt(old)} -> {fmt(new)}",
                    value=old, new=new, write_cycle=True)
        checked_store(view, k, w, field, new, func, "atomic read-modify-write", old=old)
        return old, new
    return (yield Atomic(fn, label))


def write_descs(k: KernelHandle, writes: Iterable[tuple[int, str, Any]], func: str,
                label: str) -> Gen:
    """Several plain stores (order "plain") by the owner of the descriptors, grouped into
    one step. A store through a read-only PTE gets its own note (the oops); the others are listed in
    the step's summary note as `accesses` (what tracepoints match on)."""
    batch = tuple(writes)

    def fn(view: StepView, outcome: int) -> None:
        accesses: list[dict[str, Any]] = []
        walk = PageWalks(view, k, func)
        for pfn, field, value in batch:
            w = walk(pfn, field, "write")
            if w.perm != RW:
                note_access(view, k, w, field, "write", func, f"write {field} = {fmt(value)}",
                            value=value)
            else:
                accesses.append({"pfn": w.pfn, "vpage": w.vpage, "frame": w.frame,
                                 "perm": w.perm, "field": field, "access": "write",
                                 "value": value, "cpu": k.cpu})
            checked_store(view, k, w, field, value, func, "store", order="plain")
        if batch:
            first, last = batch[0][0], batch[-1][0]
            view.note(f"{func}: {len(batch)} stores to pfns {first}..{last}", func=func,
                      access="write", pfn=first, accesses=accesses)
    return (yield Atomic(fn, label))
