"""The result of a check, a replay or a matrix: typed, with one versioned JSON form.

`CheckResult` is what `pagerace check`, `pagerace replay` and every cell of `pagerace
matrix` produce, and what every renderer (text, HTML, markdown, JSON) reads. Its JSON
form (`to_json`) is the object `check --json` prints and `matrix --json` prints a list
of:

    {"schema_version": 1, "scenario", "title", "params", "strategy",
     "verdict": "pass" | "violation", "violation": {"kind", "message"} | null,
     "stats", "complete": bool | null, "sometimes", "schedule", "replay",
     "trace": <trace dict, report/trace_json.py> | null,
     "shipped": bool, "shipped_note": str, "memory": "sc" | "tso" | "relaxed" | "relaxed-nosb"}

`memory` names the memory model the verdict was produced under (a scenario's `memory`
parameter resolved: "arch" becomes the architecture's model).

`shipped` says whether the generation on the architecture of the cell ever ran in a
mainline release (kernel/shipped.py); a scenario without both a gen and an arch axis is
shipped with no note.

`MatrixResult` places the cells: rows are the values of the row parameter, columns the
other matrix parameters' values joined by "/" ("-" when there are none).

This module imports nothing of pagerace, so the report layer can read these types
without importing the kernel or the scenarios. Leaves out: computing a result (run.py,
replay.py, matrix.py) and reading one back from JSON (no reader needs it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1

JSONDict = dict[str, Any]


@dataclass(frozen=True)
class CheckResult:
    scenario: str  # how the user named it: a catalog name or a .py path
    params: dict[str, str]
    verdict: str  # "pass" or "violation"
    title: str = ""
    strategy: str | None = None  # dpor, dfs, random, pct, or "replay"
    violation: JSONDict | None = None  # {"kind", "message"}
    stats: JSONDict = field(default_factory=dict)
    complete: bool | None = None  # None: not an exploration (a bare trace)
    sometimes: dict[str, bool] = field(default_factory=dict)
    schedule: str | None = None
    replay: str | None = None  # the command that re-runs the schedule
    trace: JSONDict | None = None
    shipped: bool = True
    shipped_note: str = ""
    memory: str = "sc"

    @property
    def failed(self) -> bool:
        return self.verdict == "violation"

    @property
    def cell_text(self) -> str:
        """What a matrix cell shows: "pass" or the violation kind."""
        if self.violation is not None:
            return str(self.violation.get("kind"))
        return self.verdict

    def to_json(self) -> JSONDict:
        return {
            "schema_version": SCHEMA_VERSION,
            "scenario": self.scenario,
            "title": self.title,
            "params": dict(self.params),
            "strategy": self.strategy,
            "verdict": self.verdict,
            "violation": self.violation,
            "stats": dict(self.stats),
            "complete": self.complete,
            "sometimes": dict(self.sometimes),
            "schedule": self.schedule,
            "replay": self.replay,
            "trace": self.trace,
            "shipped": self.shipped,
            "shipped_note": self.shipped_note,
            "memory": self.memory,
        }


def column_label(params: Mapping[str, str], names: Sequence[str]) -> str:
    """The column of a cell: its values of the column parameters joined by "/"."""
    return "/".join(params[n] for n in names) if names else "-"


@dataclass(frozen=True)
class MatrixResult:
    scenario: str
    row_param: str
    col_params: list[str]
    rows: list[str]
    columns: list[str]
    cells: list[CheckResult]

    def place(self, cell: CheckResult) -> tuple[str, str]:
        """(row, column) of a cell."""
        return cell.params.get(self.row_param, ""), column_label(cell.params, self.col_params)

    def cell(self, row: str, column: str) -> CheckResult | None:
        for c in self.cells:
            if self.place(c) == (row, column):
                return c
        return None

    @property
    def failed(self) -> bool:
        return any(c.failed for c in self.cells)

    def to_json(self) -> list[JSONDict]:
        """What `matrix --json` prints: the list of the cells' JSON objects."""
        return [c.to_json() for c in self.cells]


__all__ = ["SCHEMA_VERSION", "CheckResult", "MatrixResult", "column_label"]
