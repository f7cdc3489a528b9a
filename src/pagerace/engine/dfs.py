"""Naive exhaustive DFS: the reference every reduction is cross-checked against.

At every state it explores every enabled thread, and every distinct outcome of a
nondeterministic op (tree.py does the walking). With a preemption bound (preemption.py)
it becomes iterative context bounding's inner search (Musuvathi & Qadeer, PLDI 2007).

Leaves out: any reduction - that is the point of it.
"""

from __future__ import annotations

from pagerace.engine.tree import Node, TreeSearch


class NaiveDFS(TreeSearch):
    name = "dfs"

    def first_backtrack(self, node: Node, options: list[int]) -> set[int]:
        return set(options)
