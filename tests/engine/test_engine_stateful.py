"""The stateful search against naive DFS: same violation kinds, same terminal states up to
symmetry, on random programs with interchangeable threads and on the walker scenario."""

from __future__ import annotations

from collections.abc import Generator, Hashable, Mapping
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pagerace.engine import (
    Atomic,
    Await,
    Choose,
    CompareExchange,
    FetchAdd,
    Load,
    NondeterminismError,
    Program,
    Property,
    Store,
    ThreadSpec,
    explore,
)
from pagerace.engine.execution import Execution
from pagerace.engine.fingerprint import fingerprint
from pagerace.engine.symmetry import Perm, Symmetry
from pagerace.engine.violation import Violation

SHARED = ("a", "b")
op = st.one_of(
    st.tuples(st.just("load"), st.sampled_from(SHARED)),
    st.tuples(st.just("store"), st.sampled_from(SHARED), st.integers(0, 2)),
    st.tuples(st.just("add"), st.sampled_from(SHARED)),
    st.tuples(st.just("cas"), st.sampled_from(SHARED), st.integers(0, 1), st.integers(1, 2)),
    st.tuples(st.just("await"), st.sampled_from(SHARED), st.integers(0, 1)),
    st.tuples(st.just("mine"), st.integers(0, 2)),  # a store to the thread's own location
    st.tuples(st.just("choose"), st.sampled_from(SHARED)),
    st.tuples(st.just("oops"), st.sampled_from(SHARED), st.integers(1, 3)),
    st.tuples(st.just("deref"),),  # a load whose location depends on the last result
)


def _body(me: int, ops: list[tuple[Any, ...]]) -> Any:
    def body() -> Generator[Any, Any, Any]:
        last = 0
        for o in ops:
            kind = o[0]
            if kind == "load":
                last = yield Load(o[1])
            elif kind == "store":
                yield Store(o[1], o[2] + last % 2)
            elif kind == "add":
                last = yield FetchAdd(o[1], 1)
            elif kind == "cas":
                last = yield CompareExchange(o[1], o[2], o[3])
            elif kind == "await":
                loc, v = o[1], o[2]
                yield Await(lambda view, loc=loc, v=v: view.load(loc) >= v, "await")
            elif kind == "deref":
                last = yield Load(SHARED[last % 2])
            elif kind == "mine":
                yield Store(("p", me), o[1] + last % 2)
            elif kind == "choose":
                c = yield Choose(2)
                yield Store(o[1], c)
            else:
                loc, bad = o[1], o[2]

                def fn(view: Any, outcome: int, loc: str = loc, bad: int = bad) -> None:
                    if view.load(loc) == bad:
                        raise Violation("oops", "bad value")
                yield Atomic(fn, "check")
        return last
    return body


def _rename(loc: Hashable, value: Any, perm: Perm) -> tuple[Hashable, Any]:
    if isinstance(loc, tuple) and loc[0] == "p":
        return ("p", perm[loc[1]]), value
    return loc, value


def build(other: list[tuple[Any, ...]], twin: list[tuple[Any, ...]], twins: int,
          sym: bool = True, always: bool = False) -> Program:
    n = 1 + twins
    threads = [ThreadSpec("other", _body(0, other))] + [
        ThreadSpec(f"twin {i}", _body(i, twin)) for i in range(1, n)]
    initial: dict[Hashable, Any] = {"a": 0, "b": 0, **{("p", i): 0 for i in range(n)}}
    props = [Property("a-small", "at_end", lambda s: s.get("a", 0) < 3)]
    if always:  # a predicate over a location steps write: those steps are visible
        props.append(Property("b-small", "always", lambda s: s.get("b", 0) < 2))
    return Program(threads, initial, props,
                   symmetry=Symmetry((tuple((i,) for i in range(1, n)),), _rename)
                   if sym else None)


def orbit_fp(p: Program, state: Mapping[Hashable, Any], results: list[Any]) -> str:
    """The least fingerprint over the renamings of a terminal state (the stateful search
    records terminal states this way when symmetry is on)."""
    assert p.symmetry is not None
    best = None
    for perm in p.symmetry.all_perms(len(p.threads)):
        res: list[Any] = [None] * len(results)
        for t, r in enumerate(results):
            res[perm[t]] = r
        fp = fingerprint(p.symmetry.rename_state(state, perm), tuple(res))
        best = fp if best is None or fp < best else best
    assert best is not None
    return best


def reference(p: Program, strategy: str = "dfs") -> tuple[set[str], set[str]]:
    ends: set[str] = set()

    def seen(ex: Execution) -> None:
        if ex.violation is None and ex.finished():
            ends.add(orbit_fp(p, ex.state, ex.results))
    r = explore(p, strategy, stop_on_violation=False, on_execution=seen)
    assert r.complete
    return {v.kind for v in r.violations}, ends


def _matches_dfs(p: Program, *pors: bool) -> None:
    """The stateful search, with each `por` setting, finds naive DFS's violation kinds and
    terminal states."""
    kinds, ends = reference(p)
    for por in pors:
        r = explore(p, "stateful", stop_on_violation=False, por=por)
        assert r.complete
        assert {v.kind for v in r.violations} == kinds
        assert r.terminal_states == ends


def _small(spec: tuple[Any, ...]) -> bool:
    other, twin, twins = spec
    ops = other + twin * twins
    steps = sum(2 if o[0] == "choose" else 1 for o in ops)
    return steps <= 8 and sum(1 for o in ops if o[0] == "choose") <= 2


programs = st.tuples(st.lists(op, min_size=1, max_size=2), st.lists(op, min_size=1, max_size=2),
                     st.integers(2, 3)).filter(_small)


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
    p = Program([ThreadSpec("t", _body(0, [("load", "a")]))], {"a": 0}, memory="tso")
    with pytest.raises(ValueError, match="sc memory model"):
        explore(p, "stateful")
