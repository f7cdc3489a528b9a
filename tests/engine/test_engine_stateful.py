"""The stateful search against naive DFS: same violation kinds, same terminal states up to
symmetry, on random programs with interchangeable threads and on the walker scenario."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from hypothesis import example, given, settings
from twin_programs import body, build, programs, reference

from pagerace.engine import Load, NondeterminismError, Program, Store, ThreadSpec, explore


def _matches_dfs(p: Program, *pors: bool) -> None:
    """The stateful search, with each `por` setting, finds naive DFS's violation kinds and
    terminal states."""
    kinds, ends = reference(p)
    for por in pors:
        r = explore(p, "stateful", stop_on_violation=False, por=por)
        assert r.complete
        assert {v.kind for v in r.violations} == kinds
        assert r.terminal_states == ends


@settings(max_examples=150, deadline=None)
@given(programs)
def test_stateful_symmetry_matches_dfs(spec: tuple[Any, ...]) -> None:
    other, twin, twins = spec
    _matches_dfs(build(other, twin, twins), False, True)


@settings(max_examples=100, deadline=None)
@given(programs)
def test_stateful_without_symmetry_matches_dfs(spec: tuple[Any, ...]) -> None:
    other, twin, twins = spec
    p = build(other, twin, twins, sym=False)
    d = explore(p, "dfs", stop_on_violation=False)
    for por in (True, False):
        r = explore(p, "stateful", stop_on_violation=False, por=por)
        assert {v.kind for v in r.violations} == {v.kind for v in d.violations}
        assert r.terminal_states == d.terminal_states


@settings(max_examples=100, deadline=None)
@given(programs)
# a step taken alone whose violation would hide the twins' property violation
@example(([("add", "a"), ("oops", "a", 1)], [("add", "b")], 2))
def test_stateful_with_an_always_property_matches_dfs(spec: tuple[Any, ...]) -> None:
    other, twin, twins = spec
    _matches_dfs(build(other, twin, twins, always=True), True)


def test_ample_sets_take_independent_steps_alone() -> None:
    # two threads on their own locations and one shared load each: the private stores
    # commute with everything, so far fewer states than without the reduction
    twin = [("mine", 1), ("mine", 2), ("load", "a"), ("mine", 0)]
    p = build([("store", "a", 1)], twin, 2, sym=False)
    por = explore(p, "stateful", stop_on_violation=False, por=True)
    full = explore(p, "stateful", stop_on_violation=False)
    assert por.terminal_states == full.terminal_states
    assert por.stats.states < full.stats.states


def test_symmetry_stores_fewer_states() -> None:
    twin = [("load", "a"), ("add", "b"), ("mine", 1)]
    p = build([("store", "a", 1)], twin, 3)
    with_sym = explore(p, "stateful", stop_on_violation=False)
    without = explore(p, "stateful", stop_on_violation=False, symmetry=False)
    assert with_sym.stats.states < without.stats.states
    assert with_sym.terminal_states == reference(p, "dpor")[1]


def test_asymmetric_initial_state_is_refused() -> None:
    p = build([("load", "a")], [("load", "b")], 2)
    p.initial = {**p.initial, ("p", 1): 1}
    with pytest.raises(ValueError, match="not invariant"):
        explore(p, "stateful")


def test_a_nondeterministic_body_is_reported() -> None:
    calls = [0]

    def flaky() -> Generator[Any, Any, Any]:
        calls[0] += 1
        yield Load("a", label="first" if calls[0] % 2 else "other")
        yield Load("a")

    def other() -> Generator[Any, Any, Any]:
        yield Store("a", 1)
        yield Store("a", 2)
    p = Program([ThreadSpec("flaky", flaky), ThreadSpec("other", other)], {"a": 0})
    with pytest.raises(NondeterminismError):
        explore(p, "stateful", symmetry=False)


def test_weak_memory_is_refused() -> None:
    p = Program([ThreadSpec("t", body(0, [("load", "a")]))], {"a": 0}, memory="tso")
    with pytest.raises(ValueError, match="sc memory model"):
        explore(p, "stateful")
