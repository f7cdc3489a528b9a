"""The split search on the seed matrix, with real worker processes: every cell of
hvo-speculative-walker (DPOR) gives the same verdict, execution and sleep-blocked
counts, distinct states and first violation (and, through run_check, the same minimized
schedule) as one process."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import Executor

import pytest

from pagerace.check import CheckOptions, run_check
from pagerace.check.executors import local_pool
from pagerace.check.split import ScenarioProgram
from pagerace.engine import explore
from pagerace.engine.parallel import explore_parallel
from pagerace.scenarios.catalog import load_scenario

SCENARIO = "hvo-speculative-walker"


def cells() -> list[dict[str, str]]:
    sc = load_scenario(SCENARIO)
    axes = sc.matrix_params()
    return [dict(zip([p.name for p in axes], combo, strict=True))
            for combo in itertools.product(*[p.choices or () for p in axes])]


@pytest.fixture(scope="module")
def pool() -> Iterator[Executor]:
    with local_pool(2) as p:
        yield p


def test_every_seed_cell_splits_exactly(pool: Executor) -> None:
    sc = load_scenario(SCENARIO)
    checked = 0
    for given in cells():
        params = sc.resolve(given)
        factory = ScenarioProgram(SCENARIO, tuple(sorted(params.items())))
        seq = explore(factory(), "dpor")
        par = explore_parallel(factory, "dpor", pool, 2, depth=4)
        assert (par.stats.executions, par.stats.sleep_blocked, par.stats.steps) == \
            (seq.stats.executions, seq.stats.sleep_blocked, seq.stats.steps), given
        assert par.terminal_states == seq.terminal_states, given
        assert [(f.violation, f.schedule) for f in par.found] == \
            [(f.violation, f.schedule) for f in seq.found], given
        checked += 1
    assert checked == len(cells()) >= 48


@pytest.mark.parametrize("given", [
    {"gen": "G0", "arch": "x86", "target": "unaligned"},  # oops
    {"gen": "G2", "arch": "x86", "target": "unaligned"},  # pass
])
def test_run_check_with_jobs_gives_the_one_process_result(given: dict[str, str]) -> None:
    sc = load_scenario(SCENARIO)
    one = run_check(sc, given, CheckOptions(jobs=1), ref=SCENARIO)
    # split at once, however small the check
    two = run_check(sc, given, CheckOptions(jobs=2, split_depth=3, split_after=0.0),
                    ref=SCENARIO)
    assert two.stats.get("parallel", {}).get("jobs") == 2
    assert (two.verdict, two.violation, two.schedule) == (one.verdict, one.violation,
                                                           one.schedule)
    for key in ("executions", "sleep_blocked", "distinct_states", "steps"):
        assert two.stats[key] == one.stats[key], key
