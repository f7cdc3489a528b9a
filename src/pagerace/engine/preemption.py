"""Preemption bounding: a wrapper that limits a tree search to schedules with at most
`bound` preemptions (iterative context bounding's inner search, M. Musuvathi and
S. Qadeer, "Iterative Context Bounding for Systematic Testing of Multithreaded
Programs", PLDI 2007).

A preemption is a switch away from a thread that could still run: choosing thread t at
a node costs one when the previous event's thread is another, still enabled thread. The
wrapper installs that filter on the inner search's choices; everything else is the inner
strategy's. Only naive DFS is bounded (a bound breaks DPOR's source-set argument).

Leaves out: the outer loop that raises the bound 0, 1, 2, ... (run again with a larger
bound).
"""

from __future__ import annotations

from pagerace.engine.execution import Execution
from pagerace.engine.schedule import Choice, Schedule
from pagerace.engine.tree import Node, TreeSearch


class PreemptionBound:
    def __init__(self, inner: TreeSearch, bound: int) -> None:
        self.inner = inner
        self.bound = bound
        self.name = inner.name
        self.exhaustive = inner.exhaustive
        inner.allowed = self.allowed

    def allowed(self, node: Node, t: int) -> bool:
        cost = 1 if (node.prev >= 0 and node.prev != t and node.prev in node.enabled) else 0
        return node.preemptions + cost <= self.bound

    def new_execution(self) -> bool:
        return self.inner.new_execution()

    def next_choice(self, ex: Execution) -> Choice | None:
        return self.inner.next_choice(ex)

    def finish(self, ex: Execution) -> Schedule | None:
        return self.inner.finish(ex)

    def estimate(self) -> float | None:
        return self.inner.estimate()
