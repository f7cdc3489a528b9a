"""Running a scenario's matrix: every combination of its matrix parameters, one check each.

Cells run in worker processes (one per core by default), or on a Dask cluster
(`opts.cluster`, executors.py); each worker loads the scenario by the name or path it was
given, so a scenario file from outside the catalog works too. A matrix parameter fixed
with `--param` keeps only that value. Workers ignore SIGINT: Ctrl-C is the parent's to
handle (it stops the pool and reports once). Each cell explores in one process: the
cells are what runs in parallel. `progress`, when given, is called about four times a
second with a `MatrixProgress` (cells done, executions of the cells done, the cells
running) and once at the end.

Leaves out: rendering the table (report/matrix_text.py, report/markdown.py, report/html.py).
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass

from pagerace.check.executors import cluster_pool, local_pool
from pagerace.check.options import CheckOptions
from pagerace.check.result import CheckResult, MatrixResult, column_label
from pagerace.check.run import run_check
from pagerace.scenarios.base import ParamError, Scenario
from pagerace.scenarios.catalog import load_scenario

INTERVAL = 0.25  # seconds between two progress calls


@dataclass(frozen=True)
class MatrixProgress:
    cells_done: int
    cells: int
    executions: int  # of the cells done
    elapsed: float
    running: tuple[str, ...]  # the cells being checked (their parameter values)
    done: bool = False

    @property
    def rate(self) -> float:
        return self.executions / self.elapsed if self.elapsed > 0 else 0.0


MatrixProgressFn = Callable[[MatrixProgress], None]
Work = tuple[str, dict[str, str], CheckOptions]


def _one(args: Work) -> CheckResult:
    ref, params, opts = args
    return run_check(load_scenario(ref), params, opts, ref=ref)


def _label(params: Mapping[str, str], names: list[str]) -> str:
    return " ".join(params[n] for n in names)


def _run_pool(executor: Executor, work: list[Work], names: list[str],
              progress: MatrixProgressFn | None) -> list[CheckResult]:
    start = time.perf_counter()
    futures: list[Future[CheckResult]] = [executor.submit(_one, w) for w in work]
    pending = set(futures)
    executions = 0
    while pending:
        done, pending = wait(pending, timeout=INTERVAL, return_when=FIRST_COMPLETED)
        for f in done:
            executions += int(f.result().stats.get("executions", 0))
        if progress is not None:
            running = tuple(_label(w[1], names) for w, f in zip(work, futures, strict=True)
                            if f.running())
            progress(MatrixProgress(len(work) - len(pending), len(work), executions,
                                    time.perf_counter() - start, running, not pending))
    return [f.result() for f in futures]


def _run_here(work: list[Work], names: list[str],
              progress: MatrixProgressFn | None) -> list[CheckResult]:
    start = last = time.perf_counter()
    cells: list[CheckResult] = []
    executions = 0
    for k, w in enumerate(work):
        cells.append(_one(w))
        executions += int(cells[-1].stats.get("executions", 0))
        now = time.perf_counter()
        if progress is not None and (now - last >= INTERVAL or k + 1 == len(work)):
            last = now
            nxt = (_label(work[k + 1][1], names),) if k + 1 < len(work) else ()
            progress(MatrixProgress(k + 1, len(work), executions, now - start, nxt,
                                    k + 1 == len(work)))
    return cells


def run_matrix(scenario: Scenario, ref: str, fixed: Mapping[str, str], opts: CheckOptions,
               jobs: int = 1, progress: MatrixProgressFn | None = None) -> MatrixResult:
    """Check every cell; raises ValueError (ParamError) on bad input."""
    mparams = scenario.matrix_params()
    if not mparams:
        raise ParamError(f"scenario {scenario.name} declares no matrix parameters")
    scenario.resolve(fixed)  # validate early
    row = scenario.matrix_rows or mparams[0].name
    cols = [p.name for p in mparams if p.name != row]

    def values(name: str) -> list[str]:
        return [fixed[name]] if name in fixed else list(scenario.param(name).choices or ())

    row_values = values(row)
    col_values = [values(c) for c in cols]
    cell_opts = dataclasses.replace(opts, jobs=1, cluster=None)
    work: list[Work] = []
    for r in row_values:
        for combo in itertools.product(*col_values):
            params = dict(fixed)
            params[row] = r
            params.update(zip(cols, combo, strict=True))
            work.append((ref, params, cell_opts))
    names = [row, *cols]
    if opts.cluster is not None:
        with cluster_pool(opts.cluster) as (executor, _threads):
            cells = _run_pool(executor, work, names, progress)
    elif jobs > 1 and len(work) > 1:
        with local_pool(jobs) as pool:
            cells = _run_pool(pool, work, names, progress)
    else:
        cells = _run_here(work, names, progress)
    columns = [column_label(dict(zip(cols, combo, strict=True)), cols)
               for combo in itertools.product(*col_values)]
    return MatrixResult(scenario.name, row, cols, row_values, columns, cells)


__all__ = ["MatrixProgress", "MatrixProgressFn", "run_matrix"]
