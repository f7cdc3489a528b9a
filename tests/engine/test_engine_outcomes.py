"""Outcome dedup and terminal-state keys are type-tagged: True is not 1, 0.0 is not -0.0."""

from __future__ import annotations

from typing import Any

import pytest

from pagerace.engine import Atomic, Program, ThreadSpec, explore
from pagerace.engine.execution import Execution
from pagerace.engine.fingerprint import fingerprint
from pagerace.engine.statekey import state_key, tag


def _two_stores(a: Any, b: Any) -> Program:
    """One step that stores `a` (outcome 0) or `b` (outcome 1): equal under ==."""

    def store(view: Any, outcome: int) -> None:
        view.store("x", a if outcome == 0 else b)

    def body() -> Any:
        yield Atomic(store, "x = a or b", outcomes=2)

    return Program([ThreadSpec("t", body)], {"x": None})


@pytest.mark.parametrize("a, b", [(True, 1), (0, False), (0.0, -0.0), ((1,), (True,)),
                                  ([1], [True])])
@pytest.mark.parametrize("strategy", ["dfs", "dpor"])
def test_equal_but_differently_typed_effects_are_two_outcomes(a: Any, b: Any,
                                                              strategy: str) -> None:
    r = explore(_two_stores(a, b), strategy, stop_on_violation=False)
    assert r.stats.executions == 2
    assert len(r.terminal_states) == 2


def test_identical_effects_are_still_one_outcome() -> None:
    r = explore(_two_stores(1, 1), "dfs", stop_on_violation=False)
    assert r.stats.executions == 1


def test_tag_separates_what_equality_merges() -> None:
    values = [True, 1, 1.0, 0, False, 0.0, -0.0, (1,), (True,), "1", None, b"1"]
    assert len({tag(v) for v in values}) == len(values)
    assert tag((1, "a", (None,))) == tag((1, "a", (None,)))


def test_state_keys_give_the_fingerprints_a_full_encoding_gives() -> None:
    """Each execution's key maps to the fingerprint of its own full state."""
    seen: dict[Any, set[str]] = {}

    def look(ex: Execution) -> None:
        seen.setdefault(state_key(ex), set()).add(fingerprint(ex.state, tuple(ex.results)))

    for a, b in [(True, 1), (0.0, -0.0), ((1,), (True,)), ([0.0], [-0.0]), (1, 1)]:
        seen.clear()
        r = explore(_two_stores(a, b), "dfs", stop_on_violation=False, on_execution=look)
        assert all(len(fps) == 1 for fps in seen.values())
        assert set().union(*seen.values()) == r.terminal_states
