"""A trace prepared for the HTML viewer: swim-lane rows and the state at every step.

`trace_view` turns a trace dict into what the templates draw: one row per step (row 0
is the initial state), each with its CPU, kernel function, effects and a caption, and
for each row the index of the vmemmap map picture and of the state tables to show.
Pictures and tables are rendered once per distinct content (most steps do not change the
map), so a long trace stays small; the viewer's script swaps them in as the reader steps.
The row of the last step carries the violation; a row whose step flushes a TLB, sends or
handles a flush IPI, waits for one or evicts a TLB carries those kinds (steps.step_kinds),
and with per-CPU TLBs the map comes with each CPU's cached entries (tlb_view.py).

Leaves out: the page around it (html.py) and any behaviour (report.js).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from pagerace.report.state_tables import state_tables
from pagerace.report.steps import (
    STEP_KINDS,
    Effect,
    accessed,
    step_effects,
    step_function,
    step_kinds,
    step_op,
)
from pagerace.report.tlb_view import stale_vpages, tlb_table
from pagerace.report.vmemmap_map import map_layout, parse_entries

ARROW = "\u2192"
Render = Callable[..., str]


@dataclass
class RowView:
    number: int
    thread: int | None
    thread_name: str
    function: str
    op: str
    effects: list[Effect]
    map_index: int
    tables_index: int
    caption: str
    outcome: int = 0
    violation: dict[str, Any] | None = None
    kinds: list[str] = field(default_factory=list)  # steps.STEP_KINDS keys

    @property
    def kind_labels(self) -> list[tuple[str, str]]:
        return [(k, STEP_KINDS[k]) for k in self.kinds]


@dataclass
class TraceView:
    prefix: str  # prepended to element ids: "" for a single check, "cell-...-" in a matrix
    threads: list[str]
    rows: list[RowView] = field(default_factory=list)
    maps: list[Markup] = field(default_factory=list)
    tables: list[Markup] = field(default_factory=list)
    violation: dict[str, Any] | None = None
    schedule: str = ""
    has_tlb: bool = False  # some observation has per-CPU TLBs

    @property
    def steps(self) -> int:
        return len(self.rows) - 1

    def id(self, name: str) -> str:
        return f"{self.prefix}{name}"

    @property
    def kinds(self) -> list[tuple[str, str]]:
        """The step kinds some row has, with their legend text."""
        used = {k for r in self.rows for k in r.kinds}
        return [(k, text) for k, text in STEP_KINDS.items() if k in used]


def slug(text: str) -> str:
    """An id-safe form of a label: "G1", "x86/tail" -> "G1", "x86-tail"."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


class _Interner:
    """Index of each distinct rendered string."""

    def __init__(self) -> None:
        self.items: list[Markup] = []
        self._index: dict[str, int] = {}

    def add(self, html: str) -> int:
        if html not in self._index:
            self._index[html] = len(self.items)
            self.items.append(Markup(html))
        return self._index[html]


def _changed_vpages(prev: Any, cur: Any) -> set[int]:
    if not isinstance(prev, dict) or not isinstance(cur, dict):
        return set()
    old = {v: (f, p) for v, f, p in parse_entries(prev.get("vmemmap"))}
    new = {v: (f, p) for v, f, p in parse_entries(cur.get("vmemmap"))}
    return {v for v in set(old) | set(new) if old.get(v) != new.get(v)}


def trace_view(trace: dict[str, Any], render_map: Render, render_tables: Render,
               prefix: str = "") -> TraceView:
    """The viewer model of `trace`; `render_map(layout=..., observation=..., tlb=...)` and
    `render_tables(tables=..., observation=...)` render one picture / table set."""
    threads = [str(t) for t in trace.get("threads") or []]
    violation = trace.get("violation")
    view = TraceView(prefix, threads, violation=violation,
                     schedule=str(trace.get("schedule") or ""))
    maps, tables = _Interner(), _Interner()

    def state(obs: Any, prev: Any, step: dict[str, Any] | None) -> tuple[int, int]:
        vpages, frames = accessed(step) if step is not None else (set(), set())
        tlb = tlb_table(obs)
        view.has_tlb = view.has_tlb or tlb is not None
        layout = (map_layout(obs, vpages, _changed_vpages(prev, obs), frames,
                             stale_vpages(tlb))
                  if isinstance(obs, dict) else None)
        return (maps.add(render_map(layout=layout, observation=obs, tlb=tlb)),
                tables.add(render_tables(tables=state_tables(obs, prev), observation=obs)))

    first = trace.get("initial_observation")
    steps = [s for s in trace.get("steps") or [] if isinstance(s, dict)]
    m, t = state(first, None, None)
    view.rows.append(RowView(0, None, "", "initial state", "", [], m, t,
                             f"initial state (before step 1 of {len(steps)})"))
    prev = first
    for i, step in enumerate(steps):
        obs = step.get("observation")
        m, t = state(obs, prev, step)
        thread = step.get("thread")
        name = str(step.get("thread_name", ""))
        function = step_function(step)
        last = i == len(steps) - 1
        view.rows.append(RowView(
            i + 1, thread if isinstance(thread, int) else None, name, function,
            step_op(step), step_effects(step, prev, ARROW), m, t,
            f"after step {i + 1} of {len(steps)}: {name}: {function}",
            outcome=int(step.get("outcome") or 0),
            violation=violation if last else None, kinds=step_kinds(step)))
        prev = obs if obs is not None else prev
    view.maps, view.tables = maps.items, tables.items
    return view
