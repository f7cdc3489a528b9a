"""Running a scenario's matrix: every combination of its matrix parameters, one check each.

Cells run in worker processes (one per core by default); each worker loads the scenario
by the name or path it was given, so a scenario file from outside the catalog works too.
A matrix parameter fixed with `--param` keeps only that value. Workers ignore SIGINT:
Ctrl-C is the parent's to handle (it stops the pool and reports once).

Leaves out: rendering the table (report/matrix_text.py, report/markdown.py, report/html.py).
"""

from __future__ import annotations

import itertools
import signal
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor

from pagerace.check.options import CheckOptions
from pagerace.check.result import CheckResult, MatrixResult, column_label
from pagerace.check.run import run_check
from pagerace.scenarios.base import ParamError, Scenario
from pagerace.scenarios.catalog import load_scenario


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _one(args: tuple[str, dict[str, str], CheckOptions]) -> CheckResult:
    ref, params, opts = args
    return run_check(load_scenario(ref), params, opts, ref=ref)


def run_matrix(scenario: Scenario, ref: str, fixed: Mapping[str, str], opts: CheckOptions,
               jobs: int = 1) -> MatrixResult:
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
    work = []
    for r in row_values:
        for combo in itertools.product(*col_values):
            params = dict(fixed)
            params[row] = r
            params.update(zip(cols, combo, strict=True))
            work.append((ref, params, opts))
    if jobs > 1 and len(work) > 1:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_ignore_sigint) as pool:
            cells = list(pool.map(_one, work))
    else:
        cells = [_one(w) for w in work]
    columns = [column_label(dict(zip(cols, combo, strict=True)), cols)
               for combo in itertools.product(*col_values)]
    return MatrixResult(scenario.name, row, cols, row_values, columns, cells)


__all__ = ["run_matrix"]
