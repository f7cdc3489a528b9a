"""Splitting a tree search: the top part and the subtrees below its cuts.

The parallel explorer (parallel.py) runs the top part of naive DFS or Source-DPOR
itself and hands each subtree below a cut to a worker. Two searches, both the ordinary ones
(dfs.py, dpor.py) with a few hooks changed:

- `TopSearch`: the sequential search, but a run that reaches a cut (splitplan.py: a set
  of prefixes, one on every path that goes deep enough) stops there and
  names the subtree it would have entered (`frontier`): the choices to it and the sleep
  set its root would inherit. The caller gets that subtree's result, feeds the backtrack
  additions it returns for the top nodes (`apply`) and lets the search move on, exactly
  as if it had explored the subtree itself.
- `SubtreeSearch`: explores one subtree. Nodes above the cut follow the prefix and are never
  backtracked (`TreeSearch.floor`); the root of the subtree starts with the given sleep
  set. DPOR races whose earlier event lies above the cut are not applied: they are returned in
  the order found (`requests`) for the caller to apply to its own top nodes.

Why that is exact: what a subtree explores depends only on its path (events, enabled
sets, vector clocks) and the sleep set of its root; a backtrack addition at a top node
only decides what the top part explores after the subtree. An addition's effect depends
on the node's backtrack set at the time, so the requests are replayed in the order the
sequential search would have made them. Races between two top events are the caller's
own (the worker skips them).

Leaves out: the scheduling of subtrees (parallel.py) and wakeup trees (dpor.py has none).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pagerace.engine.dfs import NaiveDFS
from pagerace.engine.dpor import SourceDPOR
from pagerace.engine.execution import Execution, Footprint
from pagerace.engine.schedule import Choice
from pagerace.engine.splitplan import Prefix
from pagerace.engine.tree import Node, SleepEntry, TreeSearch

if TYPE_CHECKING:
    from pagerace.engine.program import Program

# per sleeping thread: (thread, its op's outcomes, the sleeping outcomes with footprints)
SleepKey = tuple[tuple[int, tuple[int, ...], tuple[tuple[int, Footprint], ...]], ...]
Request = tuple[int, tuple[int, ...], int]  # (top node, initials of v, racing thread)


@dataclass(frozen=True)
class Subtree:
    """A subtree of the search: the (thread, outcome) choices to its root and the sleep
    set the root inherits. Hashable: the key of a subtree's result."""

    prefix: tuple[tuple[int, int], ...]
    sleep: SleepKey = ()

    @property
    def depth(self) -> int:
        return len(self.prefix)


def sleep_key(sleep: dict[int, SleepEntry]) -> SleepKey:
    return tuple(sorted(
        ((q, e.outs, tuple(sorted(e.asleep.items(), key=lambda item: item[0])))
         for q, e in sleep.items()), key=lambda entry: entry[0]))


def sleep_of(key: SleepKey) -> dict[int, SleepEntry]:
    return {q: SleepEntry(outs, dict(asleep)) for q, outs, asleep in key}


def _base(strategy: str) -> type[TreeSearch]:
    if strategy == "dfs":
        return NaiveDFS
    if strategy == "dpor":
        return SourceDPOR
    raise ValueError(f"strategy {strategy!r} cannot be split (only dfs and dpor)")


class _Top(TreeSearch):
    """Stops a run whose path reaches one of `cuts` and names the subtree found there."""

    cuts: frozenset[Prefix] = frozenset()
    shallow = 0  # the shortest and longest cut
    deep = -1
    speculate = False
    frontier: Subtree | None = None

    def new_execution(self) -> bool:
        self.frontier = None
        return super().new_execution()

    def next_choice(self, ex: Execution) -> Choice | None:
        if not self.shallow <= self.pos <= self.deep or \
                tuple((c.thread, c.outcome) for c in self.path) not in self.cuts:
            return super().next_choice(ex)
        if len(ex.events) > self.taken:
            self._took(ex)
        enabled = ex.enabled()
        if not enabled:
            return None  # the run ends at the cut by itself: a leaf of the top part
        node = self._blank_node(enabled)
        if self.stack:
            self.inherit_sleep(self.stack[-1], node, ex)
        self.frontier = Subtree(tuple((c.thread, c.outcome) for c in self.path),
                                sleep_key(node.sleep))
        self.blocked = True  # not an execution of the top part (finish returns None)
        return None

    def first_backtrack(self, node: Node, options: list[int]) -> set[int]:
        if self.speculate:  # guess that every option will be explored
            return set(options)
        return super().first_backtrack(node, options)

    def end_run(self, ex: Execution) -> None:
        if self.frontier is None:
            super().end_run(ex)

    def apply(self, requests: list[Request]) -> None:
        """Apply a subtree's backtrack additions for the top nodes, in its order."""
        assert not requests


class _Sub(TreeSearch):
    """Follows `sub.prefix` above the floor and starts the root with `sub.sleep`."""

    sub = Subtree(())

    def _new_node(self, enabled: list[int], ex: Execution) -> Node | None:
        i = len(self.stack)
        if i >= self.floor:
            return super()._new_node(enabled, ex)
        t, o = self.sub.prefix[i]
        if t not in enabled:
            raise ValueError(f"subtree prefix step {i}: thread {t} is not enabled")
        node = self._blank_node(enabled)
        node.thread = t
        node.backtrack = {t}
        node.outcomes = [o]
        node.all_outcomes = (o,)
        return node

    def inherit_sleep(self, parent: Node, node: Node, ex: Execution) -> None:
        i = len(self.stack)
        if i == self.floor:
            node.sleep = sleep_of(self.sub.sleep)
        elif i > self.floor:
            super().inherit_sleep(parent, node, ex)

    def requests(self) -> list[Request]:
        return []


class TopDFS(_Top, NaiveDFS):
    pass


class TopDPOR(_Top, SourceDPOR):
    def apply(self, requests: list[Request]) -> None:
        for j, initials, thread in requests:
            self._add_backtrack(j, len(self.stack), list(initials), thread)


class SubDFS(_Sub, NaiveDFS):
    pass


class SubDPOR(_Sub, SourceDPOR):
    def __init__(self, program: Program) -> None:
        super().__init__(program)
        self._requests: list[Request] = []
        self._seen: set[Request] = set()

    def requests(self) -> list[Request]:
        return self._requests

    def _add_backtrack(self, j: int, i: int, initials: list[int], thread: int) -> None:
        if j >= self.floor:
            super()._add_backtrack(j, i, initials, thread)
        elif i >= self.floor:  # a race of a subtree event with a top one: the caller's
            req = (j, tuple(initials), thread)
            if req not in self._seen:  # a repeat has no effect once the first is applied
                self._seen.add(req)
                self._requests.append(req)


def top_search(program: Program, strategy: str, cuts: frozenset[Prefix],
               speculate: bool = False, symmetry: bool = False) -> TopDFS | TopDPOR:
    _base(strategy)
    top: TopDFS | TopDPOR = TopDFS(program) if strategy == "dfs" else TopDPOR(program)
    if symmetry and strategy == "dpor":
        top.use_symmetry(program)
    top.cuts = cuts
    if cuts:
        top.shallow = min(len(c) for c in cuts)
        top.deep = max(len(c) for c in cuts)
    top.speculate = speculate
    top.frontier = None
    return top


def subtree_search(program: Program, strategy: str, sub: Subtree,
                   symmetry: bool = False) -> SubDFS | SubDPOR:
    _base(strategy)
    search: SubDFS | SubDPOR = SubDFS(program) if strategy == "dfs" else SubDPOR(program)
    if symmetry and strategy == "dpor":
        search.use_symmetry(program)
    search.sub = sub
    search.floor = sub.depth
    return search


__all__ = ["Request", "SleepKey", "Subtree", "subtree_search", "top_search"]
