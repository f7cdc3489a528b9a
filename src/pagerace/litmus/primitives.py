"""The kernel primitives a litmus process may call, as engine ops.

Each primitive mirrors the ordering LKMM gives it (tools/memory-model/linux-kernel.def):
READ_ONCE / WRITE_ONCE are "once" accesses; smp_load_acquire / smp_store_release and
rcu_assign_pointer are acquire / release; rcu_dereference is a "once" load whose result
carries an address dependency; value-returning atomics (xchg, cmpxchg, atomic_*_return,
atomic_fetch_*, atomic_add_unless, ...) are fully ordered ("mb") unless suffixed
_relaxed / _acquire / _release; void atomics (atomic_inc, atomic_add, ...) are relaxed
RMWs; a failed cmpxchg is an unordered read (the model's `update`).

Locks: spin_lock is a cmpxchg_acquire(0 -> 1) that, when it fails, waits (an `Await`)
until the lock reads 0 and retries; spin_unlock a release store of 0.

RCU and SRCU: each process has a read-side nesting counter (a shared location only it
writes). rcu_read_lock / rcu_read_unlock update it between full fences; synchronize_rcu is
a full fence, then for every other process an `Await` until its counter reads 0 followed by
a fully ordered RMW that confirms it (so the grace period's later accesses are ordered
after that reader's critical section), then a full fence. Under sequential consistency
this is exactly RCU's grace-period guarantee; under weak models the fences make read-side
critical sections stronger than LKMM's (which orders nothing at rcu_read_lock itself).

Leaves out: kfree / call_rcu, srcu's per-index semantics (one counter per srcu struct and
process), spin_is_locked's interaction with lock queuing, atomic_long_*, bit operations.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from pagerace.engine.ops import Await, CompareExchange, Fence, FetchAdd, Op, Store
from pagerace.engine.view import NO_WRITE, StepView

Gen = Generator[Op, Any, Any]
FENCE_CALLS = {
    "smp_mb": "mb", "smp_rmb": "rmb", "smp_wmb": "wmb",
    "smp_mb__before_atomic": "mb", "smp_mb__after_atomic": "mb",
    "smp_mb__after_spinlock": "mb", "smp_mb__after_unlock_lock": "mb",
    "smp_mb__after_srcu_read_unlock": "mb", "smp_mb__before_srcu_read_unlock": "mb",
    "smp_read_barrier_depends": "rmb",
}
SUFFIX_ORDER = {"_relaxed": "relaxed", "_acquire": "acquire", "_release": "release"}


def split_order(fn: str, default: str) -> tuple[str, str]:
    for suffix, order in SUFFIX_ORDER.items():
        if fn.endswith(suffix):
            return fn[: -len(suffix)], order
    return fn, default


def rmw_op(base: str) -> tuple[Callable[[Any, list[Any]], Any], bool, int] | None:
    """For an atomic RMW name: (new value from old and args, returns-new?, nargs)."""
    table: dict[str, tuple[Callable[[Any, list[Any]], Any], bool, int]] = {
        "xchg": (lambda o, a: a[0], False, 1),
        "atomic_xchg": (lambda o, a: a[0], False, 1),
        "atomic_add_return": (lambda o, a: o + a[0], True, 1),
        "atomic_sub_return": (lambda o, a: o - a[0], True, 1),
        "atomic_inc_return": (lambda o, a: o + 1, True, 0),
        "atomic_dec_return": (lambda o, a: o - 1, True, 0),
        "atomic_fetch_add": (lambda o, a: o + a[0], False, 1),
        "atomic_fetch_sub": (lambda o, a: o - a[0], False, 1),
        "atomic_fetch_inc": (lambda o, a: o + 1, False, 0),
        "atomic_fetch_dec": (lambda o, a: o - 1, False, 0),
        "atomic_fetch_or": (lambda o, a: o | a[0], False, 1),
        "atomic_fetch_and": (lambda o, a: o & a[0], False, 1),
        "atomic_fetch_xor": (lambda o, a: o ^ a[0], False, 1),
        "atomic_fetch_andnot": (lambda o, a: o & ~a[0], False, 1),
    }
    return table.get(base)


VOID_RMW: dict[str, Callable[[Any, list[Any]], Any]] = {
    "atomic_inc": lambda o, a: o + 1, "atomic_dec": lambda o, a: o - 1,
    "atomic_add": lambda o, a: o + a[0], "atomic_sub": lambda o, a: o - a[0],
    "atomic_or": lambda o, a: o | a[0], "atomic_and": lambda o, a: o & a[0],
    "atomic_xor": lambda o, a: o ^ a[0], "atomic_andnot": lambda o, a: o & ~a[0],
}
TEST_RMW: dict[str, Callable[[Any, list[Any]], tuple[Any, int]]] = {
    # name -> old, args -> (new or NO_WRITE, result)
    "atomic_dec_and_test": lambda o, a: (o - 1, int(o - 1 == 0)),
    "atomic_inc_and_test": lambda o, a: (o + 1, int(o + 1 == 0)),
    "atomic_sub_and_test": lambda o, a: (o - a[0], int(o - a[0] == 0)),
    "atomic_add_negative": lambda o, a: (o + a[0], int(o + a[0] < 0)),
    "atomic_add_unless": lambda o, a: ((o + a[0], 1) if o != a[1] else (NO_WRITE, 0)),
    "atomic_inc_not_zero": lambda o, a: ((o + 1, 1) if o != 0 else (NO_WRITE, 0)),
}


def rmw_step(loc: Any, fn: Callable[[Any], tuple[Any, Any]], order: str,
             deps: tuple[Any, ...], label: str) -> Op:
    """An `Atomic` step doing one RMW through the view; its result is fn's second value."""
    from pagerace.engine.ops import Atomic

    def step(view: StepView, outcome: int) -> Any:
        box: list[Any] = []

        def upd(old: Any) -> Any:
            new, res = fn(old)
            box.append(res)
            return new
        view.update(loc, upd, 0, order, deps)
        return box[-1]
    return Atomic(step, label)


def spin_lock(loc: Any) -> Gen:
    while True:
        old = yield CompareExchange(loc, 0, 1, "spin_lock", order="acquire")
        if old == 0:
            return None
        yield Await(_reads_zero(loc), "spin_lock wait")


def spin_unlock(loc: Any) -> Gen:
    yield Store(loc, 0, "spin_unlock", order="release")


def rcu_read_lock(nest: Any, depth: int, label: str) -> Gen:
    """Enter a read-side critical section at nesting `depth` (the process's own count)."""
    yield Store(nest, depth + 1, label, order="once")
    yield Fence("mb", label)


def rcu_read_unlock(nest: Any, depth: int, label: str) -> Gen:
    yield Fence("mb", label)
    yield Store(nest, depth - 1, label, order="once")


def _reads_zero(loc: Any) -> Callable[[StepView], bool]:
    def pred(view: StepView) -> bool:
        return bool(view.load(loc) == 0)
    return pred


def synchronize(others: list[Any], label: str) -> Gen:
    yield Fence("mb", label)
    for nest in others:
        while True:
            yield Await(_reads_zero(nest), label)
            seen = yield FetchAdd(nest, 0, label, order="mb")
            if seen == 0:
                break
    yield Fence("mb", label)
