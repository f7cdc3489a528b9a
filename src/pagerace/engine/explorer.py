"""The entry point strategies hang off: `explore(program, strategy=...)`.

Strategies: "dfs" (naive exhaustive, the reference), "dpor" (Source-DPOR with sleep sets,
search.py), "random" (seeded random walk) and "pct" (PCT with depth d, sampling.py).
Preemption bounding applies to "dfs". An exhaustive search that completes without
reaching a `sometimes` property reports the check as vacuous: a violation of kind
"sometimes", because a model that never reaches its racy window proves nothing.
"""

from __future__ import annotations

from pagerace.engine.limits import Limits
from pagerace.engine.program import Program
from pagerace.engine.result import ExplorationResult, Found
from pagerace.engine.sampling import sample
from pagerace.engine.schedule import Schedule
from pagerace.engine.search import tree_search
from pagerace.engine.violation import ViolationRecord

STRATEGIES = ("dpor", "dfs", "random", "pct")
SOMETIMES = "sometimes"


def explore(program: Program, strategy: str = "dpor", limits: Limits | None = None,
            seed: int = 0, pct_depth: int = 3,
            stop_on_violation: bool = True) -> ExplorationResult:
    limits = limits or Limits()
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r} (known: {', '.join(STRATEGIES)})")
    if limits.preemption_bound is not None and strategy != "dfs":
        raise ValueError("a preemption bound needs the dfs strategy")
    if strategy in ("dfs", "dpor"):
        result = tree_search(program, strategy, limits, stop_on_violation)  # type: ignore[arg-type]
    else:
        result = sample(program, strategy, seed, limits, pct_depth, stop_on_violation)
    exhaustive = result.complete and limits.preemption_bound is None
    if exhaustive and not result.found:
        missing = [name for name, ok in result.sometimes.items() if not ok]
        if missing:
            result.found.append(Found(ViolationRecord(
                SOMETIMES, "no execution reaches: " + ", ".join(missing)), Schedule(())))
    return result
