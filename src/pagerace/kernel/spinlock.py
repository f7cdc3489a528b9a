"""Spinlocks: spin_lock() / spin_unlock() and their _irq variants, on one lock word.

Models include/linux/spinlock.h over a test-and-test-and-set lock (the shape of the
generic queued spinlock's fast path, kernel/locking/qspinlock.c: an atomic cmpxchg of the
lock word from 0, and, while it is held, a read-only spin until it looks free):

- `spin_lock(k, lock)`: `Await` until the lock word reads 0 (the read-only spin: a
  blocked step, so the checker never unrolls the spinning), then one `Atomic` step that
  compare-and-swaps 0 -> owner (CPU + 1); if another CPU took the lock in between, back to
  the spin. Acquire ordering is implied (the model is sequentially consistent).
- `spin_unlock(k, lock)`: one step storing 0 (smp_store_release), checking that the
  caller holds the lock (an unlock by a non-owner is a "bug").
- `spin_lock_irq()` / `spin_unlock_irq()`: local_irq_disable() then spin_lock(); the
  unlock in the other order (irq.py: with per-CPU TLBs, interrupts off delay flush IPIs).

The lock word lives at `("spinlock", name)`: 0 free, else the owner CPU + 1. A CPU that
ends an execution holding a lock is reported by the `SpinlocksReleasedAtEnd` instrument.

Leaves out: the queue (MCS nodes, pending bit: fairness and the order waiters get the
lock), lockdep, preempt_disable() (the holder never sleeps here), spin_lock_irqsave()'s
saved flags (the model's callers take each lock once, with interrupts on).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from pagerace.engine.instrument import EndContext, Instrument
from pagerace.engine.ops import Atomic, Await
from pagerace.engine.view import StepView
from pagerace.engine.violation import Violation
from pagerace.kernel import irq
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.step import Gen


def lock_loc(name: str) -> tuple[str, str]:
    return ("spinlock", name)


def spin_lock(k: KernelHandle, lock: str) -> Gen:
    """spin_lock(): spin until the word reads free, then cmpxchg(0 -> CPU + 1)."""
    loc = lock_loc(lock)
    me = k.cpu + 1

    def free(view: StepView) -> bool:
        return bool(view.load(loc, 0) == 0)

    def try_take(view: StepView, outcome: int) -> bool:
        if view.load(loc, 0) != 0:
            return False
        view.store(loc, me)
        return True

    while True:
        yield Await(free, f"spin_lock({lock}): wait until it reads unlocked")
        if (yield Atomic(try_take, f"spin_lock({lock}): cmpxchg(0 -> CPU {k.cpu})")):
            return


def spin_unlock(k: KernelHandle, lock: str) -> Gen:
    """spin_unlock(): smp_store_release(lock, 0) by the owner, one step."""
    loc = lock_loc(lock)

    def release(view: StepView, outcome: int) -> None:
        owner = view.peek(loc, 0)  # the owner check reads ghost-style: no footprint
        if owner != k.cpu + 1:
            raise Violation("bug", f"spin_unlock({lock}) on CPU {k.cpu}, which does not "
                            f"hold it (owner word {owner})")
        view.store(loc, 0, order="release")

    yield Atomic(release, f"spin_unlock({lock}): store-release 0")


def spin_lock_irq(k: KernelHandle, lock: str) -> Gen:
    yield from irq.local_irq_disable(k, f"spin_lock_irq({lock})")
    yield from spin_lock(k, lock)


def spin_unlock_irq(k: KernelHandle, lock: str) -> Gen:
    yield from spin_unlock(k, lock)
    yield from irq.local_irq_enable(k, f"spin_unlock_irq({lock})")


@dataclass(frozen=True)
class SpinlocksReleasedAtEnd(Instrument):
    """When every thread has finished, every named lock word reads 0."""

    name: str = "spinlocks-released-at-end"
    locks: tuple[str, ...] = ()

    def at_end(self, ctx: EndContext) -> None:
        state: dict[Hashable, object] = dict(ctx.state)
        for lock in self.locks:
            owner = state.get(lock_loc(lock), 0)
            if owner:
                raise Violation("bug", f"{lock} is still held at the end (owner word "
                                f"{owner})")
