"""The vmemmap: physical frames holding struct pages, PTEs mapping them, translation.

Models the kernel's virtually mapped memory map (SPARSEMEM_VMEMMAP): every struct page
access goes through the vmemmap page table. State locations:

- `("pte", vpage)` -> `(frame, "rw" | "ro")`, or `"hole"` when unmapped. An absent entry is
  the boot mapping (mm/sparse-vmemmap.c, vmemmap_populate()): inside present memory the
  vmemmap page is mapped read-write to its own frame, whose number is the vmemmap page
  index; outside present memory it is a hole. So a terabyte of pfns costs nothing until
  touched.
- `("frame", frame, slot, field)` -> one field of the descriptor in slot `slot` of physical
  frame `frame`; untouched fields read as `FIELD_DEFAULTS` (a free page: all zero).
- `("frame_next",)` -> the next frame number the frame allocator hands out (vmemmap frames
  come from alloc_pages_node() in the kernel; here they are a separate namespace).

Every descriptor access is ONE step that reads the PTE current at that step and then the
field, and attaches a trace note (pfn, vpage, frame, perm, field, access, values). A write
through a read-only PTE is an oops naming the pfn, the vmemmap page, the frame and the
kernel function; any access through a hole is an oops. Two vmemmap pages on one frame
share contents. With `KernelConfig.tlb = "current"` (the default) translation is always
current and TLB flushes are trace notes; with `"percpu"` each access goes through the
CPU's TLB (tlb.py) and flushes are the architecture's (tlbflush.py).

Ghost state (never read by kernel code, only by checks, through `view.peek`):
- `("ghost", "frame_maps", frame)`: how many PTEs map the frame (freeing a mapped frame is
  a bug: "freed while mapped");
- `("ghost", "frame_free", frame)`: the frame was freed (freeing it again is a bug);
  with per-CPU TLBs `("ghost", "frame_freed_by", frame)` says by whom;
- `("ghost", "alias", vpage)`: the vmemmap page was remapped onto a deduplicated frame by
  HVO; a write through it that changes a value is a "dedup-write" violation (or is counted
  in `("ghost", "dedup_writes")` when KernelConfig.ghost_violations is "record");
- `("ghost", "tracepoint", name)`: a `Tracepoint` of the kernel config matched an access.

Leaves out: PMD-level mappings, the direct map alias of the frames.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pagerace.engine.ops import Atomic, Op
from pagerace.engine.view import StepView
from pagerace.engine.violation import Violation

if TYPE_CHECKING:
    from pagerace.kernel.kernel import Kernel

Gen = Generator[Op, Any, Any]

HOLE = "hole"
RW = "rw"
RO = "ro"

# struct page fields the model keeps (see struct_page.py for their meaning)
FLAGS = "flags"
COMPOUND_HEAD = "compound_head"  # G0-G2: head address | 1 on tails
COMPOUND_INFO = "compound_info"  # G3 (v7.1): mask | 1 on tails
REFCOUNT = "_refcount"
PAGE_TYPE = "page_type"
FLAGS_1 = "_flags_1"  # folio->_flags_1 on the first tail: the folio order
FIELD_DEFAULTS: dict[str, Any] = {
    FLAGS: 0, COMPOUND_HEAD: 0, COMPOUND_INFO: 0, REFCOUNT: 0, PAGE_TYPE: None, FLAGS_1: 0,
}


def pte_loc(vpage: int) -> tuple[str, int]:
    return ("pte", vpage)


def field_loc(frame: int, slot: int, field: str) -> tuple[str, int, int, str]:
    return ("frame", frame, slot, field)


def ghost_loc(*parts: str | int) -> tuple[str | int, ...]:
    return ("ghost", *parts)


FRAME_NEXT = ("frame_next",)
STALE_TLB = "stale TLB entry"
DEDUP_WRITES = ghost_loc("dedup_writes")
FREED_WHILE_MAPPED = ghost_loc("freed_while_mapped")


@dataclass(frozen=True)
class Where:
    """Where one descriptor access lands: pfn -> vmemmap page -> frame (permission)."""

    pfn: int
    vpage: int
    slot: int
    frame: int
    perm: str
    tlb: str = ""  # per-CPU TLBs (tlb.py): "TLB hit", "TLB fill" or STALE_TLB

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


def read_pte(view: StepView, k: Kernel, vpage: int) -> tuple[int, str] | None:
    """The PTE of a vmemmap page as the page-table walk sees it now (None = hole)."""
    pte = view.load(pte_loc(vpage), None)
    if pte is None:
        return (vpage, RW) if k.vpage_present(vpage) else None
    if pte == HOLE:
        return None
    frame, perm = pte
    return int(frame), str(perm)


def translate(view: StepView, k: Kernel, pfn: int, field: str, access: str,
              func: str) -> Where:
    """Translate pfn's descriptor address; an oops on a hole."""
    g = k.geometry
    vpage, slot = g.vpage(pfn), g.slot(pfn)
    if k.config.tlb == "percpu":
        return _translate_tlb(view, k, pfn, vpage, slot, field, access, func)
    pte = read_pte(view, k, vpage)
    if pte is None:
        view.note(f"pfn {pfn} via vmemmap[{vpage}]: HOLE ({access} {field})", pfn=pfn,
                  vpage=vpage, frame=None, perm=None, field=field, access=access, func=func)
        raise Violation("oops", f"{func}: {access} of {field} of pfn {pfn} through a "
                        f"vmemmap hole: vmemmap[{vpage}] is not mapped")
    return Where(pfn, vpage, slot, pte[0], pte[1])


def _translate_tlb(view: StepView, k: Kernel, pfn: int, vpage: int, slot: int, field: str,
                   access: str, func: str) -> Where:
    """translate() through CPU k.cpu's TLB (tlb.py); also checks the frame is not freed."""
    from pagerace.kernel import tlb
    hit = tlb.tlb_translate(view, k, vpage, access)
    if hit is None:
        view.note(f"pfn {pfn} via vmemmap[{vpage}]: HOLE ({access} {field})", pfn=pfn,
                  vpage=vpage, frame=None, perm=None, field=field, access=access, func=func)
        raise Violation("oops", f"{func}: {access} of {field} of pfn {pfn} through a "
                        f"vmemmap hole: vmemmap[{vpage}] is not mapped")
    w = Where(pfn, vpage, slot, hit[0], hit[1], hit[2])
    tlb.check_frame_live(view, k, w, field, access, func)
    return w


def note_access(view: StepView, k: Kernel, w: Where, field: str, access: str, func: str,
                text: str, **extra: Any) -> None:
    """The trace note of one access; also fires the matching tracepoints."""
    if w.tlb:
        extra["tlb"] = w.tlb
    view.note(f"{w.describe()}: {text}", pfn=w.pfn, vpage=w.vpage, frame=w.frame,
              perm=w.perm, field=field, access=access, func=func, **extra)
    fire_tracepoints(view, k, w, field, access, extra.get("value", ANY))


def fire_tracepoints(view: StepView, k: Kernel, w: Where, field: str, access: str,
                     value: Any) -> None:
    for tp in k.config.tracepoints:
        if tp.matches(view, k.cpu, w, field, access, value):
            view.store(tracepoint_loc(tp.name), True)


class _Any:
    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Any()


def tracepoint_loc(name: str) -> tuple[str | int, ...]:
    return ghost_loc("tracepoint", name)


@dataclass(frozen=True)
class Tracepoint:
    """A named ghost marker: `("ghost", "tracepoint", name)` becomes True in the step of
    the first descriptor access that matches every given criterion (None / ANY = any):
    the CPU, the pfn, the field, the access kind ("read", "write", "rmw", "cmpxchg"), the
    value (read; written for a write; the old value for a rmw; found for a cmpxchg), the
    permission, and whether the vmemmap page still has its boot mapping. Lets a
    `sometimes` property say "the racy window was reached"."""

    name: str
    cpu: int | None = None
    pfn: int | None = None
    field: str | None = None
    access: str | None = None
    value: Any = ANY
    perm: str | None = None
    boot_mapping: bool | None = None

    def matches(self, view: StepView, cpu: int, w: Where, field: str, access: str,
                value: Any) -> bool:
        if self.cpu is not None and self.cpu != cpu:
            return False
        if self.pfn is not None and self.pfn != w.pfn:
            return False
        if self.field is not None and self.field != field:
            return False
        if self.access is not None and self.access != access:
            return False
        if self.value is not ANY and (value is ANY or value != self.value):
            return False
        if self.perm is not None and self.perm != w.perm:
            return False
        if self.boot_mapping is not None:
            boot = view.peek(pte_loc(w.vpage), None) is None
            if boot != self.boot_mapping:
                return False
        return True


def tracepoint_hit(state: Any, name: str) -> bool:
    """Whether the tracepoint `name` fired in `state` (a mapping of the engine state)."""
    return bool(state.get(tracepoint_loc(name), False))


def ro_fault(w: Where, field: str, func: str, what: str) -> Violation:
    return Violation("oops", f"{func}: write to read-only vmemmap: {w.describe()}, "
                     f"{field} ({what})")


def checked_store(view: StepView, k: Kernel, w: Where, field: str, value: Any,
                  func: str, what: str) -> None:
    """Store a field through `w`: faults on ro, checks refcount and dedup ghosts."""
    if w.perm != RW:
        raise ro_fault(w, field, func, what)
    if k.config.tlb == "percpu":
        from pagerace.kernel.tlb import check_store_live
        check_store_live(view, k, w, field, func)
    loc = w.loc(field)
    old = view.load(loc, FIELD_DEFAULTS[field])
    if field == REFCOUNT and isinstance(value, int) and value < 0:
        raise Violation("refcount", f"{func}: _refcount of pfn {w.pfn} becomes {value} "
                        f"({w.describe()})")
    if value != old and view.peek(ghost_loc("alias", w.vpage), False):
        if k.config.ghost_violations == "raise":
            raise Violation("dedup-write", f"{func}: {field} of pfn {w.pfn} changed "
                            f"{old!r} -> {value!r} through vmemmap[{w.vpage}], an alias of "
                            f"the deduplicated frame {w.frame}")
        view.store(DEDUP_WRITES, view.peek(DEDUP_WRITES, 0) + 1)
    view.store(loc, value)


# -- descriptor accesses: one step each ----------------------------------------------------

def read_desc(k: Kernel, pfn: int, field: str, func: str, label: str = "") -> Gen:
    """READ_ONCE / atomic_read of one descriptor field."""
    def fn(view: StepView, outcome: int) -> Any:
        w = translate(view, k, pfn, field, "read", func)
        value = view.load(w.loc(field), FIELD_DEFAULTS[field])
        note_access(view, k, w, field, "read", func, f"read {field} = {fmt(value)}",
                    value=value)
        return value
    return (yield Atomic(fn, label or f"{func}: read {field} of pfn {pfn}"))


def write_desc(k: Kernel, pfn: int, field: str, value: Any, func: str,
               label: str = "") -> Gen:
    """WRITE_ONCE / atomic_set of one descriptor field."""
    def fn(view: StepView, outcome: int) -> None:
        w = translate(view, k, pfn, field, "write", func)
        note_access(view, k, w, field, "write", func, f"write {field} = {fmt(value)}",
                    value=value)
        checked_store(view, k, w, field, value, func, "store")
    return (yield Atomic(fn, label or f"{func}: write {field} of pfn {pfn}"))


def update_desc(k: Kernel, pfn: int, field: str, update: Callable[[Any], Any], func: str,
                label: str) -> Gen:
    """An atomic read-modify-write that always writes (atomic_inc, set_bit, ...).

    Returns (old, new)."""
    def fn(view: StepView, outcome: int) -> tuple[Any, Any]:
        w = translate(view, k, pfn, field, "rmw", func)
        old = view.load(w.loc(field), FIELD_DEFAULTS[field])
        new = update(old)
        note_access(view, k, w, field, "rmw", func, f"{field} {fmt(old)} -> {fmt(new)}",
                    value=old, new=new, write_cycle=True)
        checked_store(view, k, w, field, new, func, "atomic read-modify-write")
        return old, new
    return (yield Atomic(fn, label))


def write_descs(k: Kernel, writes: Iterable[tuple[int, str, Any]], func: str,
                label: str) -> Gen:
    """Several plain stores by the owner of the descriptors, grouped into one step."""
    batch = tuple(writes)

    def fn(view: StepView, outcome: int) -> None:
        for pfn, field, value in batch:
            w = translate(view, k, pfn, field, "write", func)
            if w.perm != RW:
                note_access(view, k, w, field, "write", func, f"write {field} = {fmt(value)}",
                            value=value)
            else:
                fire_tracepoints(view, k, w, field, "write", value)
            checked_store(view, k, w, field, value, func, "store")
        if batch:
            first, last = batch[0][0], batch[-1][0]
            view.note(f"{func}: {len(batch)} stores to pfns {first}..{last}", func=func,
                      access="write", pfn=first)
    return (yield Atomic(fn, label))


def fmt(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1 << 32:
        return f"{value:#x}"
    return repr(value) if isinstance(value, str) else str(value)


# -- frames --------------------------------------------------------------------------------

def boot_frame_maps(k: Kernel, frame: int) -> int:
    return 1 if frame < k.first_fresh_frame and k.vpage_present(frame) else 0


def alloc_frame(view: StepView, k: Kernel) -> int:
    """alloc_pages_node(nid, GFP_KERNEL, 0) of a vmemmap frame (never fails here)."""
    frame = int(view.load(FRAME_NEXT, k.first_fresh_frame))
    view.store(FRAME_NEXT, frame + 1)
    return frame


def free_frame(view: StepView, k: Kernel, frame: int, func: str) -> None:
    """__free_page() of a vmemmap frame: a double free or a still-mapped frame is a bug."""
    if view.peek(ghost_loc("frame_free", frame), False):
        raise Violation("bug", f"{func}: double free of vmemmap frame {frame}")
    maps = view.peek(ghost_loc("frame_maps", frame), boot_frame_maps(k, frame))
    if maps:
        if k.config.ghost_violations == "raise":
            raise Violation("bug", f"{func}: vmemmap frame {frame} freed while still "
                            f"mapped by {maps} vmemmap PTE(s)")
        view.store(FREED_WHILE_MAPPED, view.peek(FREED_WHILE_MAPPED, 0) + 1)
    view.store(ghost_loc("frame_free", frame), True)
    if k.config.tlb == "percpu":  # who freed it, for tlb.py's use-after-free messages
        view.store(ghost_loc("frame_freed_by", frame), f"{func} on CPU {k.cpu}")


def set_pte(view: StepView, k: Kernel, vpage: int, frame: int | None, perm: str,
            alias: bool) -> None:
    """set_pte_at(&init_mm, addr, pte, mk_pte(frame, prot)) plus the ghost bookkeeping."""
    old = read_pte(view, k, vpage)
    if old is not None:
        f0 = old[0]
        maps0 = view.peek(ghost_loc("frame_maps", f0), boot_frame_maps(k, f0))
        view.store(ghost_loc("frame_maps", f0), maps0 - 1)
    if frame is None:
        view.store(pte_loc(vpage), HOLE)
    else:
        maps1 = view.peek(ghost_loc("frame_maps", frame), boot_frame_maps(k, frame))
        view.store(ghost_loc("frame_maps", frame), maps1 + 1)
        view.store(pte_loc(vpage), (frame, perm))
    if alias != bool(view.peek(ghost_loc("alias", vpage), False)):
        view.store(ghost_loc("alias", vpage), alias)


def read_frame_slot(view: StepView, frame: int, slot: int,
                    fields: Iterable[str]) -> dict[str, Any]:
    return {f: view.load(field_loc(frame, slot, f), FIELD_DEFAULTS[f]) for f in fields}


def write_frame_slot(view: StepView, frame: int, slot: int, values: dict[str, Any]) -> None:
    """Store into a frame through its linear-map address (page_to_virt): no vmemmap PTE.

    Used only on frames not yet mapped in the vmemmap (fresh copies), so stores of a
    field's default value are skipped to keep the state sparse."""
    for f, v in values.items():
        loc = field_loc(frame, slot, f)
        if v != FIELD_DEFAULTS[f] or view.peek(loc, None) is not None:
            view.store(loc, v)


def flush_tlb_kernel_range(k: Kernel, first_vpage: int, end_vpage: int, func: str) -> Gen:
    """flush_tlb_kernel_range(): a note when translation is always current; with per-CPU
    TLBs the architecture's flush (tlbflush.py)."""
    from pagerace.kernel import tlbflush
    yield from tlbflush.flush_tlb_kernel_range(k, first_vpage, end_vpage, func)
