"""The vmemmap page table and the physical frames holding struct pages.

Models the kernel's virtually mapped memory map (SPARSEMEM_VMEMMAP) below the descriptor
level (descriptor.py does the accesses through it). State locations:

- `("pte", vpage)` -> `(frame, "rw" | "ro")`, or `"hole"` when unmapped. An absent entry is
  the boot mapping (mm/sparse-vmemmap.c, vmemmap_populate()): inside present memory the
  vmemmap page is mapped read-write to its own frame, whose number is the vmemmap page
  index; outside present memory it is a hole. So a terabyte of pfns costs nothing until
  touched.
- `("frame", frame, slot, field)` -> one field of the descriptor in slot `slot` of physical
  frame `frame`; untouched fields read as `FIELD_DEFAULTS` (a free page: all zero).
- `("frame_next",)` -> the next frame number the frame allocator hands out (vmemmap frames
  come from alloc_pages_node() in the kernel; here they are a separate namespace).

Two vmemmap pages on one frame share contents. With `KernelConfig.tlb = "current"` (the
default) translation is always current and TLB flushes are trace notes; with `"percpu"`
each access goes through the CPU's TLB (tlb.py) and flushes are the architecture's
(tlbflush.py).

Ghost state (never read by kernel code, only by checks, through `view.peek`):
- `("ghost", "frame_maps", frame)`: how many PTEs map the frame (freeing a mapped frame is
  a bug: "freed while mapped", raised, or counted in `("ghost", "freed_while_mapped")`
  when KernelConfig.ghost_violations is "record");
- `("ghost", "frame_free", frame)`: the frame was freed (freeing it again is a bug);
  with per-CPU TLBs `("ghost", "frame_freed_by", frame)` says by whom;
- `("ghost", "alias", vpage)`: the vmemmap page was remapped onto a deduplicated frame by
  HVO (descriptor.py checks writes through it).
These checks stay inside the step: they decide nothing, read through `peek`, and moving
them to an instrument would change the footprint of the step that raises them.

Under a weak memory model (engine/memory/) a PTE is read with READ_ONCE ("once": x86 and
arm64 read the entry with READ_ONCE / ptep_get()) and written by set_pte() with
WRITE_ONCE ("once"); the frame allocator's counter is lock-protected state
(memory_model.locked_load); copy_page()'s reads carry the address dependency on the
source PTE; ghost state is read through `peek` only.

Leaves out: PMD-level mappings, the direct map alias of the frames.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from pagerace.engine.view import StepView
from pagerace.engine.violation import Violation
from pagerace.kernel.handle import COMPOUND_HEAD, COMPOUND_INFO, KernelHandle
from pagerace.kernel.memory_model import locked_load, read_newest

HOLE = "hole"
RW = "rw"
RO = "ro"

# struct page fields the model keeps (see struct_page.py for their meaning)
FLAGS = "flags"
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


def read_pte(view: StepView, k: KernelHandle, vpage: int,
             newest: bool = False) -> tuple[int, str] | None:
    """The PTE of a vmemmap page as the page-table walk sees it now (None = hole).

    `newest`: a hardware walk that fills a TLB entry (tlb.py) reads the newest PTE under
    a weak model: with per-CPU TLBs a stale translation is the TLB model's (an entry
    kept until a flush reaches it), and a walk after a completed flush sees the new PTE
    (set_pte()'s dsb(ishst), then TLBI + DSB)."""
    if newest:
        pte = read_newest(view, pte_loc(vpage), None)
    else:
        pte = view.load(pte_loc(vpage), None, order="once")
    if pte is None:
        return (vpage, RW) if k.vpage_present(vpage) else None
    if pte == HOLE:
        return None
    frame, perm = pte
    return int(frame), str(perm)


def boot_frame_maps(k: KernelHandle, frame: int) -> int:
    return 1 if frame < k.first_fresh_frame and k.vpage_present(frame) else 0


def alloc_frame(view: StepView, k: KernelHandle) -> int:
    """alloc_pages_node(nid, GFP_KERNEL, 0) of a vmemmap frame (never fails here)."""
    frame = int(locked_load(view, FRAME_NEXT, k.first_fresh_frame))
    view.store(FRAME_NEXT, frame + 1)
    return frame


def free_frame(view: StepView, k: KernelHandle, frame: int, func: str) -> None:
    """__free_page() of a vmemmap frame: a double free or a still-mapped frame is a bug."""
    if view.peek(ghost_loc("frame_free", frame), False):
        raise Violation("bug", f"{func}: double free of vmemmap frame {frame}")
    maps = view.peek(ghost_loc("frame_maps", frame), boot_frame_maps(k, frame))
    if maps:
        if k.config.ghost_violations == "raise":
            raise Violation("bug", f"{func}: vmemmap frame {frame} freed while still "
                            f"mapped by {maps} vmemmap PTE(s)")
        view.ghost(FREED_WHILE_MAPPED, view.peek(FREED_WHILE_MAPPED, 0) + 1)
    view.ghost(ghost_loc("frame_free", frame), True)
    if k.config.tlb == "percpu":  # who freed it, for tlb.py's use-after-free messages
        view.ghost(ghost_loc("frame_freed_by", frame), f"{func} on CPU {k.cpu}")


def set_pte(view: StepView, k: KernelHandle, vpage: int, frame: int | None, perm: str,
            alias: bool) -> None:
    """set_pte_at(&init_mm, addr, pte, mk_pte(frame, prot)) plus the ghost bookkeeping."""
    old = read_pte(view, k, vpage)
    if old is not None:
        f0 = old[0]
        maps0 = view.peek(ghost_loc("frame_maps", f0), boot_frame_maps(k, f0))
        view.ghost(ghost_loc("frame_maps", f0), maps0 - 1)
    if frame is None:
        view.store(pte_loc(vpage), HOLE, order="once")
    else:
        maps1 = view.peek(ghost_loc("frame_maps", frame), boot_frame_maps(k, frame))
        view.ghost(ghost_loc("frame_maps", frame), maps1 + 1)
        view.store(pte_loc(vpage), (frame, perm), order="once")
    if alias != bool(view.peek(ghost_loc("alias", vpage), False)):
        view.ghost(ghost_loc("alias", vpage), alias)


def read_frame_slot(view: StepView, frame: int, slot: int, fields: Iterable[str],
                    deps: tuple[Hashable, ...] = ()) -> dict[str, Any]:
    """copy_page()'s plain loads of one descriptor (`deps`: the translation's PTE)."""
    return {f: view.load(field_loc(frame, slot, f), FIELD_DEFAULTS[f], order="plain",
                         deps=deps) for f in fields}


def write_frame_slot(view: StepView, frame: int, slot: int, values: dict[str, Any]) -> None:
    """Store into a frame through its linear-map address (page_to_virt): no vmemmap PTE.

    Used only on frames not yet mapped in the vmemmap (fresh copies), so stores of a
    field's default value are skipped to keep the state sparse."""
    for f, v in values.items():
        loc = field_loc(frame, slot, f)
        if v != FIELD_DEFAULTS[f] or view.peek(loc, None) is not None:
            view.store(loc, v)
