"""Running a scenario's matrix: every combination of its matrix parameters, one check each.

Cells run in worker processes (one per core by default); each worker loads the scenario by
the name or path it was given, so a scenario file from outside the catalog works too.
"""

from __future__ import annotations

import itertools
import signal
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from pagerace.cli.check_run import CheckOptions, run_check
from pagerace.report.html_matrix import column_label
from pagerace.scenarios.base import ParamError, Scenario
from pagerace.scenarios.catalog import load_scenario


@dataclass
class Matrix:
    scenario: str
    row_param: str
    col_params: list[str]
    rows: list[str]
    columns: list[str]
    cells: list[dict[str, Any]]

    def cell(self, row: str, column: str) -> dict[str, Any]:
        for c in self.cells:
            if c["params"][self.row_param] == row \
                    and column_label(c["params"], self.col_params) == column:
                return c
        raise KeyError((row, column))


def _ignore_sigint() -> None:
    # Ctrl-C is the parent's to handle: it stops the pool and reports once
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _one(args: tuple[str, dict[str, str], CheckOptions]) -> dict[str, Any]:
    ref, params, opts = args
    return run_check(load_scenario(ref), params, opts, ref=ref)


def run_matrix(scenario: Scenario, ref: str, fixed: Mapping[str, str], opts: CheckOptions,
               jobs: int = 1) -> Matrix:
    mparams = scenario.matrix_params()
    if not mparams:
        raise ParamError(f"scenario {scenario.name} declares no matrix parameters")
    scenario.resolve(fixed)  # validate early
    row = scenario.matrix_rows or mparams[0].name
    cols = [p for p in mparams if p.name != row]

    def values(name: str) -> list[str]:
        # a matrix parameter fixed with --param keeps only that value
        return [fixed[name]] if name in fixed else list(scenario.param(name).choices or ())

    row_values = values(row)
    col_values = [values(p.name) for p in cols]
    work = []
    for r in row_values:
        for combo in itertools.product(*col_values):
            params = dict(fixed)
            params[row] = r
            params.update({p.name: v for p, v in zip(cols, combo, strict=True)})
            work.append((ref, params, opts))
    if jobs > 1 and len(work) > 1:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_ignore_sigint) as pool:
            cells = list(pool.map(_one, work))
    else:
        cells = [_one(w) for w in work]
    names = [p.name for p in cols]
    columns = [column_label(dict(zip(names, combo, strict=True)), names)
               for combo in itertools.product(*col_values)]
    return Matrix(scenario.name, row, [p.name for p in cols], row_values, columns, cells)
