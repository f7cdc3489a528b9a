"""`pagerace replay FILE.json`: re-run a saved trace and print it.

The file (written by `pagerace check --save-trace`, format in report/trace_json.py) names
a scenario, its parameters, a schedule and the violation it ended in. Replay re-runs it
(check/replay.py: the same violation, kind and message, as recorded) and prints the
trace (or one JSON object with --json; --html FILE also writes the HTML report).

Exit status: 0 the trace ends without a violation, 1 it ends in one (as `check`), 2 the
file is unreadable, corrupt, truncated, of another format or version, names an unknown
scenario or bad parameters, has a schedule that does not fit the program, or re-runs to a
different violation than it records - always one error line.
"""

from __future__ import annotations

import json

import click

from pagerace.check.replay import ReplayError, rerun
from pagerace.cli.errors import BadInput
from pagerace.report.atomic import write_atomic
from pagerace.report.html import render_check_html
from pagerace.report.text import make_console, render_trace_text
from pagerace.report.trace_json import TraceFileError, load_trace_file


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None,
              metavar="FILE", help="Also write a self-contained HTML report.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead.")
@click.option("--no-color", is_flag=True, help="Plain text even on a terminal.")
@click.option("--verbose", "-v", is_flag=True,
              help="Show every step in full: call chain, op, details, results.")
def replay(file: str, html_path: str | None, as_json: bool, no_color: bool,
           verbose: bool) -> int:
    """Re-run the trace saved in FILE (from `pagerace check --save-trace`) and print it.

    Exit status 1 if the trace ends in a violation, 0 if not, 2 if FILE is corrupt or
    does not fit its scenario (including a re-run that reaches a different violation).
    """
    try:
        saved = load_trace_file(file)
    except TraceFileError as e:
        raise BadInput(str(e)) from None
    try:
        result = rerun(saved, file)
    except ReplayError as e:
        raise BadInput(str(e)) from None
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        render_trace_text(result, make_console(color=False if no_color else None),
                          compact=not verbose)
    if html_path:
        try:
            write_atomic(html_path, render_check_html(result))
        except OSError as e:
            raise BadInput(f"--html {html_path}: cannot write: {e.strerror or e}") from None
    return 1 if result.violation is not None else 0
