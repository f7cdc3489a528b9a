"""Where to cut the tree for a split search: a set of prefixes, not one depth.

A uniform depth balances badly: the seed scenarios run one long thread (the hugetlb
life cycle) beside a short walker, so the subtree where the long thread runs the first d
steps holds most of the tree at every d. `plan` cuts non-uniformly instead: starting at
the root, it keeps replacing the largest cut by its children until there are
`TASKS_PER_JOB` cuts per job (or no cut is large). A cut's size is Knuth's estimator
(D. E. Knuth, "Estimating the efficiency of backtrack programs", Math. Comp. 29, 1975):
the product of the branching factors along a random run from it, averaged over `PROBES`
runs with a fixed seed, so the plan - and the run - is reproducible. Branching is naive
DFS's (enabled threads times distinct outcomes); for DPOR it is only a relative measure.

`uniform(depth)` is the plain cut at one depth (tests use it to vary the split).
Every run from the root meets exactly one cut or ends above all of them: a cut is
replaced by all its children, and a child where every run has ended is dropped (the top
part explores it itself).

Leaves out: exploring (parallel.py, subtree.py).
"""

from __future__ import annotations

import heapq
import random

from pagerace.engine.execution import Execution
from pagerace.engine.limits import Limits
from pagerace.engine.program import Program

Prefix = tuple[tuple[int, int], ...]
TASKS_PER_JOB = 8  # cuts per worker
PROBES = 3  # random runs per size estimate
MAX_CUTS = 4096


def _run(program: Program, prefix: Prefix, limits: Limits) -> Execution:
    ex = Execution(program, limits.max_steps)
    for t, o in prefix:
        ex.step(t, o)
    return ex


def children(program: Program, prefix: Prefix, limits: Limits) -> list[Prefix]:
    """The prefixes one step longer (none when every run ends at `prefix`)."""
    ex = _run(program, prefix, limits)
    if ex.violation is not None:
        return []
    return [(*prefix, (t, o)) for t in ex.enabled() for o in ex.outcomes(t)]


def estimate(program: Program, prefix: Prefix, limits: Limits, rng: random.Random) -> float:
    """Knuth's estimate of the number of runs below `prefix`."""
    total = 0.0
    for _ in range(PROBES):
        ex = _run(program, prefix, limits)
        size = 1.0
        while ex.violation is None:
            options = [(t, o) for t in ex.enabled() for o in ex.outcomes(t)]
            if not options:
                break
            size *= len(options)
            t, o = rng.choice(options)
            ex.step(t, o)
        total += size
    return total / PROBES


def plan(program: Program, limits: Limits, jobs: int) -> frozenset[Prefix]:
    rng = random.Random(0)
    target = max(2, TASKS_PER_JOB * jobs)
    heap: list[tuple[float, Prefix]] = [(-estimate(program, (), limits, rng), ())]
    cuts: set[Prefix] = {()}
    for _ in range(MAX_CUTS):
        if len(cuts) >= target or not heap:
            break
        neg, biggest = heapq.heappop(heap)
        kids = children(program, biggest, limits)
        if not kids:
            continue  # a leaf: nothing to split, the top part runs it
        if -neg <= 1.0:
            heapq.heappush(heap, (neg, biggest))
            break  # the largest cut is one run: no split helps
        cuts.discard(biggest)
        for kid in kids:
            if children(program, kid, limits):
                cuts.add(kid)
                heapq.heappush(heap, (-estimate(program, kid, limits, rng), kid))
    return frozenset(c for c in cuts if c)


def uniform(program: Program, limits: Limits, depth: int) -> frozenset[Prefix]:
    """Every prefix of `depth` steps that some run reaches."""
    level: list[Prefix] = [()]
    for _ in range(depth):
        level = [kid for p in level for kid in children(program, p, limits)]
    return frozenset(level)


__all__ = ["PROBES", "TASKS_PER_JOB", "Prefix", "children", "estimate", "plan", "uniform"]
