"""Stateless tree search: the plumbing naive DFS (dfs.py) and Source-DPOR (dpor.py) share.

The search keeps the current path of the execution tree as a stack of `Node`s, one per
state, each with the choice taken there and the choices still to take (its backtrack
set, and the outcomes of a nondeterministic op). Every execution re-runs the program
from the start along the stack (generators cannot be copied), then extends it with new
nodes until the execution ends; `new_execution` backtracks to the deepest node with a
choice left. No state caching is done: thread-local state lives in the generators and
has no canonical form.

A replayed prefix is deterministic, so a node keeps what was computed at its state -
the enabled set, the distinct outcomes of its op, its event (footprint, vector clock) -
and a replay computes none of them again. A node's step itself is re-run on its first
replay (the nondeterminism check compares it with the recorded one, determinism.py);
from its second replay on, the execution re-applies the recorded event's effects instead
of running the op (`Execution.redo`: exact under sc, where a step's effect is its writes).

With a program symmetry (`use_symmetry`, DPOR only), a node also keeps the block swaps
under which its path is invariant, and a thread whose twin is done there is skipped
(symmetric.py).

Subclasses fill five hooks: the first backtrack set of a new node, the sleep set it
inherits, what to do with each executed event (DPOR's race analysis), what to do when a
run ends, and when a node's choice is done (DPOR puts it to sleep). `allowed` is a
filter a wrapper may install (preemption.py).

Progress estimate (`estimate`): the fraction of the tree explored, computed bottom-up
along the stack as f = (completed + (oi + f_child) / outcomes) / total at each node,
with f = 1 at the leaf just finished, where total is the node's backtrack set and
completed the choices there already explored or skipped. It is the "product of
done/total at each level" estimator in its recursive form: exact when sibling subtrees
are equally large, and for DPOR an estimate over the backtrack sets known so far (they
grow as races are found).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pagerace.engine.execution import Event, Execution, Footprint
from pagerace.engine.memory.choices import Alternative
from pagerace.engine.schedule import Choice, Schedule
from pagerace.engine.symmetric import Swap, kept_swaps, twin_done
from pagerace.engine.symmetry import Symmetry, check_initial, swaps

if TYPE_CHECKING:
    from pagerace.engine.program import Program


@dataclass(eq=False)
class SleepEntry:
    """A thread's sleeping events: its op's distinct outcomes and those asleep (with fps);
    under a weak model also the alternatives (memory/choices.py) the asleep ones took,
    where known, which name them where their index changes (dpor.py)."""

    outs: tuple[int, ...]
    asleep: dict[int, Footprint]
    alts: dict[int, Alternative] = field(default_factory=dict)

    def full(self) -> bool:
        return all(o in self.asleep for o in self.outs)


@dataclass(eq=False)
class Node:
    """A state on the current path and the choices made or pending there."""

    enabled: list[int]
    prev: int  # thread of the previous event (-1 at the root)
    preemptions: int  # preemptions on the path before this node
    backtrack: set[int] = field(default_factory=set)
    done: set[int] = field(default_factory=set)
    sleep: dict[int, SleepEntry] = field(default_factory=dict)
    thread: int = -1
    outcomes: list[int] | None = None  # the outcomes of `thread` explored here
    all_outcomes: tuple[int, ...] = ()
    oi: int = 0
    event: Event | None = None
    chosen: Choice | None = None  # choice() while thread and oi stay
    # block swaps (thread permutation, threads of both blocks) under which the path to
    # this node is invariant: neither block has stepped, every step maps to itself
    swaps: tuple[Swap, ...] = ()
    verified: bool = False  # the event was re-run once and matched: replays redo it

    def choice(self) -> Choice:
        if self.chosen is None:
            assert self.outcomes is not None
            self.chosen = Choice(self.thread, self.outcomes[self.oi])
        return self.chosen


class TreeSearch:
    """A stack of nodes walked depth-first; subclasses decide what to explore."""

    name = "tree"
    exhaustive = True

    def __init__(self, program: Program) -> None:
        self.nthreads = len(program.threads)
        self.stack: list[Node] = []
        self.allowed: Callable[[Node, int], bool] = lambda node, t: True
        self.pos = 0  # nodes chosen in the current execution
        self.path: list[Choice] = []  # the choices made in the current execution
        self.taken = 0  # events of the current execution absorbed
        self.blocked = False  # the current execution was cut off by a sleep set
        self.started = False
        self.exhausted = False
        self.floor = 0  # nodes below this depth are never backtracked (a subtree's prefix)
        self.sym: Symmetry | None = None  # set by use_symmetry (DPOR only)
        self._root_swaps: tuple[Swap, ...] = ()

    def use_symmetry(self, program: Program) -> None:
        """Skip a thread whose twin is done at a node whose path is invariant under
        swapping their blocks (symmetric.py); only sound with DPOR's race analysis
        or none, and only under the sc memory model."""
        sym = program.symmetry
        if sym is None or program.memory != "sc":
            return
        check_initial(sym, program.initial, self.nthreads)
        self.sym = sym
        self._root_swaps = tuple(swaps(sym, self.nthreads))

    # -- hooks ---------------------------------------------------------------------------
    def first_backtrack(self, node: Node, options: list[int]) -> set[int]:
        raise NotImplementedError

    def inherit_sleep(self, parent: Node, node: Node, ex: Execution) -> None:
        """Fill `node.sleep` from its parent's (DPOR only); `ex` is at `node`'s state."""

    def absorb(self, i: int, fresh: bool) -> None:
        """The event of node i has just been executed (`fresh`: for the first time)."""

    def end_run(self, ex: Execution) -> None:
        """The run has ended."""

    def on_backtrack(self, node: Node) -> None:
        """The choice at `node` is fully explored."""

    # -- the protocol --------------------------------------------------------------------
    def new_execution(self) -> bool:
        if self.started and not self._backtrack():
            self.exhausted = True
            return False
        self.started = True
        self.pos = self.taken = 0
        self.path = []
        self.blocked = False
        return True

    def next_choice(self, ex: Execution) -> Choice | None:
        if len(ex.events) > self.taken:
            self._took(ex)
        if self.pos < len(self.stack):
            node = self.stack[self.pos]
            if node.verified:  # a replay: re-apply the recorded step (Execution.redo)
                ex.redo = node.event
        else:
            enabled = ex.enabled()
            if not enabled:
                return None
            new = self._new_node(enabled, ex)
            if new is None:
                self.blocked = True
                return None
            node = new
            if self.sym is not None:
                node.swaps = self._root_swaps if not self.stack else \
                    kept_swaps(self.sym, self.stack[-1].swaps, ex)
            self.stack.append(node)
        if node.outcomes is None:
            node.all_outcomes = tuple(ex.outcomes(node.thread))
            entry = node.sleep.get(node.thread)
            node.outcomes = [o for o in node.all_outcomes
                             if entry is None or o not in entry.asleep]
        self.pos += 1
        c = node.choice()
        self.path.append(c)
        return c

    def finish(self, ex: Execution) -> Schedule | None:
        if len(ex.events) > self.taken:
            self._took(ex)
        self.end_run(ex)
        if self.blocked:
            return None
        return Schedule(tuple(self.path))

    def estimate(self) -> float | None:
        if self.exhausted:
            return 1.0
        # after finish the top of the stack is the leaf just run (f = 1); after a
        # backtrack it is a choice not yet run (f = 0)
        f = 1.0 if self.pos == len(self.stack) else 0.0
        for node in reversed(self.stack):
            outs = 1 if node.outcomes is None else len(node.outcomes)  # None: not yet run
            pending = sum(1 for t in node.backtrack if t != node.thread and self._open(node, t))
            total = len(node.backtrack)
            completed = total - 1 - pending
            f = (completed + (node.oi + f) / outs) / total
        return f

    # -- plumbing ------------------------------------------------------------------------
    def _took(self, ex: Execution) -> None:
        i = self.pos - 1
        node = self.stack[i]
        ev = ex.events[-1]
        fresh = node.event is None
        if node.event is not None:
            ev.vc = node.event.vc  # a replayed step: same event, same clock
            node.verified = True
        node.event = ev
        self.taken = len(ex.events)
        self.absorb(i, fresh)

    @staticmethod
    def _asleep(node: Node, t: int) -> bool:
        entry = node.sleep.get(t)
        return entry is not None and entry.full()

    def _open(self, node: Node, t: int) -> bool:
        return t not in node.done and not self._asleep(node, t) and self.allowed(node, t) \
            and not (node.swaps and twin_done(node.swaps, node.done, t))

    @staticmethod
    def _pick(node: Node, options: list[int]) -> int:
        return node.prev if node.prev in options else options[0]

    def _blank_node(self, enabled: list[int]) -> Node:
        """A node for the current state, below the top of the stack, with nothing chosen."""
        parent = self.stack[-1] if self.stack else None
        prev = parent.thread if parent else -1
        pre = 0
        if parent is not None:
            pre = parent.preemptions + (
                1 if parent.prev >= 0 and parent.prev != parent.thread
                and parent.prev in parent.enabled else 0)
        return Node(enabled=enabled, prev=prev, preemptions=pre)

    def _new_node(self, enabled: list[int], ex: Execution) -> Node | None:
        """A node for the current state, with its first choice; None if sleep-blocked."""
        parent = self.stack[-1] if self.stack else None
        node = self._blank_node(enabled)
        if parent is not None:
            self.inherit_sleep(parent, node, ex)
        options = [t for t in enabled if not self._asleep(node, t) and self.allowed(node, t)]
        if not options:
            return None
        node.backtrack = self.first_backtrack(node, options)
        node.thread = self._pick(node, options)
        return node

    def _backtrack(self) -> bool:
        while len(self.stack) > self.floor:
            node = self.stack[-1]
            assert node.outcomes is not None and node.event is not None
            self.on_backtrack(node)
            if node.oi + 1 < len(node.outcomes):
                node.oi += 1
                node.event = node.chosen = None
                node.verified = False
                return True
            node.done.add(node.thread)
            rest = sorted(t for t in node.backtrack if self._open(node, t))
            if rest:
                node.thread = self._pick(node, rest)
                node.outcomes = None
                node.oi = 0
                node.event = node.chosen = None
                node.verified = False
                return True
            self.stack.pop()
        return False
