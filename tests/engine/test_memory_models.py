"""Weak memory models on hand-written programs: what each allows, the trace notes that say
why, and the kernel-side API (an `Atomic` step with `order=` / `deps=` annotations)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from pagerace.engine import (
    Atomic,
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


def _mp(reader_dep: bool, writer_fence: str | None) -> Program:
    """Message passing: a descriptor, then the pointer-like flag; the reader reads the flag
    and then, in the same step, the descriptor through it (a PTE then the struct page)."""
    def writer() -> Gen:
        yield Store("desc", 1, order="once")
        if writer_fence:
            yield Fence(writer_fence)
        yield Store("pte", 1, order="once")

    def read(view: StepView, outcome: int) -> tuple[int, int]:
        pte = view.load("pte", 0, order="once")
        deps = ("pte",) if reader_dep else ()
        return pte, view.load("desc", 0, order="once", deps=deps)

    def reader() -> Gen:
        return (yield Atomic(read, "walk"))

    return Program([ThreadSpec("w", writer), ThreadSpec("r", reader)], {"pte": 0, "desc": 0},
                   name="mp", memory="relaxed")


def _stale(prog: Program) -> bool:
    found = []

    class Seen:
        def start(self) -> None: ...
        def after_step(self, ctx: Any) -> None: ...
        def at_end(self, ctx: Any) -> None:
            found.append(ctx.results[1])
    prog.instruments = (Seen(),)  # type: ignore[list-item]
    explore(prog, "dpor", stop_on_violation=False)
    return (1, 0) in found


def test_address_dependency_orders_the_descriptor_read() -> None:
    assert _stale(_mp(reader_dep=False, writer_fence=None))  # load->load reordering
    assert not _stale(_mp(reader_dep=True, writer_fence="wmb"))


def _sb(memory: str, fence: bool) -> Program:
    def t(mine: str, other: str) -> Any:
        def body() -> Gen:
            yield Store(mine, 1)
            if fence:
                yield Fence("mb")
            return (yield Load(other))
        return body
    return Program([ThreadSpec("a", t("x", "y")), ThreadSpec("b", t("y", "x"))],
                   {"x": 0, "y": 0}, memory=memory, name="sb",
                   properties=[Property("no-sb", "at_end", lambda s: True)])


@pytest.mark.parametrize("memory,fence,allowed", [
    ("sc", False, False), ("tso", False, True), ("relaxed", False, True),
    ("tso", True, False), ("relaxed", True, False)])
def test_store_buffering(memory: str, fence: bool, allowed: bool) -> None:
    outs = []

    class End:
        def start(self) -> None: ...
        def after_step(self, ctx: Any) -> None: ...
        def at_end(self, ctx: Any) -> None:
            outs.append(tuple(ctx.results))
    prog = _sb(memory, fence)
    prog.instruments = (End(),)  # type: ignore[list-item]
    for strategy in ("dfs", "dpor"):
        outs.clear()
        explore(prog, strategy, stop_on_violation=False)
        assert ((0, 0) in outs) == allowed


def test_trace_says_which_model_and_why() -> None:
    prog = _sb("tso", False)
    res = explore(prog, "dfs", stop_on_violation=False)
    # find the schedule where both loads read 0, by replaying each terminal schedule
    from pagerace.engine import Schedule
    from pagerace.engine.schedule import Choice
    hit = None
    for o0 in range(3):
        for o1 in range(3):
            sched = Schedule((Choice(0, 0), Choice(1, 0), Choice(0, o0), Choice(1, o1)))
            try:
                tr = record_trace(prog, sched)
            except Exception:
                continue
            if [s.result for s in tr.steps[2:]] == [0, 0]:
                hit = tr
    assert res.complete and hit is not None
    assert hit.memory == "tso"
    notes = [n["text"] for s in hit.steps for n in s.notes]
    assert any("older message" in n and "store buffer" in n for n in notes)


def test_final_state_is_the_newest_value() -> None:
    def body() -> Gen:
        yield Store("x", 1)
        yield Store("x", 2)
    prog = Program([ThreadSpec("a", body)], {"x": 0}, memory="relaxed",
                   properties=[Property("two", "at_end", lambda s: s["x"] == 2)])
    assert explore(prog).violation is None


def test_unknown_model_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown memory model"):
        Program([ThreadSpec("a", lambda: iter(()))], memory="alpha")
