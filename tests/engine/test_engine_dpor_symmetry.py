"""DPOR with symmetry against naive DFS: the same violation kinds and the same terminal
states up to symmetry, on random programs with interchangeable threads; one process and
the split search give the same counts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hypothesis import given, settings
from twin_programs import build, programs, reference

from pagerace.engine import explore
from pagerace.engine.parallel import explore_parallel


@settings(max_examples=150, deadline=None)
@given(programs)
def test_dpor_with_symmetry_matches_dfs(spec: tuple[Any, ...]) -> None:
    other, twin, twins = spec
    for always in (False, True):
        p = build(other, twin, twins, always=always)
        kinds, ends = reference(p)
        r = explore(p, "dpor", stop_on_violation=False)
        plain = explore(p, "dpor", stop_on_violation=False, symmetry=False)
        assert r.complete
        assert {v.kind for v in r.violations} == kinds
        assert r.terminal_states == ends
        assert r.stats.executions <= plain.stats.executions


def test_symmetry_skips_the_twins_branches() -> None:
    # the twins touch only shared locations from their first step: every branch that
    # starts a later twin where an earlier one already went is the image of one explored
    p = build([("store", "a", 1)], [("load", "a"), ("add", "b")], 3)
    r = explore(p, "dpor", stop_on_violation=False)
    plain = explore(p, "dpor", stop_on_violation=False, symmetry=False)
    assert r.terminal_states == reference(p)[1]
    assert r.stats.executions < plain.stats.executions


def test_split_search_gives_the_same_counts() -> None:
    p = build([("store", "a", 1), ("load", "b")], [("load", "a"), ("add", "b")], 3)
    one = explore(p, "dpor", stop_on_violation=False)
    with ThreadPoolExecutor(2) as pool:
        split = explore_parallel(lambda: p, "dpor", pool, 2, stop_on_violation=False,
                                 depth=2)
    assert (split.stats.executions, split.terminal_states) \
        == (one.stats.executions, one.terminal_states)


def test_json_says_when_counts_are_up_to_symmetry() -> None:
    p = build([("store", "a", 1)], [("load", "a")], 2)
    assert explore(p, "dpor").stats.to_json()["up_to_symmetry"] is True
    assert explore(p, "stateful").stats.to_json()["up_to_symmetry"] is True
    assert "up_to_symmetry" not in explore(p, "dpor", symmetry=False).stats.to_json()
