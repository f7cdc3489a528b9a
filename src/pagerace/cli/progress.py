"""A live progress line on stderr while `pagerace check` explores.

`progress_line(enabled)` is a context manager yielding a callback for the engine's
`explore(..., progress=callback)`, or None when there is nothing to show: with `--json`
(`enabled=False`), or when stderr is not a terminal (a pipe, a file, a test). The
callback takes the engine's progress object - anything with the attributes
`executions`, `rate` (executions/s), `states`, `depth`, `max_depth`, `elapsed` (s) and
`estimate` (the explored fraction, 0..1, or None when unknown) - and redraws one rich
line; the line disappears when the exploration ends. `progress_text` is the line itself.

The check layer hands the callback to the engine only if its `explore` takes a
`progress` parameter (check/run.py `explore_supports_progress`), so this is inert until
the engine reports progress. Leaves out: `matrix` (its cells run in worker processes).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, Protocol

from rich.console import Console
from rich.live import Live
from rich.text import Text


class ProgressInfo(Protocol):
    executions: int
    rate: float
    states: int
    depth: int
    max_depth: int
    elapsed: float
    estimate: float | None


def progress_text(p: ProgressInfo) -> Text:
    """`exploring: 1,234 executions (567/s), 89 states, depth 12/40, 2.2 s, ~35%`."""
    t = Text("exploring: ", style="bold")
    t.append(f"{p.executions:,} executions ({p.rate:,.0f}/s), {p.states:,} states, "
             f"depth {p.depth}/{p.max_depth}, {p.elapsed:.1f} s")
    if p.estimate is not None:
        t.append(f", ~{max(0.0, min(1.0, p.estimate)):.0%}", style="cyan")
    return t


@contextmanager
def progress_line(enabled: bool = True, file: IO[str] | None = None
                  ) -> Iterator[Callable[[Any], None] | None]:
    """Yield a progress callback drawing on `file` (stderr), or None if silent."""
    stream = file if file is not None else sys.stderr
    if not enabled or not stream.isatty():
        yield None
        return
    console = Console(file=stream, highlight=False)
    with Live(Text(""), console=console, transient=True, auto_refresh=False) as live:
        def update(p: Any) -> None:
            live.update(progress_text(p), refresh=True)

        yield update


__all__ = ["ProgressInfo", "progress_line", "progress_text"]
