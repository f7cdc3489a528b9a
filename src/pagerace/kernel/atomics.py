"""Compare-and-swap on a struct page field, with the architecture's write semantics.

Models arch_atomic_cmpxchg / arch_atomic_try_cmpxchg on a vmemmap address, with the write
behaviour of the architecture profile (arch.py, kernel-background.md section 4):

- x86 `LOCK CMPXCHG` always produces a write cycle: when the compare fails it writes the
  old value back, so on a read-only mapping it faults whether or not the compare succeeds
  (Intel SDM, CMPXCHG).
- arm64 with LSE `CAS`: when the compare fails "the architecture permits writing the value
  read": the step has two outcomes (no write / write back) and the checker explores both;
  the writing one faults on a read-only page.
- LL/SC (ldxr/stxr, lr/sc, larx/stcx): the compare branches out before the
  store-conditional: no store and no fault when it fails.
- riscv Zacas `amocas` "always requires write permissions": faults like x86.

A successful compare always stores, and faults on a read-only page on every architecture.
One call is one step: the PTE read, the load, the compare and the (possible) store are a
single atomic instruction. A write-back of the old value is stored (same value), so the
step writes the location and conflicts with concurrent readers as the hardware does.

Leaves out: memory ordering (the model is sequentially consistent), s390 CS.
"""

from __future__ import annotations

from typing import Any

from pagerace.engine.ops import Atomic
from pagerace.engine.view import StepView
from pagerace.kernel.arch import FailedCasWrite
from pagerace.kernel.descriptor import checked_store, fmt, note_access, ro_fault, translate
from pagerace.kernel.handle import KernelHandle as Kernel
from pagerace.kernel.step import Gen
from pagerace.kernel.vmemmap import FIELD_DEFAULTS


def cmpxchg_desc(k: Kernel, pfn: int, field: str, old: Any, new: Any, func: str,
                 label: str = "") -> Gen:
    """atomic_cmpxchg(&page->field, old, new): returns the value found."""
    prof = k.arch
    nondet = prof.failed_cas_writes is FailedCasWrite.MAYBE

    def fn(view: StepView, outcome: int) -> Any:
        w = translate(view, k, pfn, field, "cmpxchg", func)
        cur = view.load(w.loc(field), FIELD_DEFAULTS[field])
        if cur == old:
            note_access(view, k, w, field, "cmpxchg", func,
                        f"{prof.instruction} {field}: {fmt(cur)} == {fmt(old)} -> "
                        f"{fmt(new)}", value=cur, expected=old, new=new,
                        compare_failed=False, write_cycle=True, arch=prof.name)
            checked_store(view, k, w, field, new, func,
                          f"{prof.name} {prof.instruction}, compare succeeded")
            return cur
        if prof.failed_cas_writes is FailedCasWrite.ALWAYS:
            writes = True
        elif prof.failed_cas_writes is FailedCasWrite.MAYBE:
            writes = outcome == 1
        else:
            writes = False
        how = ("writes the old value back" if writes else "no write")
        note_access(view, k, w, field, "cmpxchg", func,
                    f"{prof.instruction} {field}: {fmt(cur)} != {fmt(old)}: compare "
                    f"failed, {how}", value=cur, expected=old, new=new,
                    compare_failed=True, write_cycle=writes, arch=prof.name)
        if writes:
            if w.perm != "rw":
                raise ro_fault(w, field, func, f"{prof.name} {prof.instruction}, compare "
                               f"failed but the instruction writes the old value back")
            checked_store(view, k, w, field, cur, func, "cmpxchg write-back")
        return cur

    return (yield Atomic(fn, label or f"{func}: {prof.instruction} {field} of pfn {pfn} "
                         f"({fmt(old)} -> {fmt(new)})", outcomes=2 if nondet else 1))


def try_cmpxchg_desc(k: Kernel, pfn: int, field: str, old: Any, new: Any, func: str,
                     label: str = "") -> Gen:
    """atomic_try_cmpxchg(&page->field, &old, new): returns (succeeded, value found)."""
    cur = yield from cmpxchg_desc(k, pfn, field, old, new, func, label)
    return cur == old, cur
