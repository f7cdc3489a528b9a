"""Live progress lines on stderr while `pagerace check` explores or `pagerace matrix` runs.

`progress_line(enabled)` is a context manager yielding a callback, or None when there is
nothing to show: with `--json` (`enabled=False`), or when stderr is not a terminal (a
pipe, a file, a test). The callback redraws one rich line; the line disappears when the
work ends. What the line says depends on what it is given:

- the engine's `Progress` (engine/progress.py: `executions`, `rate` (executions/s),
  `distinct_states`, `depth`, `max_depth`, `elapsed` (s) and `fraction`, the estimated
  share of the tree explored, 0..1, or None) - `progress_text`;
- the matrix's `MatrixProgress` (check/matrix.py: `cells_done`, `cells`, `executions`,
  `rate`, `elapsed`, `running`) - `matrix_progress_text`.

Leaves out: computing the figures (the engine and check/matrix.py do).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, Protocol

from rich.console import Console
from rich.live import Live
from rich.text import Text

MAX_RUNNING = 3  # running cells named on the matrix line


class ProgressInfo(Protocol):
    executions: int
    rate: float
    distinct_states: int
    depth: int
    max_depth: int
    elapsed: float
    fraction: float | None


class MatrixInfo(Protocol):
    cells_done: int
    cells: int
    executions: int
    elapsed: float
    running: tuple[str, ...]

    @property
    def rate(self) -> float: ...


def progress_text(p: ProgressInfo) -> Text:
    """`exploring: 1,234 executions (567/s), 89 states, depth 12/40, 2.2 s, ~35%`."""
    t = Text("exploring: ", style="bold")
    t.append(f"{p.executions:,} executions ({p.rate:,.0f}/s), {p.distinct_states:,} "
             f"states, depth {p.depth}/{p.max_depth}, {p.elapsed:.1f} s")
    if p.fraction is not None:
        t.append(f", ~{max(0.0, min(1.0, p.fraction)):.0%}", style="cyan")
    return t


def matrix_progress_text(p: MatrixInfo) -> Text:
    """`matrix: 12/48 cells, 3,456 executions (1,200/s), 2.9 s; running: G1 x86 aligned`."""
    t = Text("matrix: ", style="bold")
    t.append(f"{p.cells_done}/{p.cells} cells, {p.executions:,} executions "
             f"({p.rate:,.0f}/s), {p.elapsed:.1f} s")
    if p.running:
        names = ", ".join(p.running[:MAX_RUNNING])
        more = len(p.running) - MAX_RUNNING
        t.append(f"; running: {names}" + (f" (+{more})" if more > 0 else ""), style="cyan")
    return t


@contextmanager
def progress_line(enabled: bool = True, file: IO[str] | None = None,
                  render: Callable[[Any], Text] = progress_text
                  ) -> Iterator[Callable[[Any], None] | None]:
    """Yield a callback drawing `render(p)` on `file` (stderr), or None if silent."""
    stream = file if file is not None else sys.stderr
    if not enabled or not stream.isatty():
        yield None
        return
    console = Console(file=stream, highlight=False)
    with Live(Text(""), console=console, transient=True, auto_refresh=False) as live:
        def update(p: Any) -> None:
            live.update(render(p), refresh=True)

        yield update


__all__ = ["MatrixInfo", "ProgressInfo", "matrix_progress_text", "progress_line",
           "progress_text"]
