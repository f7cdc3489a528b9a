"""The entry point strategies hang off: `explore(program, strategy=...)`.

Strategies (one file each, behind the protocol of strategy.py): "dfs" (naive
exhaustive, the reference, dfs.py), "dpor" (Source-DPOR with sleep sets, dpor.py),
"random" (seeded random walk, random_walk.py), "pct" (PCT with depth d, pct.py) and
"stateful" (a visited set over canonical states with symmetry and ample sets,
stateful.py: not a `Strategy`, it keeps states alive instead of re-running executions;
`por=True` adds ample sets from learned may-access sets). "dpor" and "stateful" use the
program's symmetry (DPOR: symmetric.py) unless `symmetry=False`; their counts are then
up to symmetry.
Preemption bounding (preemption.py) wraps "dfs"; the nondeterminism check
(determinism.py) wraps every strategy. An exhaustive search that completes without
reaching a `sometimes` property reports the check as vacuous: a violation of kind
"sometimes", because a model that never reaches its racy window proves nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from pagerace.engine.determinism import DeterminismCheck
from pagerace.engine.dfs import NaiveDFS
from pagerace.engine.dpor import SourceDPOR
from pagerace.engine.execution import Execution
from pagerace.engine.limits import Limits
from pagerace.engine.pct import PCT
from pagerace.engine.preemption import PreemptionBound
from pagerace.engine.program import Program
from pagerace.engine.progress import ProgressFn
from pagerace.engine.random_walk import DEFAULT_SAMPLES, RandomWalk
from pagerace.engine.result import ExplorationResult, Found
from pagerace.engine.runner import drive
from pagerace.engine.schedule import Schedule
from pagerace.engine.stateful import explore_stateful
from pagerace.engine.strategy import Strategy
from pagerace.engine.tree import TreeSearch
from pagerace.engine.violation import ViolationRecord

STRATEGIES = ("dpor", "dfs", "random", "pct", "stateful")
SOMETIMES = "sometimes"


def make_strategy(program: Program, strategy: str, limits: Limits, seed: int = 0,
                  pct_depth: int = 3, symmetry: bool = False) -> Strategy:
    """The strategy named `strategy`, wrapped as `limits` ask (no determinism check)."""
    if strategy == "stateful":
        raise ValueError("the stateful search is not a Strategy: call explore()")
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r} (known: {', '.join(STRATEGIES)})")
    if limits.preemption_bound is not None and strategy != "dfs":
        raise ValueError("a preemption bound needs the dfs strategy")
    # a sampler draws DEFAULT_SAMPLES executions unless an execution limit is given
    samples = DEFAULT_SAMPLES if limits.max_executions is None else None
    if strategy == "dfs":
        dfs = NaiveDFS(program)
        if limits.preemption_bound is not None:
            return PreemptionBound(dfs, limits.preemption_bound)
        return dfs
    if strategy == "dpor":
        dpor = SourceDPOR(program)
        if symmetry:
            dpor.use_symmetry(program)
        return dpor
    if strategy == "random":
        return RandomWalk(seed, samples)
    return PCT(len(program.threads), pct_depth, seed, samples)


def explore(program: Program, strategy: str = "dpor", limits: Limits | None = None,
            seed: int = 0, pct_depth: int = 3, stop_on_violation: bool = True,
            progress: ProgressFn | None = None,
            on_execution: Callable[[Execution], None] | None = None,
            check_determinism: bool = True, symmetry: bool = True,
            por: bool = False) -> ExplorationResult:
    """Explore `program`. `progress` is called at most about four times a second with a
    `Progress` (progress.py); `on_execution` sees every maximal execution (for
    measurements). A thread body that is not deterministic raises NondeterminismError
    (determinism.py), unless `check_determinism` is False."""
    limits = limits or Limits()
    if strategy == "stateful":
        result = explore_stateful(program, limits, symmetry, por, stop_on_violation,
                                  progress)
    else:
        strat = make_strategy(program, strategy, limits, seed, pct_depth, symmetry)
        orbit = strat.sym if isinstance(strat, TreeSearch) else None  # use_symmetry's
        if check_determinism:
            strat = DeterminismCheck(strat, program)
        result = drive(program, strat, limits, stop_on_violation, progress, on_execution,
                       orbit)
    exhaustive = result.complete and limits.preemption_bound is None
    if exhaustive and not result.found:
        missing = [name for name, ok in result.sometimes.items() if not ok]
        if missing:
            result.found.append(Found(ViolationRecord(
                SOMETIMES, "no execution reaches: " + ", ".join(missing)), Schedule(())))
    return result
