"""lift_schedule (engine/lift.py): a relaxed-nosb witness, with every store drained at
once, is a relaxed execution that reaches the same violation when replayed."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from pagerace.engine import Load, Program, Property, Store, ThreadSpec, explore, replay
from pagerace.engine.lift import lift_schedule

Gen = Generator[Any, Any, Any]


def _mp(memory: str) -> Program:
    """Message passing with no ordering at all: the reader may see the flag and not the
    data (load->load reordering, which relaxed-nosb has too)."""
    def writer() -> Gen:
        yield Store("data", 1, order="once")
        yield Store("flag", 1, order="once")

    def reader() -> Gen:
        f = yield Load("flag", order="once")
        d = yield Load("data", order="once")
        yield Store("seen", (f, d), order="once")
        return f, d

    return Program([ThreadSpec("w", writer), ThreadSpec("r", reader)],
                   {"data": 0, "flag": 0, "seen": None}, memory=memory, name="mp",
                   properties=[Property("mp", "at_end", lambda s: s["seen"] != (1, 0))])


def test_a_nosb_witness_lifts_to_a_relaxed_execution_with_the_same_violation() -> None:
    nosb, relaxed = _mp("relaxed-nosb"), _mp("relaxed")
    found = explore(nosb, "dpor")
    assert found.violation is not None and found.schedule is not None
    lifted = lift_schedule(relaxed, found.schedule)
    ex, taken = replay(relaxed, lifted)
    assert taken == lifted
    assert ex.violation is not None and ex.violation.kind == found.violation.kind
    assert ex.results[1] == (1, 0)
    assert sum(ev.drain for ev in ex.events) == 3  # each store went through the buffer
    # the lifted schedule names relaxed alternatives: under relaxed-nosb it does not fit
    # or does not end the same way
    assert lifted != found.schedule


def test_it_lifts_only_to_relaxed() -> None:
    with pytest.raises(ValueError):
        lift_schedule(_mp("tso"), explore(_mp("relaxed-nosb"), "dpor").schedule)  # type: ignore[arg-type]
