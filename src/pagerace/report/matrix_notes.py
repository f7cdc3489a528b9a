"""Which matrix cells never ran in a mainline release, and the footnotes that say why.

Every `CheckResult` carries `shipped` and `shipped_note` (computed by the check layer
from kernel/shipped.py); this module only groups them for display. Unshipped cells with
the same note share one footnote, numbered in the table's order: the mark is `†1`,
`†2`, ... and each footnote names its cells as compactly as it can ("G1, G2, G3 on
arm64-lse" when they form rows x some column values, the cells one by one otherwise).

Leaves out: the facts themselves (kernel/shipped.py) and the table markup (text, HTML
and markdown renderers).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from pagerace.check.result import MatrixResult

DAGGER = "\u2020"


@dataclass
class Footnote:
    mark: str
    note: str
    cells: list[tuple[str, str]] = field(default_factory=list)  # (row, column)
    where: str = ""


def _where(m: MatrixResult, cells: list[tuple[str, str]]) -> str:
    rows = [r for r in m.rows if any(c[0] == r for c in cells)]
    cols = [c for c in m.columns if any(x[1] == c for x in cells)]
    if len(cells) != len(rows) * len(cols) or not m.col_params:
        return "; ".join(f"{r} {c}" for r, c in cells)
    parts = [c.split("/") for c in cols]
    per_param = [sorted({p[i] for p in parts}, key=[p[i] for p in parts].index)
                 for i in range(len(m.col_params))]
    full = [sorted({c.split("/")[i] for c in m.columns},
                   key=[c.split("/")[i] for c in m.columns].index)
            for i in range(len(m.col_params))]
    if len(cols) != len(list(itertools.product(*per_param))):
        return "; ".join(f"{r} {c}" for r, c in cells)
    narrowed = [", ".join(v) for v, f in zip(per_param, full, strict=True) if v != f]
    text = ", ".join(rows)
    return f"{text} on {'; '.join(narrowed)}" if narrowed else text


def footnotes(m: MatrixResult) -> list[Footnote]:
    """One footnote per distinct note of the unshipped cells, in table order."""
    by_note: dict[str, Footnote] = {}
    for r in m.rows:
        for c in m.columns:
            cell = m.cell(r, c)
            if cell is None or cell.shipped:
                continue
            note = cell.shipped_note or "not in a mainline release"
            fn = by_note.get(note)
            if fn is None:
                fn = by_note[note] = Footnote(f"{DAGGER}{len(by_note) + 1}", note)
            fn.cells.append((r, c))
    for fn in by_note.values():
        fn.where = _where(m, fn.cells)
    return list(by_note.values())


def marks(notes: list[Footnote]) -> dict[tuple[str, str], str]:
    """(row, column) -> the footnote mark of an unshipped cell."""
    return {cell: fn.mark for fn in notes for cell in fn.cells}


HEADING = f"Cells marked {DAGGER} never ran in a mainline release:"

__all__ = ["DAGGER", "HEADING", "Footnote", "footnotes", "marks"]
