"""The application layer: run a check, re-run a saved trace, run a matrix.

    from pagerace.check import CheckOptions, run_check, rerun, run_matrix

- `run_check(scenario, params, opts) -> CheckResult` (run.py): explore, minimize, trace;
- `rerun(saved, source) -> CheckResult` (replay.py): re-run a loaded trace file;
- `run_matrix(scenario, ref, fixed, opts, jobs) -> MatrixResult` (matrix.py);
- `CheckResult`, `MatrixResult`, `SCHEMA_VERSION` (result.py): the typed results and
  their versioned JSON form.

The command line (cli/) parses options and renders; the renderers (report/) read the
result types. Names are loaded on first use, so that `pagerace.check.result` - which
the report layer imports - pulls in neither the kernel nor the scenarios.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pagerace.check.matrix import run_matrix
    from pagerace.check.options import CheckOptions
    from pagerace.check.replay import ReplayError, rerun
    from pagerace.check.result import SCHEMA_VERSION, CheckResult, MatrixResult, column_label
    from pagerace.check.run import replay_command, run_check

_WHERE = {
    "run_check": "run", "replay_command": "run", "CheckOptions": "options",
    "rerun": "replay", "ReplayError": "replay", "run_matrix": "matrix",
    "CheckResult": "result", "MatrixResult": "result", "SCHEMA_VERSION": "result",
    "column_label": "result",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'pagerace.check' has no attribute {name!r}")
    return getattr(importlib.import_module(f"pagerace.check.{module}"), name)


__all__ = [
    "SCHEMA_VERSION", "CheckOptions", "CheckResult", "MatrixResult", "ReplayError",
    "column_label", "replay_command", "rerun", "run_check", "run_matrix",
]
