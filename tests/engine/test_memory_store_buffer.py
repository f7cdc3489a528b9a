"""Store->store reordering under `relaxed` (engine/memory/storebuffer.py): which shapes it
allows, what orders a CPU's stores, the trace of a reordered store, and a finished
thread that still drains. The expectations are the architecture's (ARMv8 / RVWMO allow
2+2W, R and MP+po+addr without barriers; smp_wmb() or a release store forbids them) and
LKMM's `Result:` lines for the kernel's tests (tests/litmus/). `relaxed-nosb` (the same
model without store buffers) forbids 2+2W: the control that the buffer is what allows it."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from pagerace.engine import (
    Atomic,
    Await,
    Fence,
    Load,
    Program,
    Property,
    Store,
    ThreadSpec,
    explore,
    record_trace,
)
from pagerace.engine.view import StepView

Gen = Generator[Any, Any, Any]


def _two_two_w(barrier: str | None, memory: str = "relaxed") -> Program:
    """2+2W: each CPU stores to x and y in opposite orders; both final values 1 means each
    CPU's second store went before the other CPU's first in coherence order."""
    def cpu(first: str, second: str) -> Any:
        def body() -> Gen:
            yield Store(first, 1, order="once")
            if barrier == "wmb":
                yield Fence("wmb")
            yield Store(second, 2, order="release" if barrier == "release" else "once")
        return body
    return Program([ThreadSpec("a", cpu("x", "y")), ThreadSpec("b", cpu("y", "x"))],
                   {"x": 0, "y": 0}, memory=memory, name="2+2W",
                   properties=[Property("not-both-first", "at_end",
                                        lambda s: not (s["x"] == 1 and s["y"] == 1))])


@pytest.mark.parametrize("barrier,memory,allowed", [
    (None, "relaxed", True), ("wmb", "relaxed", False), ("release", "relaxed", False),
    (None, "relaxed-nosb", False), (None, "tso", False), (None, "sc", False)])
def test_two_plus_two_w(barrier: str | None, memory: str, allowed: bool) -> None:
    for strategy in ("dfs", "dpor"):
        res = explore(_two_two_w(barrier, memory), strategy, stop_on_violation=False)
        assert res.complete
        assert (res.violation is not None) == allowed, (strategy, barrier, memory)


def test_reordered_store_is_explained_in_the_trace() -> None:
    prog = _two_two_w(None)
    res = explore(prog, "dpor")
    assert res.violation is not None and res.schedule is not None
    tr = record_trace(prog, res.schedule)
    labels = [s.label for s in tr.steps]
    assert any(lab.startswith("store buffer drains") for lab in labels)
    notes = [n for s in tr.steps for n in s.notes]
    assert any(n.get("weak") == "store-reordered" and "smp_wmb" in n["text"] for n in notes)


def _mp_addr(writer_fence: str | None) -> list[tuple[int, int]]:
    """MP with an address dependency on the reader (PTE then descriptor in one step):
    only the writer's store order is left to break it."""
    def writer() -> Gen:
        yield Store("desc", 1, order="once")
        if writer_fence:
            yield Fence(writer_fence)
        yield Store("pte", 1, order="once")

    def read(view: StepView, outcome: int) -> tuple[int, int]:
        pte = view.load("pte", 0, order="once")
        return pte, view.load("desc", 0, order="once", deps=("pte",))

    def reader() -> Gen:
        return (yield Atomic(read, "walk"))

    return _reader_results(writer, reader, {"pte": 0, "desc": 0})


def _reader_results(writer: Any, reader: Any, initial: dict[str, int]
                    ) -> list[tuple[int, int]]:
    """What the reader (thread 1) returned at the end of every DPOR execution."""
    seen: list[tuple[int, int]] = []

    class End:
        def start(self) -> None: ...
        def after_step(self, ctx: Any) -> None: ...
        def at_end(self, ctx: Any) -> None:
            seen.append(ctx.results[1])
    prog = Program([ThreadSpec("w", writer), ThreadSpec("r", reader)], initial,
                   memory="relaxed", instruments=[End()])  # type: ignore[list-item]
    assert explore(prog, "dpor", stop_on_violation=False).complete
    return seen


def test_smp_wmb_is_what_orders_the_writer() -> None:
    assert (1, 0) in _mp_addr(None)  # the PTE store overtakes the descriptor store
    assert (1, 0) not in _mp_addr("wmb")


def _mp_release_between(lock_word: bool) -> set[tuple[int, int]]:
    """P0: x = 1; a release store (spin_unlock); y = 1. P1: r1 = y; smp_rmb(); r2 = x.
    With `lock_word`, P1 reads the release's location instead of x."""
    def writer() -> Gen:
        yield Store("x", 1, order="once")
        yield Store("s", 1, order="release")
        yield Store("y", 1, order="once")

    def reader() -> Gen:
        r1 = yield Load("y", order="once")
        yield Fence("rmb")
        r2 = yield Load("s" if lock_word else "x", order="once")
        return r1, r2

    return set(_reader_results(writer, reader, {"x": 0, "y": 0, "s": 0}))


def test_a_release_store_orders_the_stores_before_it_not_after() -> None:
    """LKMM's MP+unlocklockonceonce+fencermbonceonce (Result: Never): a store after an
    unlock may not become visible before a store before it; ARMv8's STLR orders every
    earlier access before it. A later store may pass the release itself (one-way)."""
    assert (1, 0) not in _mp_release_between(lock_word=False)
    assert (1, 0) in _mp_release_between(lock_word=True)


def test_own_loads_forward_from_the_buffer_and_coherence_holds() -> None:
    """CoWR: a CPU reads its own buffered store (never the older value), and another
    CPU's store to the same location cannot come after it in its own view."""
    def a() -> Gen:
        yield Store("x", 1, order="once")
        return (yield Load("x", order="once"))

    def b() -> Gen:
        yield Store("x", 2, order="once")
    outs: list[Any] = []

    class End:
        def start(self) -> None: ...
        def after_step(self, ctx: Any) -> None: ...
        def at_end(self, ctx: Any) -> None:
            outs.append((ctx.results[0], ctx.state["x"]))
    prog = Program([ThreadSpec("a", a), ThreadSpec("b", b)], {"x": 0}, memory="relaxed",
                   instruments=[End()])  # type: ignore[list-item]
    assert explore(prog, "dfs", stop_on_violation=False).complete
    assert {r for r, _ in outs} <= {1, 2}
    assert (2, 1) not in outs  # read b's 2 after its own 1, yet 1 is final: incoherent


def test_a_finished_thread_drains_before_it_is_done() -> None:
    """A CPU whose last op was a store stays live until the store is visible: a waiter
    on the flag is never deadlocked, and the final state has the store."""
    def setter() -> Gen:
        yield Store("flag", 1, order="once")

    def waiter() -> Gen:
        yield Await(lambda v: v.load("flag", 0) == 1, "wait for flag")
    prog = Program([ThreadSpec("s", setter), ThreadSpec("w", waiter)], {"flag": 0},
                   memory="relaxed",
                   properties=[Property("set", "at_end", lambda s: s["flag"] == 1)])
    for strategy in ("dfs", "dpor"):
        res = explore(prog, strategy, stop_on_violation=False)
        assert res.complete and res.violation is None, strategy


@pytest.mark.parametrize("fences,allowed", [(True, False), (False, True)])
def test_full_fence_waits_for_the_buffer(fences: bool, allowed: bool) -> None:
    """R: y = 2 finally and b reads x = 0 needs a's stores reordered (Sometimes in LKMM for
    R+poonceonces, Never for R+fencembonceonces)."""
    def a() -> Gen:
        yield Store("x", 1, order="once")
        if fences:
            yield Fence("mb")
        yield Store("y", 1, order="once")

    def b() -> Gen:
        yield Store("y", 2, order="once")
        yield Fence("mb")
        return (yield Load("x", order="once"))
    ends: list[Any] = []

    class End:
        def start(self) -> None: ...
        def after_step(self, ctx: Any) -> None: ...
        def at_end(self, ctx: Any) -> None:
            ends.append((ctx.state["y"], ctx.results[1]))
    prog = Program([ThreadSpec("a", a), ThreadSpec("b", b)], {"x": 0, "y": 0},
                   memory="relaxed", instruments=[End()])  # type: ignore[list-item]
    assert explore(prog, "dfs", stop_on_violation=False).complete
    assert ((2, 0) in ends) == allowed
