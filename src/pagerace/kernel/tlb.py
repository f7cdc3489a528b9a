"""Per-CPU TLBs of vmemmap translations (the kernel page table, init_mm, only).

Enabled by `KernelConfig.tlb = "percpu"`; with the default `"current"` every descriptor
access walks the page table as it is at that step (the model before TLBs existed). State,
per CPU:

- `("tlb", cpu)` -> a sorted tuple of `(vpage, frame, perm)`: the vmemmap translations
  the CPU has cached. Absent = empty. Written by the CPU's own accesses (a fill on a miss)
  and by flushes: the CPU's own handling of a flush IPI (tlbflush.py, irq.py), or - only
  for a broadcast invalidation (INVLPGB, arm64 TLBI ...IS) and for the IPI handler of a
  CPU whose interrupts are on - by the flusher's step. So the location is thread-private
  except for the flush steps, which really race with the CPU's accesses. A TLB is hardware
  state, not memory: under a weak model it is written with `view.ghost` (at once, never
  through a store buffer).

An access (`tlb_translate`) uses the cached entry if there is one - it does not read the
PTE, so a `set_pte()` by another CPU changes nothing it sees; on a miss it walks the page
table (reads the PTE) and caches a present entry (x86 and arm64 do not cache a
not-present entry: a hole is walked again next time). A write through an entry cached
read-only takes a page fault whose handler walks the page table again (x86
spurious_kernel_fault(), arch/x86/mm/fault.c): if the PTE now permits the write, the entry
is refreshed and the access retried; otherwise the fault is the oops the caller raises.
This refresh is modelled on every architecture.

A cached entry goes away only when its CPU handles a flush, or when it is evicted:
`tlb_eviction_program(k, cpu)` is one optional step, on a pseudo-thread of its own, that
drops every entry of `cpu`'s TLB at a point the checker chooses (capacity eviction may
happen at any time; one eviction per run is enough to reach "refilled from the new PTE").

Ghost checks of the TLB model (raised in the access step; the frame's free state is
*loaded*, so the explorer orders the access against the free that races with it):
- `stale-tlb-write`: a store through an entry that no longer matches the PTE into a
  frame that has been freed; names the frame, its owner (the page allocator) and the
  step that freed it;
- `vmemmap-use-after-free`: any other access that lands on a freed vmemmap frame (a
  read through a stale entry, or any access through a PTE that still maps a frame that
  x86 remove_pte_table() has already freed).

Leaves out: TLB capacity and replacement policy (eviction is all or nothing, once), the
paging-structure caches, PMD-level (2 MiB) vmemmap mappings, global-page and PCID
details, the direct-map alias of the frames, user address spaces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pagerace.engine.ops import Atomic
from pagerace.engine.view import StepView
from pagerace.engine.violation import Violation
from pagerace.kernel.handle import KernelHandle as Kernel
from pagerace.kernel.memory_model import locked_load
from pagerace.kernel.step import Gen
from pagerace.kernel.vmemmap import RW, STALE_TLB, ghost_loc, pte_loc, read_pte

Entry = tuple[int, int, str]  # (vpage, frame, perm)
TLB_MODES = ("current", "percpu")
WRITE_ACCESSES = ("write", "rmw", "cmpxchg")


def tlb_loc(cpu: int) -> tuple[str, int]:
    return ("tlb", cpu)


def frame_free_loc(frame: int) -> tuple[str | int, ...]:
    return ghost_loc("frame_free", frame)


def entries(view: StepView, cpu: int) -> tuple[Entry, ...]:
    return tuple(locked_load(view, tlb_loc(cpu), ()))


def cached(tlb: Iterable[Entry], vpage: int) -> tuple[int, str] | None:
    for v, frame, perm in tlb:
        if v == vpage:
            return frame, perm
    return None


def with_entry(tlb: Iterable[Entry], vpage: int, frame: int, perm: str) -> tuple[Entry, ...]:
    return tuple(sorted([e for e in tlb if e[0] != vpage] + [(vpage, frame, perm)]))


def invalidate(view: StepView, cpu: int, vpages: range | None) -> list[int]:
    """Drop `cpu`'s entries for `vpages` (None: all); return the vpages dropped. Writes the
    TLB only when something is dropped."""
    tlb = entries(view, cpu)
    keep = tuple(e for e in tlb if vpages is not None and e[0] not in vpages)
    gone = [e[0] for e in tlb if e not in keep]
    if gone:
        view.ghost(tlb_loc(cpu), keep)
    return gone


def tlb_translate(view: StepView, k: Kernel, vpage: int,
                  access: str) -> tuple[int, str, str] | None:
    """The translation CPU `k.cpu` uses for `vpage`: (frame, perm, how) or None (a hole,
    never cached). `how` is "TLB hit", "TLB fill" or STALE_TLB - a hit on an entry that
    differs from the PTE now (for traces and messages only: the PTE is peeked, not
    read, as a TLB hit does not walk the page table)."""
    cpu = k.cpu
    tlb = entries(view, cpu)
    hit = cached(tlb, vpage)
    if hit is not None and hit[1] != RW and access in WRITE_ACCESSES:
        # #PF on a read-only entry: spurious_kernel_fault() walks the page table again
        pte = read_pte(view, k, vpage, newest=True)
        if pte is not None and pte[1] == RW:
            view.ghost(tlb_loc(cpu), with_entry(tlb, vpage, *pte))
            view.note(f"CPU {cpu}: write fault on the TLB entry vmemmap[{vpage}] -> frame "
                      f"{hit[0]} (ro); spurious_kernel_fault: the PTE now maps frame "
                      f"{pte[0]} (rw): TLB refreshed, access retried", access="tlb-fill",
                      vpage=vpage, frame=pte[0], perm=pte[1], cpu=cpu)
            return pte[0], pte[1], "TLB fill"
    if hit is not None:
        return hit[0], hit[1], STALE_TLB if hit != _pte_now(view, k, vpage) else "TLB hit"
    pte = read_pte(view, k, vpage, newest=True)
    if pte is None:
        return None
    view.ghost(tlb_loc(cpu), with_entry(tlb, vpage, *pte))
    return pte[0], pte[1], "TLB fill"


def _pte_now(view: StepView, k: Kernel, vpage: int) -> tuple[int, str] | None:
    pte = view.peek(pte_loc(vpage), None)
    if pte is None:
        return (vpage, RW) if k.vpage_present(vpage) else None
    if pte == "hole":
        return None
    return int(pte[0]), str(pte[1])


def check_frame_live(view: StepView, k: Kernel, where: Any, field: str, access: str,
                     func: str) -> None:
    """Raise if the access through `where` (a vmemmap.Where) lands on a freed frame. A
    write is checked by the store (`check_store_live`), a read here."""
    freed = locked_load(view, frame_free_loc(where.frame), False)
    if freed and access == "read":
        raise Violation("vmemmap-use-after-free", _uaf_text(view, k, where, field, "read",
                                                             func))


def check_store_live(view: StepView, k: Kernel, where: Any, field: str, func: str) -> None:
    freed = view.peek(frame_free_loc(where.frame), False)
    if not freed:
        return
    if where.stale:
        raise Violation("stale-tlb-write", f"{func}: CPU {k.cpu} stores {field} of pfn "
                        f"{where.pfn} through a stale TLB entry vmemmap[{where.vpage}] -> "
                        f"frame {where.frame} ({where.perm}; the PTE now: "
                        f"{_describe_pte(_pte_now(view, k, where.vpage))}), but frame "
                        f"{where.frame} {_freed_text(view, where.frame)}")
    raise Violation("vmemmap-use-after-free", _uaf_text(view, k, where, field, "write",
                                                         func))


def _freed_text(view: StepView, frame: int) -> str:
    by = view.peek(ghost_loc("frame_freed_by", frame), "an earlier step")
    return f"was freed by {by} and belongs to the page allocator now"


def _describe_pte(pte: tuple[int, str] | None) -> str:
    return "hole" if pte is None else f"frame {pte[0]} ({pte[1]})"


def _uaf_text(view: StepView, k: Kernel, where: Any, field: str, access: str,
              func: str) -> str:
    how = "a stale TLB entry" if where.stale else "a PTE that still maps it"
    return (f"{func}: CPU {k.cpu} {access}s {field} of pfn {where.pfn} through {how}: "
            f"vmemmap[{where.vpage}] -> frame {where.frame}, which "
            f"{_freed_text(view, where.frame)}")


def tlb_eviction_program(k: Kernel, cpu: int) -> Callable[[], Gen]:
    """One capacity eviction of every entry of `cpu`'s TLB, at a point the checker picks."""
    def evict(view: StepView, outcome: int) -> None:
        gone = invalidate(view, cpu, None)
        view.note(f"CPU {cpu}'s TLB evicts " + (", ".join(f"vmemmap[{v}]" for v in gone)
                                                 if gone else "nothing (empty)"),
                  access="tlb-evict", cpu=cpu, vpages=gone)

    def program() -> Gen:
        yield Atomic(evict, f"TLB eviction on CPU {cpu}")
    return program
