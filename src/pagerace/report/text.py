"""A counterexample as text: one column per CPU, one row per step, the violation last.

Each row shows, in the column of the CPU that took the step, the kernel function (the
call chain below the CPU's own function), the op when it adds something, and the step's
effects from steps.py: the memory access (pfn, vmemmap page, frame, permission, value,
compare-and-swap outcome and write cycle), RCU read-side sections and grace-period
events, vmemmap remaps, TLB flushes / IPIs / evictions and the TLB entries a step left
stale, and the returned value. Under the lanes, when the last observation has TLB
entries, a short table: each vmemmap page's PTE beside each CPU's cached entry, the
stale ones marked and explained (tlb_view.py). The header gives the scenario, its
parameters, the verdict and, for a configuration no mainline release contains, why;
the footer the violation, the schedule and the replay command. Input is a
`CheckResult` (check/result.py); a bare engine trace goes through
`trace_json.result_of_trace` first.

Colour comes from rich and only reaches a terminal: `make_console(color=False)` (the
`--no-color` option) or output to a file or pipe gives plain text with no escape codes.

Leaves out: the observation tables and the map picture (the HTML report draws them; the
text shows vmemmap remaps as lines instead, and the TLB table only for the last step).
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

from pagerace.check.result import CheckResult
from pagerace.report.steps import Effect, step_effects, step_function, step_op
from pagerace.report.tlb_view import TlbTable, tlb_table

PLAIN_WIDTH = 120
STYLES = {
    "memory": "cyan", "fault": "bold red", "rcu": "magenta", "note": "",
    "vmemmap": "yellow", "read": "dim", "write": "cyan", "result": "green",
    "flush": "blue", "ipi": "blue", "evict": "blue", "tlb": "red",
}
PREFIX = {"fault": "! ", "rcu": "[RCU] ", "vmemmap": "remap: ", "flush": "[flush] ",
          "ipi": "[IPI] ", "evict": "[evict] ", "tlb": "[TLB] "}


def make_console(color: bool | None = None, file: IO[str] | None = None,
                 width: int | None = None) -> Console:
    """A console for traces: color None = colour only on a terminal, False = plain."""
    console = Console(file=file, highlight=False, soft_wrap=False, width=width,
                      color_system="auto" if color is not False else None,
                      force_terminal=True if color else None)
    if width is None and not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PLAIN_WIDTH
    return console


def _effect(e: Effect) -> RenderableType:
    t = Text(PREFIX.get(e.kind, "") + e.text, style=STYLES.get(e.kind, ""))
    if not e.detail:
        return Padding(t, (0, 0, 0, 2))
    return Group(Padding(t, (0, 0, 0, 2)),
                 Padding(Text(e.detail, style="dim italic"), (0, 0, 0, 4)))


COMPACT_KINDS = ("memory", "fault", "rcu", "vmemmap", "note", "flush", "ipi", "evict", "tlb")


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


def _header(result: CheckResult) -> Text:
    t = Text(result.scenario or "trace", style="bold")
    if result.params:
        t.append("  " + " ".join(f"{k}={v}" for k, v in result.params.items()))
    style = "bold red" if result.failed else "bold green"
    t.append("\nverdict: ")
    t.append(result.verdict, style=style)
    if result.memory != "sc":
        t.append(f"\nmemory model: {result.memory}", style="cyan")
    lifted = result.stats.get("lifted_from")
    if lifted:
        t.append(f"\nnot reached under {result.memory} within the limits; found under "
                 f"{lifted['memory']} in {lifted['executions']} executions and lifted "
                 f"(every store drains at once), the trace replayed under {result.memory}",
                 style="cyan")
    if not result.shipped:
        t.append(f"\nnever in a mainline release: {result.shipped_note}", style="yellow")
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


def _last_observation(trace: dict[str, Any]) -> Any:
    for step in reversed(trace.get("steps") or []):
        if isinstance(step, dict) and isinstance(step.get("observation"), dict):
            return step["observation"]
    return trace.get("initial_observation")


def tlb_text(table: TlbTable, after: int) -> RenderableType:
    """The page table beside each CPU's TLB after step `after`, the stale entries
    marked "!" and explained under the table."""
    out = Table(title=f"page table and TLBs after step {after}", title_justify="left",
                box=box.SIMPLE_HEAD, pad_edge=False, expand=False)
    out.add_column("vmemmap", no_wrap=True)
    out.add_column("PTE", no_wrap=True)
    for c in table.cpus:
        out.add_column(c.label + (f" ({c.state})" if c.state else ""), overflow="fold")
    for r in table.rows:
        cells: list[RenderableType] = [f"v{r.vpage}", r.pte]
        for e in r.cells:
            if e is None:
                cells.append(Text("-", style="dim"))
            else:
                cells.append(Text(("! " if e.stale else "") + e.text,
                                  style="bold red" if e.stale or e.freed else ""))
        out.add_row(*cells)
    notes = [Text(f"! {e.title}", style="red") for e in table.stale()]
    return Group(out, *notes) if notes else out


def _summary(result: CheckResult) -> Text:
    """For a check without a trace: how much was explored, and the sometimes-properties."""
    t = Text(style="dim")
    shown = [f"{k.replace('_', ' ')} {v}" for k, v in result.stats.items()
             if isinstance(v, int | float) and not isinstance(v, bool)]
    if shown:
        t.append(", ".join(shown))
    if result.complete is not None:
        t.append("\n" if t.plain else "")
        t.append("every interleaving explored" if result.complete
                 else "the search was cut short by a limit")
    for name, hit in result.sometimes.items():
        t.append(f"\nsometimes {name}: " + ("reached" if hit else "NEVER reached"),
                 style="" if hit else "yellow")
    return t


def _footer(result: CheckResult) -> Text:
    t = Text()
    trace = result.trace
    violation = result.violation or (trace or {}).get("violation")
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
    schedule = result.schedule or (trace or {}).get("schedule")
    if schedule:
        t.append("schedule: ", style="dim")
        t.append(f"{schedule}\n")
    if result.replay:
        t.append("replay:   ", style="dim")
        t.append(f"{result.replay}\n", style="bold")
    return t


def render_trace_text(result: CheckResult, console: Console | None = None,
                      compact: bool = False) -> None:
    """Print a check result: header, the trace's lanes (or what was explored), footer.

    A bare engine trace renders through `trace_json.result_of_trace(trace)`."""
    console = console or make_console()
    console.print(_header(result))
    trace = result.trace
    if trace is not None and (trace.get("steps") or trace.get("violation")):
        console.print(_lanes(trace, compact))
        table = tlb_table(_last_observation(trace))
        if table is not None and table.entries():
            console.print(tlb_text(table, len(trace.get("steps") or [])))
    else:
        summary = _summary(result)
        if summary.plain:
            console.print(summary)
    footer = _footer(result)
    if footer.plain:
        footer.rstrip()
        console.print(footer, soft_wrap=True)  # never break the replay command


render_check_text = render_trace_text


def trace_text(result: CheckResult, color: bool = False, width: int = PLAIN_WIDTH) -> str:
    """The text rendering as a string (plain unless `color`)."""
    buf = io.StringIO()
    render_trace_text(result, make_console(color=color, file=buf, width=width))
    return buf.getvalue()
