"""`pagerace matrix SCENARIO`: check every combination of the scenario's matrix parameters.

Prints a table (rows: the row parameter, e.g. the generation; columns: the other matrix
parameters, e.g. arch/target; cells: pass or the violation kind, marked when that
configuration never ran in a mainline release), then the minimized trace of each
distinct failure. `--json` prints the list of per-cell result objects; `--markdown` the
table as the README shows it. Exit status 0 when the matrix ran (the table is the
answer); with `--fail-on-violation`, 1 if any cell found a violation; 2 on bad input.
Cells run in `--jobs` local processes or on the Dask cluster of `--cluster`; on a
terminal a progress line on stderr counts cells and executions (silent with `--json`).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from pagerace.check.matrix import run_matrix
from pagerace.cli.errors import BadInput
from pagerace.cli.options import (
    check_options_from,
    check_output_path,
    exploration_options,
    jobs_of,
    parallel_options,
)
from pagerace.cli.progress import matrix_progress_text, progress_line
from pagerace.report.atomic import write_atomic
from pagerace.report.html import render_matrix_html
from pagerace.report.markdown import matrix_markdown
from pagerace.report.matrix_text import print_failures, print_table
from pagerace.report.text import make_console
from pagerace.scenarios.base import parse_assignments
from pagerace.scenarios.catalog import load_scenario


@click.command()
@click.argument("scenario")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
              help="Fix a parameter (repeatable); a fixed matrix axis keeps one value.")
@exploration_options
@click.option("--json", "as_json", is_flag=True, help="Print the list of per-cell objects.")
@click.option("--markdown", "as_markdown", is_flag=True,
              help="Print the table as markdown (as README.md and docs/ show it).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None,
              help="Write a self-contained HTML report of the matrix.")
@parallel_options("the cells")
@click.option("--fail-on-violation", is_flag=True, help="Exit 1 if any cell fails.")
def matrix(scenario: str, params: tuple[str, ...], as_json: bool, as_markdown: bool,
           html_path: str | None, fail_on_violation: bool, **kw: Any) -> int:
    """Check every combination of SCENARIO's matrix parameters."""
    if as_json and as_markdown:
        raise BadInput("--json and --markdown exclude each other")
    check_output_path(html_path, "HTML report")
    try:
        sc = load_scenario(scenario)
        with progress_line(enabled=not as_json, render=matrix_progress_text) as progress:
            m = run_matrix(sc, scenario, parse_assignments(params), check_options_from(kw),
                           jobs_of(kw), progress=progress)
    except ValueError as e:  # unknown scenario, bad parameter or schedule, bad limits
        raise BadInput(str(e)) from None
    if as_json:
        click.echo(json.dumps(m.to_json(), indent=2))
    elif as_markdown:
        click.echo(matrix_markdown(m), nl=False)
    else:
        console = make_console(width=None if sys.stdout.isatty() else 160)
        print_table(m, console)
        print_failures(m, console)
    if html_path:
        write_atomic(html_path, render_matrix_html(m))
        if not (as_json or as_markdown):
            click.echo(f"HTML report written to {html_path}")
    return 1 if (fail_on_violation and m.failed) else 0
