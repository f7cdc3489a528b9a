"""How a check's exploration runs: in this process, or split over worker processes or a
Dask cluster (engine/parallel.py), with the same result either way.

`explore_check(program, ref, params, opts, progress)`:

- `--jobs 1`, a sampler (random, pct), or a replay: `explore` in this process;
- `--jobs N` (N > 1): a short in-process probe first (`opts.split_after`, 0.5 s): most
  checks finish in it, with no process started. One that does not is explored again from
  the start split over N local processes (the probe's work is thrown away, so the result
  is the whole search's, exactly as one process finds it);
- `--cluster ADDRESS`: split over the Dask cluster's workers at once.

The workers rebuild the program from `ScenarioProgram(ref, params)`: the scenario as the
user named it (a catalog name or a .py path) and its resolved parameters.

Leaves out: the splitting itself (engine/parallel.py) and where processes come from
(executors.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pagerace.check.executors import cluster_pool, local_pool
from pagerace.check.options import CheckOptions
from pagerace.engine import ExplorationResult, Limits, Program, explore
from pagerace.engine.parallel import SPLITTABLE, explore_parallel

Progress = Callable[[Any], None]


@dataclass(frozen=True)
class ScenarioProgram:
    """A picklable, hashable recipe for a scenario's program (what workers build)."""

    ref: str
    params: tuple[tuple[str, str], ...]

    def __call__(self) -> Program:
        from pagerace.scenarios.catalog import load_scenario

        return load_scenario(self.ref).build(dict(self.params))


def explore_check(program: Program, ref: str, params: Mapping[str, str], opts: CheckOptions,
                  progress: Progress | None = None) -> ExplorationResult:
    limits = opts.limits()
    parallel_after = opts.split_after
    split = opts.strategy in SPLITTABLE and (opts.jobs > 1 or opts.cluster is not None)
    if split and opts.cluster is None and parallel_after > 0:
        user = limits.max_seconds
        probe = Limits(limits.max_executions,
                       parallel_after if user is None else min(user, parallel_after),
                       limits.max_steps, limits.preemption_bound)
        first = explore(program, opts.strategy, probe, seed=opts.seed,
                        pct_depth=opts.pct_depth, progress=progress,
                        symmetry=opts.symmetry)
        if first.limit_hit != "time" or (user is not None and user <= parallel_after):
            return first
        if user is not None:
            limits = Limits(limits.max_executions, user - first.stats.seconds,
                            limits.max_steps, limits.preemption_bound)
    if not split:
        return explore(program, opts.strategy, limits, seed=opts.seed,
                       pct_depth=opts.pct_depth, progress=progress, symmetry=opts.symmetry)
    factory = ScenarioProgram(ref, tuple(sorted(params.items())))
    if opts.cluster is not None:
        with cluster_pool(opts.cluster) as (executor, threads):
            return explore_parallel(factory, opts.strategy, executor, threads, limits,
                                    depth=opts.split_depth, progress=progress,
                                    symmetry=opts.symmetry)
    with local_pool(opts.jobs) as pool:
        return explore_parallel(factory, opts.strategy, pool, opts.jobs, limits,
                                depth=opts.split_depth, progress=progress,
                                symmetry=opts.symmetry)


__all__ = ["ScenarioProgram", "explore_check"]
