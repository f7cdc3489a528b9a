"""A counterexample as text: one column per CPU, one row per step, the violation last.

Each row shows, in the column of the CPU that took the step, the kernel function (the
call chain below the CPU's own function), the op when it adds something, and the step's
effects from steps.py: the memory access (pfn, vmemmap page, frame, permission, value,
compare-and-swap outcome and write cycle), RCU read-side sections and grace-period
events, vmemmap remaps, and the returned value. The header gives the scenario, its
parameters and the verdict; the footer the violation, the schedule and the replay
command.

Colour comes from rich and only reaches a terminal: `make_console(color=False)` (the
`--no-color` option) or output to a file or pipe gives plain text with no escape codes.

Leaves out: the observation tables and the map picture (the HTML report draws them; the
text shows vmemmap remaps as lines instead).
"""

from __future__ import annotations

import io
import os
from typing import IO, Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from pagerace.engine.trace import Trace
from pagerace.report.steps import Effect, step_effects, step_function, step_op
from pagerace.report.trace_json import trace_to_dict

PLAIN_WIDTH = 120
STYLES = {
    "memory": "cyan", "fault": "bold red", "rcu": "magenta", "note": "",
    "vmemmap": "yellow", "read": "dim", "write": "cyan", "result": "green",
}
PREFIX = {"fault": "! ", "rcu": "[RCU] ", "vmemmap": "remap: "}


def make_console(color: bool | None = None, file: IO[str] | None = None,
                 width: int | None = None) -> Console:
    """A console for traces: color None = colour only on a terminal, False = plain."""
    console = Console(file=file, highlight=False, soft_wrap=False, width=width,
                      color_system="auto" if color is not False else None,
                      force_terminal=True if color else None)
    if width is None and not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PLAIN_WIDTH
    return console


def split_doc(doc: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(header document, trace dict) from a check document, a saved trace file, a bare
    trace dict or a `Trace`."""
    if isinstance(doc, Trace):
        return {}, trace_to_dict(doc)
    if not isinstance(doc, dict):
        raise TypeError(f"cannot render {type(doc).__name__} as a trace")
    if "steps" in doc:
        return {}, doc
    trace = doc.get("trace")
    return doc, trace if isinstance(trace, dict) else None


def _effect(e: Effect) -> RenderableType:
    t = Text(PREFIX.get(e.kind, "") + e.text, style=STYLES.get(e.kind, ""))
    if not e.detail:
        return Padding(t, (0, 0, 0, 2))
    return Group(Padding(t, (0, 0, 0, 2)),
                 Padding(Text(e.detail, style="dim italic"), (0, 0, 0, 4)))


COMPACT_KINDS = ("memory", "fault", "rcu", "vmemmap", "note")


def step_cell(step: dict[str, Any], prev_observation: Any,
              violation: dict[str, Any] | None = None, compact: bool = False) -> Group:
    """What one step shows in its CPU's column (and the violation it ends in, if any).

    Compact: the two innermost kernel functions and the memory / RCU / remap effects, one
    line each; the full form adds the whole call chain, the op, details and results."""
    if compact:
        # the call the CPU's program made, then the kernel statement the step performs
        stack = [str(f) for f in step.get("stack") or []][1:]
        label = str(step.get("label") or "")
        top = stack[0] if stack else ""
        head_c = f"{top}: {label}" if top and not label.startswith(top) else label
        parts_c: list[RenderableType] = [Text(head_c or step_function(step), style="bold")]
        for e in step_effects(step, prev_observation):
            if e.kind in COMPACT_KINDS:
                parts_c.append(Padding(Text(PREFIX.get(e.kind, "") + e.text,
                                            style=STYLES.get(e.kind, "")), (0, 0, 0, 1)))
        if violation:
            parts_c.append(Text(f"X {violation.get('kind')}: {violation.get('message')}",
                                style="bold red"))
        return Group(*parts_c)
    head = Text(step_function(step), style="bold")
    if step.get("outcome"):
        head.append(f"  [outcome {step['outcome']}]", style="dim")
    parts: list[RenderableType] = [head]
    op = step_op(step)
    if op:
        parts.append(Padding(Text(op, style="dim"), (0, 0, 0, 1)))
    parts += [_effect(e) for e in step_effects(step, prev_observation)]
    if violation:
        parts.append(Padding(Text(f"X {violation.get('kind')}: {violation.get('message')}",
                                  style="bold red"), (0, 0, 0, 2)))
    return Group(*parts)


def _header(head: dict[str, Any], trace: dict[str, Any] | None) -> Text:
    name = head.get("scenario") or (trace or {}).get("program") or "trace"
    t = Text(str(name), style="bold")
    params = head.get("params") or {}
    if params:
        t.append("  " + " ".join(f"{k}={v}" for k, v in params.items()))
    verdict = head.get("verdict")
    if verdict is None and trace is not None:
        verdict = "violation" if trace.get("violation") else "no violation"
    if verdict:
        style = "bold red" if verdict == "violation" else "bold green"
        t.append("\nverdict: ")
        t.append(str(verdict), style=style)
    return t


def _lanes(trace: dict[str, Any], compact: bool = False) -> Table:
    threads = [str(n) for n in trace.get("threads") or []]
    table = Table(box=box.SIMPLE_HEAD, show_lines=False, pad_edge=False, expand=False)
    table.add_column("#", justify="right", style="dim", no_wrap=True)
    for name in threads:
        table.add_column(name, overflow="fold", ratio=1)
    prev = trace.get("initial_observation")
    steps = trace.get("steps") or []
    violation = trace.get("violation")
    for i, step in enumerate(steps):
        cells: list[RenderableType] = [""] * len(threads)
        cell = step_cell(step, prev, violation if i == len(steps) - 1 else None, compact)
        thread = step.get("thread", 0)
        if 0 <= thread < len(cells):
            cells[thread] = cell
        table.add_row(str(i + 1), *cells)
        prev = step.get("observation")
    return table


def _summary(head: dict[str, Any]) -> Text:
    """For a check without a trace: how much was explored, and the sometimes-properties."""
    t = Text(style="dim")
    stats = head.get("stats") or {}
    shown = [f"{k.replace('_', ' ')} {v}" for k, v in stats.items()
             if isinstance(v, int | float) and not isinstance(v, bool)]
    if shown:
        t.append(", ".join(shown))
    if "complete" in head:
        t.append("\n" if t.plain else "")
        t.append("every interleaving explored" if head["complete"]
                 else "the search was cut short by a limit")
    for name, hit in (head.get("sometimes") or {}).items():
        t.append(f"\nsometimes {name}: " + ("reached" if hit else "NEVER reached"),
                 style="" if hit else "yellow")
    return t


def _footer(head: dict[str, Any], trace: dict[str, Any] | None) -> Text:
    t = Text()
    violation = head.get("violation") or (trace or {}).get("violation")
    if violation:
        steps = (trace or {}).get("steps") or []
        where = ""
        if steps:
            last = steps[-1]
            where = f" (step {len(steps)}, {last.get('thread_name', '')})"
        t.append(f"VIOLATION {violation.get('kind')}: ", style="bold red")
        t.append(f"{violation.get('message')}{where}\n")
    elif trace is not None and not trace.get("finished", True):
        t.append("the schedule ends before every CPU finished\n", style="yellow")
    schedule = head.get("schedule") or (trace or {}).get("schedule")
    if schedule:
        t.append("schedule: ", style="dim")
        t.append(f"{schedule}\n")
    if head.get("replay"):
        t.append("replay:   ", style="dim")
        t.append(f"{head['replay']}\n", style="bold")
    return t


def render_trace_text(doc: Any, console: Console | None = None, compact: bool = False) -> None:
    """Print a trace (check document, saved trace file, trace dict or `Trace`)."""
    console = console or make_console()
    head, trace = split_doc(doc)
    console.print(_header(head, trace))
    if trace is not None and (trace.get("steps") or trace.get("violation")):
        console.print(_lanes(trace, compact))
    else:
        summary = _summary(head)
        if summary.plain:
            console.print(summary)
    footer = _footer(head, trace)
    if footer.plain:
        footer.rstrip()
        console.print(footer, soft_wrap=True)  # never break the replay command


render_check_text = render_trace_text


def trace_text(doc: Any, color: bool = False, width: int = PLAIN_WIDTH) -> str:
    """The text rendering as a string (plain unless `color`)."""
    buf = io.StringIO()
    render_trace_text(doc, make_console(color=color, file=buf, width=width))
    return buf.getvalue()
