"""Atomic instructions on a struct page field, with the architecture profile's semantics.

The instruction-level steps the kernel atomics of page_ref.py are built from; what each
kernel atomic compiles to, per architecture, is data in arch.py (docs/kernel-record.md
section 4):

- `cmpxchg_desc` / `try_cmpxchg_desc`: arch_cmpxchg / arch_atomic_try_cmpxchg. When the
  compare fails the profile's cmpxchg entry decides: x86 `lock cmpxchg` and riscv Zacas
  `amocas` always write (the old value back; amocas "always requires write
  permissions"), arm64 LSE `casal` may write the value read (two outcomes, both
  explored), LL/SC (arm64 without LSE, riscv without Zacas, loongarch) branches out before
  the store-conditional: no store.
- `fetch_add_unless_llsc_desc`: an architecture's own LL/SC arch_atomic_fetch_add_unless()
  (riscv `lr.w; beq; add; sc.w.rl; bnez; fence`, loongarch `ll.w; beq; add.w; sc.w; ...`):
  the load-reserved, the compare with u and the store-conditional are one step; when the
  value equals u it branches out before the sc: no store. There is no separate plain read.
- `atomic_rmw_desc`: an unconditional read-modify-write (atomic_inc, atomic_add_return,
  atomic_dec_and_test): it always writes, so it faults on a read-only page on every
  architecture.

A store that happens faults on a read-only page on every architecture. One call is one
step: the PTE read, the load, the compare and the (possible) store are one atomic
instruction (an LL/SC loop whose store-conditional fails is retried inside the step: a
failed sc only re-runs the load, so the model folds the retries into the winning pass). A
write-back of the old value is stored (same value), so the step writes the location and
conflicts with concurrent readers as the hardware does.

Ordering (under a weak memory model only): each step's read-modify-write is one
`view.update` (descriptor.rmw_read) with the ordering the profile records for the
primitive when it stores (`Primitive.ordering`: value-returning atomics and a cmpxchg
that stores are fully ordered, "mb"; atomic_inc is "relaxed"), and, when it does not
store, the profile's `ordering_no_store` as a fence after the unordered read (a failed
cmpxchg is unordered on the kernel's atomic_t API, Documentation/atomic_t.txt; arm64
casal still acquires, x86 LOCK CMPXCHG is a full barrier). `order=` overrides the
profile for the _relaxed variants (atomic_cmpxchg_relaxed).

Leaves out: s390 CS, spurious sc failures as separate steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pagerace.engine.ops import Atomic
from pagerace.engine.view import NO_WRITE, StepView
from pagerace.kernel.arch import NeedlessStore, Sequence
from pagerace.kernel.descriptor import (
    checked_store,
    fence_after_failed_rmw,
    fmt,
    note_access,
    rmw_read,
    ro_fault,
    translate,
)
from pagerace.kernel.handle import KernelHandle as Kernel
from pagerace.kernel.memory_model import order_of
from pagerace.kernel.step import Gen


def cmpxchg_desc(k: Kernel, pfn: int, field: str, old: Any, new: Any, func: str,
                 label: str = "", order: str | None = None) -> Gen:
    """atomic_cmpxchg(&page->field, old, new): returns the value found."""
    prof = k.arch
    prim = prof.op("cmpxchg")
    nondet = prim.needless_store is NeedlessStore.MAYBE
    store_order = order or order_of(prim.ordering)
    no_store_order = order or order_of(prim.ordering_no_store)

    def decide(outcome: int) -> Any:
        def stores(cur: Any) -> Any:
            if cur == old:
                return new
            if prim.needless_store is NeedlessStore.ALWAYS or (
                    prim.needless_store is NeedlessStore.MAYBE and outcome == 1):
                return cur
            return NO_WRITE
        return stores

    def fn(view: StepView, outcome: int) -> Any:
        w = translate(view, k, pfn, field, "cmpxchg", func)
        cur = rmw_read(view, w, field, decide(outcome), store_order)
        if cur == old:
            note_access(view, k, w, field, "cmpxchg", func,
                        f"{prim.insns} {field}: {fmt(cur)} == {fmt(old)} -> "
                        f"{fmt(new)}", value=cur, expected=old, new=new,
                        compare_failed=False, write_cycle=True, arch=prof.name)
            checked_store(view, k, w, field, new, func,
                          f"{prof.name} {prim.insns}, compare succeeded", old=cur)
            return cur
        if prim.needless_store is NeedlessStore.ALWAYS:
            writes = True
        elif prim.needless_store is NeedlessStore.MAYBE:
            writes = outcome == 1
        else:
            writes = False
        how = ("writes the old value back" if writes else "no write")
        note_access(view, k, w, field, "cmpxchg", func,
                    f"{prim.insns} {field}: {fmt(cur)} != {fmt(old)}: compare "
                    f"failed, {how}", value=cur, expected=old, new=new,
                    compare_failed=True, write_cycle=writes, arch=prof.name)
        if writes:
            if w.perm != "rw":
                raise ro_fault(w, field, func, f"{prof.name} {prim.insns}, compare "
                               f"failed but the instruction writes the old value back")
            checked_store(view, k, w, field, cur, func, "cmpxchg write-back", old=cur)
        else:
            fence_after_failed_rmw(view, no_store_order)
        return cur

    return (yield Atomic(fn, label or f"{func}: {prim.insns} {field} of pfn {pfn} "
                         f"({fmt(old)} -> {fmt(new)})", outcomes=2 if nondet else 1))


def try_cmpxchg_desc(k: Kernel, pfn: int, field: str, old: Any, new: Any, func: str,
                     label: str = "", order: str | None = None) -> Gen:
    """atomic_try_cmpxchg(&page->field, &old, new): returns (succeeded, value found)."""
    cur = yield from cmpxchg_desc(k, pfn, field, old, new, func, label, order)
    return cur == old, cur


def fetch_add_unless_llsc_desc(k: Kernel, pfn: int, field: str, a: int, u: int,
                               func: str, label: str = "") -> Gen:
    """An arch's own LL/SC arch_atomic_fetch_add_unless(v, a, u): returns the value found
    (`prev`); stores prev + a unless prev == u."""
    prof = k.arch
    prim = prof.op("atomic_fetch_add_unless")
    if prim.sequence is not Sequence.LLSC or prim.needless_store is not NeedlessStore.NEVER:
        raise ValueError(f"{prof.name}: atomic_fetch_add_unless is not an LL/SC loop")

    def stores(cur: Any) -> Any:
        return NO_WRITE if cur == u else cur + a

    def fn(view: StepView, outcome: int) -> Any:
        w = translate(view, k, pfn, field, "cmpxchg", func)
        cur = rmw_read(view, w, field, stores, order_of(prim.ordering))
        if cur == u:
            note_access(view, k, w, field, "cmpxchg", func,
                        f"{prim.insns} {field}: {fmt(cur)} == u: branches out before "
                        f"the store-conditional, no write", value=cur, expected=u,
                        new=cur + a, compare_failed=True, write_cycle=False,
                        arch=prof.name)
            fence_after_failed_rmw(view, order_of(prim.ordering_no_store))
            return cur
        note_access(view, k, w, field, "cmpxchg", func,
                    f"{prim.insns} {field}: {fmt(cur)} != u -> {fmt(cur + a)}", value=cur,
                    expected=u, new=cur + a, compare_failed=False, write_cycle=True,
                    arch=prof.name)
        checked_store(view, k, w, field, cur + a, func,
                      f"{prof.name} {prim.insns}, store-conditional", old=cur)
        return cur

    return (yield Atomic(fn, label or f"{func}: {prim.insns} {field} of pfn {pfn} "
                         f"(+{a} unless {u})"))


def atomic_rmw_desc(k: Kernel, pfn: int, field: str, update: Callable[[Any], Any],
                    primitive: str, func: str, label: str) -> Gen:
    """An unconditional atomic read-modify-write (`primitive` names its profile entry):
    always writes. Returns (old, new)."""
    prof = k.arch
    prim = prof.op(primitive)
    if prim.sequence is not Sequence.RMW or prim.needless_store is not NeedlessStore.ALWAYS:
        raise ValueError(f"{prof.name}: {primitive} is not an unconditional RMW")

    def fn(view: StepView, outcome: int) -> tuple[Any, Any]:
        w = translate(view, k, pfn, field, "rmw", func)
        old = rmw_read(view, w, field, update, order_of(prim.ordering))
        new = update(old)
        note_access(view, k, w, field, "rmw", func, f"{field} {fmt(old)} -> {fmt(new)}",
                    value=old, new=new, write_cycle=True, insn=prim.insns)
        checked_store(view, k, w, field, new, func,
                      f"atomic read-modify-write ({prof.name} {prim.insns})", old=old)
        return old, new

    return (yield Atomic(fn, label))
