"""`pagerace check SCENARIO`: explore one configuration; exit 0 pass, 1 violation, 2 bad input.

`--jobs N` (default: one per core) splits a long exploration over N processes and
`--cluster ADDRESS` over a Dask cluster, with the same verdict, counts and first
violation as one process (check/split.py). On a terminal a progress line on stderr shows
executions, rate, states, depth and the estimated share explored (silent with `--json`).
"""

from __future__ import annotations

import json
from typing import Any

import click

from pagerace.check.run import run_check
from pagerace.cli.errors import BadInput
from pagerace.cli.options import (
    check_options_from,
    check_output_path,
    exploration_options,
    merge_params,
    parallel_options,
    param_options,
)
from pagerace.cli.progress import progress_line
from pagerace.report.atomic import write_atomic
from pagerace.report.html import render_check_html
from pagerace.report.text import make_console, render_trace_text
from pagerace.report.trace_json import save_trace_file
from pagerace.scenarios.base import parse_assignments
from pagerace.scenarios.catalog import load_scenario


@click.command()
@click.argument("scenario")
@param_options
@exploration_options
@parallel_options("the exploration (split into subtrees)")
@click.option("--replay", "replay_schedule", default=None, metavar="SCHEDULE",
              help="Re-run this schedule instead of exploring.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None,
              help="Write a self-contained HTML report.")
@click.option("--no-color", is_flag=True, help="Plain text even on a terminal.")
@click.option("--verbose", "-v", is_flag=True,
              help="Show every step in full: call chain, op, details, results.")
@click.option("--save-trace", type=click.Path(dir_okay=False), default=None,
              help="Save the counterexample as a JSON trace for `pagerace replay`.")
def check(scenario: str, params: tuple[str, ...], as_json: bool, html_path: str | None,
          replay_schedule: str | None, save_trace: str | None, verbose: bool,
          no_color: bool, **kw: Any) -> int:
    """Check SCENARIO (a catalog name or a path to a scenario .py file)."""
    check_output_path(html_path, "HTML report")
    check_output_path(save_trace, "trace file")
    try:
        sc = load_scenario(scenario)
        given = merge_params(parse_assignments(params), kw)
        with progress_line(enabled=not as_json) as progress:
            result = run_check(sc, given, check_options_from(kw, replay_schedule),
                               ref=scenario, progress=progress)
    except ValueError as e:  # unknown scenario, bad parameter or schedule, bad limits
        raise BadInput(str(e)) from None
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        render_trace_text(result, make_console(color=False if no_color else None),
                          compact=not verbose)
    if html_path:
        write_atomic(html_path, render_check_html(result))
    if save_trace and result.trace is not None:
        save_trace_file(save_trace, result)
    return 1 if result.failed else 0
