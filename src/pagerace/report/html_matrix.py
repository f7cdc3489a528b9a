"""Where each check of a matrix goes in the HTML table, and what its cell says.

`matrix_model` places every cell of a `MatrixResult` by its values of the row and column
parameters (`MatrixResult.place`); a cell whose place is not among the rows and columns
(a result put together by hand) is listed under the table rather than dropped. A cell
shows "pass" or the violation kind and links to the cell's trace, which the page embeds;
a configuration that never ran in a mainline release is greyed, carries a footnote mark
and says why in its title (report/matrix_notes.py).

Leaves out: running the checks (check/matrix.py) and rendering (html.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pagerace.check.result import CheckResult, MatrixResult
from pagerace.report.html_view import TraceView, slug
from pagerace.report.matrix_notes import Footnote, footnotes, marks


@dataclass
class MatrixCell:
    row: str
    column: str
    result: CheckResult
    anchor: str
    view: TraceView | None = None
    mark: str = ""  # footnote mark of a configuration that never shipped

    @property
    def status(self) -> str:
        if self.result.verdict == "pass":
            return "pass"
        return "fail" if self.result.failed or self.result.violation else "other"

    @property
    def text(self) -> str:
        return self.result.cell_text

    @property
    def tooltip(self) -> str:
        v = self.result.violation
        if v is not None:
            text = f"{v.get('kind')}: {v.get('message')}"
        elif "executions" in self.result.stats:
            text = f"no violation in {self.result.stats['executions']} executions"
        else:
            text = self.result.verdict
        if not self.result.shipped:
            text += f" - never in a mainline release: {self.result.shipped_note}"
        return text


@dataclass
class MatrixModel:
    scenario: str
    rows: list[str]
    columns: list[str]
    row_param: str
    column_params: list[str]
    grid: dict[tuple[str, str], MatrixCell] = field(default_factory=dict)
    extra: list[MatrixCell] = field(default_factory=list)
    notes: list[Footnote] = field(default_factory=list)

    def cell(self, row: str, column: str) -> MatrixCell | None:
        return self.grid.get((row, column))

    def ordered_cells(self) -> list[MatrixCell]:
        out = [self.grid[(r, c)] for r in self.rows for c in self.columns
               if (r, c) in self.grid]
        return out + self.extra

    def traced_cells(self) -> list[MatrixCell]:
        return [c for c in self.ordered_cells() if c.result.trace is not None]

    def count(self, status: str) -> int:
        return sum(1 for c in self.ordered_cells() if c.status == status)


def matrix_model(m: MatrixResult) -> MatrixModel:
    """Place every cell (see the module docstring)."""
    notes = footnotes(m)
    mark = marks(notes)
    model = MatrixModel(m.scenario, list(m.rows), list(m.columns), m.row_param,
                        list(m.col_params), notes=notes)
    used: set[str] = set()
    for result in m.cells:
        row, column = m.place(result)
        anchor = base = "cell-" + slug(f"{row}-{column}")
        n = 2
        while anchor in used:
            anchor, n = f"{base}-{n}", n + 1
        used.add(anchor)
        cell = MatrixCell(row, column, result, anchor, mark=mark.get((row, column), ""))
        if row in model.rows and column in model.columns and (row, column) not in model.grid:
            model.grid[(row, column)] = cell
        else:
            model.extra.append(cell)
    return model


__all__ = ["MatrixCell", "MatrixModel", "matrix_model"]
