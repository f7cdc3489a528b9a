"""A matrix as text: the table of verdicts, its shipped footnotes, each distinct failure.

The table has a row per value of the row parameter and a column per combination of the
others; a cell is green `pass` or the red violation kind, with a footnote mark (`†1`)
when that configuration never ran in a mainline release (report/matrix_notes.py). Then,
for each distinct violation (kind and message), the cells it appears in and the
minimized trace of the first of them.

Leaves out: running the matrix (check/matrix.py).
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pagerace.check.result import CheckResult, MatrixResult
from pagerace.report.matrix_notes import HEADING, footnotes, marks
from pagerace.report.text import render_trace_text


def print_table(m: MatrixResult, console: Console) -> None:
    notes = footnotes(m)
    mark = marks(notes)
    t = Table(title=f"{m.scenario}: {m.row_param} x {'/'.join(m.col_params) or '-'}")
    t.add_column(m.row_param, style="bold")
    for c in m.columns:
        t.add_column(c, justify="center")
    for r in m.rows:
        cells: list[Text | str] = []
        for c in m.columns:
            cell = m.cell(r, c)
            if cell is None:
                cells.append("-")
                continue
            text = Text(cell.cell_text, style="green" if cell.verdict == "pass" else "red")
            if (r, c) in mark:
                text.append(f" {mark[(r, c)]}", style="yellow")
            cells.append(text)
        t.add_row(r, *cells)
    console.print(t)
    if notes:
        console.print(HEADING, style="yellow", soft_wrap=True)
        for fn in notes:
            console.print(f"  {fn.mark} {fn.where}: {fn.note}", soft_wrap=True)


def print_failures(m: MatrixResult, console: Console) -> None:
    groups: dict[tuple[str, str], list[CheckResult]] = {}
    for cell in m.cells:
        if cell.violation is not None:
            v = cell.violation
            groups.setdefault((v["kind"], v["message"]), []).append(cell)
    for n, cells in enumerate(groups.values(), 1):
        where = ", ".join(" ".join(m.place(c)) for c in cells)
        console.rule(f"failure {n} of {len(groups)}: {where}")
        render_trace_text(cells[0], console=console, compact=True)


__all__ = ["print_failures", "print_table"]
