"""`pagerace matrix SCENARIO`: check every combination of the scenario's matrix parameters.

Prints a table (rows: the row parameter, e.g. the generation; columns: the other matrix
parameters, e.g. arch/target; cells: pass or the violation kind), then the minimized
trace of each distinct failure. `--json` prints the list of per-cell result documents.
Exit status 0 when the matrix ran (the table is the answer); with `--fail-on-violation`,
1 if any cell found a violation; 2 on bad input.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from pagerace.cli.errors import BadInput
from pagerace.cli.matrix_run import Matrix, run_matrix
from pagerace.cli.options import check_options_from, check_output_path, exploration_options
from pagerace.report.atomic import write_atomic
from pagerace.report.html import render_matrix_html
from pagerace.report.html_matrix import column_label
from pagerace.report.text import make_console, render_trace_text
from pagerace.scenarios.base import parse_assignments
from pagerace.scenarios.catalog import load_scenario


def cell_text(doc: dict[str, Any]) -> str:
    return "pass" if doc["verdict"] == "pass" else str(doc["violation"]["kind"])


def print_table(m: Matrix, console: Console) -> None:
    t = Table(title=f"{m.scenario}: {m.row_param} x {'/'.join(m.col_params) or '-'}")
    t.add_column(m.row_param, style="bold")
    for c in m.columns:
        t.add_column(c, justify="center")
    for r in m.rows:
        cells = []
        for c in m.columns:
            text = cell_text(m.cell(r, c))
            cells.append(f"[green]{text}[/]" if text == "pass" else f"[red]{text}[/]")
        t.add_row(r, *cells)
    console.print(t)


def print_failures(m: Matrix, console: Console) -> None:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for doc in m.cells:
        if doc["violation"] is not None:
            v = doc["violation"]
            groups.setdefault((v["kind"], v["message"]), []).append(doc)
    for n, docs in enumerate(groups.values(), 1):
        where = ", ".join(f"{d['params'][m.row_param]} {column_label(d['params'], m.col_params)}"
                          for d in docs)
        console.rule(f"failure {n} of {len(groups)}: {where}")
        render_trace_text(docs[0], console=console, compact=True)


@click.command()
@click.argument("scenario")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
              help="Fix a non-matrix parameter (repeatable).")
@exploration_options
@click.option("--json", "as_json", is_flag=True, help="Print the list of per-cell objects.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None,
              help="Write a self-contained HTML report of the matrix.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: one per core).")
@click.option("--fail-on-violation", is_flag=True, help="Exit 1 if any cell fails.")
def matrix(scenario: str, params: tuple[str, ...], as_json: bool, html_path: str | None,
           jobs: int | None, fail_on_violation: bool, **kw: Any) -> int:
    """Check every combination of SCENARIO's matrix parameters."""
    check_output_path(html_path, "HTML report")
    try:
        sc = load_scenario(scenario)
        m = run_matrix(sc, scenario, parse_assignments(params), check_options_from(kw),
                       jobs or os.cpu_count() or 1)
    except ValueError as e:  # unknown scenario, bad parameter or schedule, bad limits
        raise BadInput(str(e)) from None
    if as_json:
        click.echo(json.dumps(m.cells, indent=2))
    else:
        console = make_console(width=None if sys.stdout.isatty() else 160)
        print_table(m, console)
        print_failures(m, console)
    if html_path:
        write_atomic(html_path, render_matrix_html(m.scenario, m.rows, m.columns, m.cells))
        if not as_json:
            click.echo(f"HTML report written to {html_path}")
    failed = any(c["verdict"] == "violation" for c in m.cells)
    return 1 if (fail_on_violation and failed) else 0
