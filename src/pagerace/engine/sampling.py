"""Sampling strategies: seeded random walk and PCT.

- Random walk: at every state pick an enabled thread (and an outcome) uniformly.
- PCT, probabilistic concurrency testing (S. Burckhardt, P. Kothari, M. Musuvathi,
  S. Nagarakatte, "A Randomized Scheduler with Probabilistic Guarantees of Finding Bugs",
  ASPLOS 2010): threads get random distinct priorities d..d+n-1; d-1 priority change points
  are drawn uniformly from the first k steps (k estimated from the longest run so far);
  the enabled thread with the highest priority runs; at the j-th change point the running
  thread's priority drops to j. A bug of depth d is found with probability >= 1/(n k^(d-1))
  per execution.

All randomness flows from one `random.Random(seed)`; every execution's choices are
recorded as a `Schedule`, so a failure replays without the seed.
"""

from __future__ import annotations

import random

from pagerace.engine.execution import Execution
from pagerace.engine.limits import Budget, Limits
from pagerace.engine.program import Program
from pagerace.engine.result import ExplorationResult
from pagerace.engine.schedule import Choice, Schedule

DEFAULT_SAMPLES = 1000


def sample(program: Program, strategy: str, seed: int = 0, limits: Limits | None = None,
           pct_depth: int = 3, stop_on_violation: bool = True) -> ExplorationResult:
    """Run `strategy` ("random" or "pct") for up to max_executions executions."""
    if strategy not in ("random", "pct"):
        raise ValueError(f"unknown sampling strategy {strategy!r}")
    limits = limits or Limits()
    budget = Budget(limits)
    rng = random.Random(seed)
    result = ExplorationResult(strategy=strategy)
    stats = result.stats
    n = len(program.threads)
    k_estimate = 1
    hit: set[str] = set()
    max_exec = limits.max_executions if limits.max_executions is not None else DEFAULT_SAMPLES
    while stats.executions < max_exec:
        ex = Execution(program, limits.max_steps)
        choices: list[Choice] = []
        if strategy == "pct":
            prio = list(range(pct_depth, pct_depth + n))
            rng.shuffle(prio)
            change = {rng.randrange(1, k_estimate + 1): j for j in range(1, pct_depth)}
        while ex.violation is None and not ex.finished():
            enabled = ex.enabled()
            if ex.check_deadlock(enabled):
                break
            if strategy == "random":
                t = enabled[rng.randrange(len(enabled))]
            else:
                t = max(enabled, key=lambda x: prio[x])
                j = change.get(len(choices) + 1)
                if j is not None:
                    prio[t] = j - pct_depth  # below every initial priority
                    t = max(enabled, key=lambda x: prio[x])
            outs = ex.outcomes(t)
            o = outs[rng.randrange(len(outs))]
            ex.step(t, o)
            choices.append(Choice(t, o))
        k_estimate = max(k_estimate, len(choices))
        hit |= ex.sometimes_hit
        if result.record(ex, Schedule(tuple(choices)), budget.elapsed()) and stop_on_violation:
            break
        lim = budget.exhausted(stats.executions)
        if lim is not None:
            result.limit_hit = lim
            break
    result.finish((p.name for p in program.properties_of("sometimes")), hit, budget.elapsed())
    return result
