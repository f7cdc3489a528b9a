"""A matrix as the markdown table the README and docs show (`pagerace matrix --markdown`).

A header row of the column labels (the non-row matrix parameters' values joined by "/",
e.g. `x86/aligned`), one row per value of the row parameter (e.g. each generation), a
cell per check: `pass` or the violation kind, followed by a footnote mark (`†1`) when
that generation on that architecture never ran in a mainline release; the footnotes
follow the table. Columns are padded so that the source reads as a table too.

Leaves out: the traces (the text and HTML reports have them) and merging identical rows
(each row stays, so a changed verdict shows up in a diff of the docs).
"""

from __future__ import annotations

from pagerace.check.result import MatrixResult
from pagerace.report.matrix_notes import HEADING, footnotes, marks


def _row(cells: list[str], widths: list[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"


def matrix_markdown(m: MatrixResult) -> str:
    """The table (and its footnotes) as markdown, ending in a newline."""
    notes = footnotes(m)
    mark = marks(notes)
    header = [m.row_param, *m.columns]
    body: list[list[str]] = []
    for r in m.rows:
        line = [r]
        for c in m.columns:
            cell = m.cell(r, c)
            text = "-" if cell is None else cell.cell_text
            if (r, c) in mark:
                text += f" {mark[(r, c)]}"
            line.append(text)
        body.append(line)
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    out = [_row(header, widths), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [_row(line, widths) for line in body]
    if notes:
        out += ["", HEADING, ""]
        out += [f"- {fn.mark} {fn.where}: {fn.note}" for fn in notes]
    return "\n".join(out) + "\n"


__all__ = ["matrix_markdown"]
