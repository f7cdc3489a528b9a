"""Self-contained HTML reports: one check, or a whole matrix, in one file.

The page needs no network: CSS and the stepping script are inlined, pictures are inline
SVG. Everything a reader needs without JavaScript is in the markup (verdict, violation,
replay command, the swim lanes of every step, the matrix table, and the map at the first
step); the script adds stepping (buttons #prev / #next, the arrow keys, a click on a
row), swapping the vmemmap map and state tables for the selected step, and in a matrix
shows the trace of the cell that was clicked.

Stable hooks for tests and tools: `#step-index` (the selected step number, 0 = initial
state), `#step-count`, `#prev`, `#next`, `#vmemmap-map`, `#state-tables`, `#step-detail`,
`#replay-command`; rows `tr[data-step]` with class `current` on the selected one; map
elements carry `data-vpage` / `data-frame` / `data-perm`. In a matrix the ids of each
cell's viewer are prefixed with the cell's id (`cell-G1-x86-tail-next`), and every
control also has `data-role` (`next`, `prev`, `step-index`, `map`, ...).

Input is a `CheckResult` or a `MatrixResult` (check/result.py). In a matrix, a cell whose
configuration never ran in a mainline release is greyed (class `unshipped`), carries a
footnote mark and its reason in its title; the footnotes (`#shipped-notes`) follow the
table.

Leaves out: the text rendering (text.py) and the placement of matrix cells
(html_matrix.py).
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2
from markupsafe import Markup

from pagerace.check.result import CheckResult, MatrixResult
from pagerace.report.html_view import TraceView, trace_view
from pagerace.report.vmemmap_map import BOX_H, ROW_F, ROW_V


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pagerace.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)
    env.globals.update(ROW_V=ROW_V, ROW_F=ROW_F, BOX_H=BOX_H)
    return env


def _asset(name: str) -> Markup:
    """An inlined stylesheet or script (trusted package data, not user input)."""
    env = environment()
    assert env.loader is not None
    source = env.loader.get_source(env, name)[0]
    if "</" in source:
        raise ValueError(f"{name} must not contain '</' (it is inlined)")
    return Markup(source)


def assets() -> dict[str, Markup]:
    return {"css": _asset("report.css"), "js": _asset("report.js")}


def build_view(trace: dict[str, Any] | None, prefix: str = "") -> TraceView | None:
    """The viewer model for a trace dict (None when there is no trace to show)."""
    if not isinstance(trace, dict):
        return None
    env = environment()
    map_t = env.get_template("_map.html.j2")
    tables_t = env.get_template("_tables.html.j2")
    return trace_view(trace, map_t.render, tables_t.render, prefix)


def render_check_html(result: CheckResult) -> str:
    """One check (or replay) result -> a self-contained HTML page."""
    return environment().get_template("check.html.j2").render(
        doc=result, view=build_view(result.trace), **assets())


def render_matrix_html(m: MatrixResult) -> str:
    """A matrix result -> a self-contained HTML page."""
    from pagerace.report.html_matrix import matrix_model

    model = matrix_model(m)
    for cell in model.traced_cells():
        cell.view = build_view(cell.result.trace, prefix=f"{cell.anchor}-")
    return environment().get_template("matrix.html.j2").render(m=model, **assets())
