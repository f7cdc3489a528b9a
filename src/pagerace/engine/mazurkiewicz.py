"""Counting Mazurkiewicz traces, to measure how close DPOR comes to one execution each.

Two executions are equivalent (the same Mazurkiewicz trace) when they consist of the same
events - a thread's k-th step with the same outcome - and order every pair of dependent
events of different threads the same way. Running naive DFS and collecting these
signatures gives the number of traces a perfect reduction would explore.
"""

from __future__ import annotations

from collections.abc import Hashable

from pagerace.engine.execution import Execution, dependent
from pagerace.engine.explorer import explore
from pagerace.engine.limits import Limits
from pagerace.engine.program import Program


def trace_signature(ex: Execution) -> Hashable:
    evs = ex.events
    ids = [(e.thread, e.pos, e.outcome) for e in evs]
    order = []
    for i, a in enumerate(evs):
        for j in range(i + 1, len(evs)):
            b = evs[j]
            if a.thread != b.thread and dependent(a.fp, b.fp):
                order.append((ids[i], ids[j]))
    return frozenset(ids), frozenset(order)


def count_traces(program: Program, limits: Limits | None = None) -> int:
    """The number of Mazurkiewicz traces of `program`'s maximal executions (naive DFS)."""
    sigs: set[Hashable] = set()
    explore(program, "dfs", limits, stop_on_violation=False,
            on_execution=lambda ex: sigs.add(trace_signature(ex)))
    return len(sigs)
