"""The stateful search's step memo (memo.py): a re-applied step must be the step that would
have run. Each program below has one `Atomic` step that runs from several states; the memo
may re-apply it only where every location it looked at holds what it held before."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from pagerace.engine import Atomic, Program, Store, ThreadSpec, Violation, explore


def _two(step: Any, other: Any, initial: dict[Any, Any] | None = None) -> Program:
    def a() -> Generator[Any, Any, None]:
        yield Atomic(step, "step")

    return Program([ThreadSpec("A", a), ThreadSpec("B", other)], initial or {})


def _same_as_dfs(p: Program) -> None:
    d = explore(p, "dfs", stop_on_violation=False)
    s = explore(p, "stateful", stop_on_violation=False, symmetry=False)
    assert s.complete
    assert {v.kind for v in s.violations} == {v.kind for v in d.violations}
    assert s.terminal_states == d.terminal_states


def test_a_peeked_location_that_changed_runs_the_step_again() -> None:
    # A's step peeks `g` for an assertion; B sets it. After A ran first (and was recorded),
    # the state where B ran first must run A's step again and hit the assertion.
    def step(view: Any, outcome: int) -> None:
        if view.peek("g") == 1:
            raise Violation("oops", "g is set")
        view.store("x", 1)

    def b() -> Generator[Any, Any, None]:
        yield Store("y", 1)  # a write A's step does not look at: the memo may re-apply
        yield Store("g", 1)

    p = _two(step, b, {"g": 0})
    r = explore(p, "stateful", stop_on_violation=False, symmetry=False)
    assert {v.kind for v in r.violations} == {"oops"}
    _same_as_dfs(p)


def test_true_and_one_are_different_values_to_the_memo() -> None:
    # A copies `src` to `dst`; B stores True there, then 1: equal under ==, not the same
    # value, and the copy must keep the type it read
    def step(view: Any, outcome: int) -> None:
        view.store("dst", view.load("src"))

    def b() -> Generator[Any, Any, None]:
        yield Store("src", True)
        yield Store("src", 1)

    p = _two(step, b, {"src": 0})
    r = explore(p, "stateful", stop_on_violation=False, symmetry=False)
    assert len(r.terminal_states) == 3
    _same_as_dfs(p)


def test_an_absent_location_is_not_one_that_holds_none() -> None:
    # A reads `v` with a default and writes it; B stores None there: reading None and
    # reading nothing (the default) are different runs of the step
    def step(view: Any, outcome: int) -> None:
        view.store("seen", view.load("v", "nothing"))
        view.store("v", 2)

    def b() -> Generator[Any, Any, None]:
        yield Store("v", None)

    p = _two(step, b)
    r = explore(p, "stateful", stop_on_violation=False, symmetry=False)
    assert len(r.terminal_states) == 2
    _same_as_dfs(p)


def test_the_memo_re_applies_a_step_that_looked_at_nothing_that_changed() -> None:
    runs = []

    def step(view: Any, outcome: int) -> None:
        runs.append(view.commit)  # a dry run (the footprint) is recorded too
        view.store("x", view.load("x") + 1)

    def b() -> Generator[Any, Any, None]:
        for i in range(4):
            yield Store(("b", i), 1)  # four states from which A's step is the same step

    p = _two(step, b, {"x": 0})
    r = explore(p, "stateful", stop_on_violation=False, symmetry=False)
    taken = r.stats.transitions - 2 * 4  # B's four steps, before A's and after it
    assert taken == 5 and len(runs) == 1
    _same_as_dfs(p)
