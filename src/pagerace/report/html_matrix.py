"""Where each check of a matrix goes in the table, and what its cell says.

`render_matrix_html` receives row labels (values of the row parameter, e.g. the
generation), column labels (the other matrix parameters' values joined by "/", e.g.
"x86/tail", or "-" when there are none) and one check document per cell. A cell is
placed by its own "row" / "column" members when it has them; otherwise the row
parameter is the parameter whose values are the row labels, and the column parameters
are the shortest list of the remaining parameters (in the document's order) whose
"/"-joined values name a column for every cell. Cells that fit nowhere are listed under
the table rather than dropped.

A cell shows "pass" or the violation kind (any other verdict verbatim) and links to the
cell's trace, which the page embeds.

Leaves out: running the checks (the matrix command does) and rendering (html.py).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from pagerace.report.html_view import TraceView, slug

MAX_SEARCH_PARAMS = 10


@dataclass
class MatrixCell:
    row: str
    column: str
    doc: dict[str, Any]
    anchor: str
    view: TraceView | None = None

    @property
    def status(self) -> str:
        verdict = self.doc.get("verdict")
        if verdict == "pass":
            return "pass"
        return "fail" if verdict == "violation" or self.doc.get("violation") else "other"

    @property
    def text(self) -> str:
        v = self.doc.get("violation")
        if isinstance(v, dict) and v.get("kind"):
            return str(v["kind"])
        return str(self.doc.get("verdict") or "?")

    @property
    def tooltip(self) -> str:
        v = self.doc.get("violation")
        if isinstance(v, dict):
            return f"{v.get('kind')}: {v.get('message')}"
        stats = self.doc.get("stats") or {}
        if "executions" in stats:
            return f"no violation in {stats['executions']} executions"
        return str(self.doc.get("verdict") or "")


@dataclass
class MatrixModel:
    scenario: str
    rows: list[str]
    columns: list[str]
    row_param: str | None
    column_params: list[str]
    grid: dict[tuple[str, str], MatrixCell] = field(default_factory=dict)
    extra: list[MatrixCell] = field(default_factory=list)

    def cell(self, row: str, column: str) -> MatrixCell | None:
        return self.grid.get((row, column))

    def ordered_cells(self) -> list[MatrixCell]:
        out = [self.grid[(r, c)] for r in self.rows for c in self.columns
               if (r, c) in self.grid]
        return out + self.extra

    def traced_cells(self) -> list[MatrixCell]:
        return [c for c in self.ordered_cells() if isinstance(c.doc.get("trace"), dict)]

    def count(self, status: str) -> int:
        return sum(1 for c in self.ordered_cells() if c.status == status)


def _params(doc: dict[str, Any]) -> dict[str, str]:
    p = doc.get("params")
    return {str(k): str(v) for k, v in p.items()} if isinstance(p, dict) else {}


def infer_row_param(rows: list[str], cells: list[dict[str, Any]]) -> str | None:
    """The parameter whose values (over all cells) are exactly, or else within, the rows."""
    if not cells:
        return None
    names = [n for n in _params(cells[0]) if all(n in _params(c) for c in cells)]
    values = {n: {_params(c)[n] for c in cells} for n in names}
    wanted = set(rows)
    for n in names:
        if values[n] == wanted:
            return n
    for n in names:
        if values[n] <= wanted:
            return n
    return None


def column_label(params: dict[str, str], names: list[str] | tuple[str, ...]) -> str:
    return "/".join(params[n] for n in names) if names else "-"


def infer_column_params(columns: list[str], cells: list[dict[str, Any]],
                        row_param: str | None) -> list[str] | None:
    """The shortest ordered list of parameters that names a distinct column per cell."""
    if not cells:
        return []
    first = _params(cells[0])
    names = [n for n in first if n != row_param
             and all(n in _params(c) for c in cells)][:MAX_SEARCH_PARAMS]
    wanted = set(columns)
    for size in range(len(names) + 1):
        for combo in itertools.combinations(names, size):
            seen: set[tuple[str, str]] = set()
            ok = True
            for c in cells:
                p = _params(c)
                label = column_label(p, combo)
                key = (p.get(row_param, "") if row_param else "", label)
                if label not in wanted or key in seen:
                    ok = False
                    break
                seen.add(key)
            if ok:
                return list(combo)
    return None


def matrix_model(scenario: str, rows: list[str], columns: list[str],
                 cells: list[dict[str, Any]]) -> MatrixModel:
    """Place every cell (see the module docstring)."""
    plain = [c for c in cells if "row" not in c or "column" not in c]
    row_param = infer_row_param(rows, plain)
    col_params = infer_column_params(columns, plain, row_param)
    model = MatrixModel(scenario, list(rows), list(columns), row_param, col_params or [])
    used: set[str] = set()
    for doc in cells:
        p = _params(doc)
        if "row" in doc and "column" in doc:
            row, column = str(doc["row"]), str(doc["column"])
        elif row_param is not None and col_params is not None:
            row, column = p.get(row_param, ""), column_label(p, col_params)
        else:
            row, column = "", ""
        anchor = base = "cell-" + slug(f"{row}-{column}" if row else
                                       "-".join(p.values()) or "other")
        n = 2
        while anchor in used:
            anchor, n = f"{base}-{n}", n + 1
        used.add(anchor)
        cell = MatrixCell(row, column, doc, anchor)
        if row in model.rows and column in model.columns and (row, column) not in model.grid:
            model.grid[(row, column)] = cell
        else:
            model.extra.append(cell)
    return model
