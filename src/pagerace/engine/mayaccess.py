"""May-access sets: for each thread and each step index k, the locations it has been seen
to read and write at its k-th step or later, closed under the program's symmetry - the
stateful search's static-independence relation.

SPIN computes, from the Promela text, which global variables and channels each process can
touch, and takes a process's step alone (an ample set) when nothing another process can
ever do depends on it (Holzmann and Peled, "An improvement in formal verification", FORTE
1994). Thread bodies here are Python generators, so the sets cannot be read off the text:
they are *learned*. `seed` runs the extreme schedules and a few seeded random executions
and records every step's footprint; the search then records every footprint it computes,
and when a thread touches a location outside its set, the set grows (`grew`), the search
finishes with the larger sets and starts again. The sets are per step index, not per
process as SPIN's are: a thread that has passed its synchronize_rcu() no longer depends on
the RCU nesting counts it read there, so the readers' steps on them become independent of
it. F(t, k) is the union over every observed step of t with index >= k, so F(t, k)
contains F(t, k + 1). A step seen at index k is recorded up to k + SLACK: a thread whose
step count shifts by a few on another path (a wait that takes one more step) then needs
no new set and no restart; recording more is only more conservative. A search in which
no set grew therefore used sets that contain every footprint of every transition it
executed and every op it saw pending; the argument that this is enough is in stateful.py.

Properties read the state too: the locations the `always` / `sometimes` predicates read
are kept as an observer's reads (`observer`; a predicate that iterates the state counts as
reading everything), so a step that writes one of them is never taken alone (condition
C2, invisibility).

Symmetry: a set learned for one thread of a block is also given, renamed, to every thread
the program's symmetry maps it to, so the relation is invariant under the group (needed to
combine the reduction with symmetry, Emerson, Jha and Peled, "Combining partial order and
symmetry reductions", TACAS 1997).

Leaves out: sets per program point (a history) rather than per step index: two branches
of a thread that reach the same index share a set.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from random import Random
from typing import Any

from pagerace.engine.apply import Footprint
from pagerace.engine.execution import Execution
from pagerace.engine.program import Program
from pagerace.engine.symmetry import Perm, Symmetry

SLACK = 4  # a step seen at index k is recorded as if at k + SLACK (see below)


class RecordingMapping(Mapping[Hashable, Any]):
    """A read-only view of a state that records the locations looked up through it."""

    def __init__(self, inner: Mapping[Hashable, Any]) -> None:
        self.inner = inner
        self.seen: set[Hashable] = set()
        self.everything = False

    def __getitem__(self, loc: Hashable) -> Any:
        self.seen.add(loc)
        return self.inner[loc]

    def __contains__(self, loc: object) -> bool:
        self.seen.add(loc)
        return loc in self.inner

    def __iter__(self) -> Iterator[Hashable]:
        self.everything = True
        return iter(self.inner)

    def __len__(self) -> int:
        self.everything = True
        return len(self.inner)


class MayAccess:
    """Per-thread, per-step-index read and write sets, grown monotonically."""

    def __init__(self, program: Program, symmetry: Symmetry | None) -> None:
        self.n = len(program.threads)
        # reads[t][k] / writes[t][k]: what thread t may access at its step k or later
        self.reads: list[list[set[Hashable]]] = [[] for _ in range(self.n)]
        self.writes: list[list[set[Hashable]]] = [[] for _ in range(self.n)]
        self.observer: set[Hashable] = set()  # what the always / sometimes predicates read
        self.observer_all = False
        self.unknown = False  # a location could not be renamed: no step goes alone
        self.grew = False  # set when a set grew since the caller cleared it
        self.sym = symmetry
        self.perms: list[Perm] = list(symmetry.all_perms(self.n)) if symmetry else []
        self.preds = [p for p in program.properties if p.kind in ("always", "sometimes")]

    # -- learning ---------------------------------------------------------------------
    def _rename(self, loc: Hashable, perm: Perm) -> Hashable:
        assert self.sym is not None
        try:
            return self.sym.rename(loc, None, perm)[0]
        except Exception:  # a rename hook that needs the value: nothing is independent
            self.unknown = True
            return loc

    @staticmethod
    def _put(table: list[set[Hashable]], k: int, locs: list[Hashable]) -> None:
        while len(table) <= k:
            table.append(set())
        for i in range(k + 1):
            table[i].update(locs)

    def _add(self, t: int, k: int, locs: frozenset[Hashable],
             tables: list[list[set[Hashable]]]) -> None:
        mine = tables[t]
        have = _at(mine, k)  # covered: seen at index k or later
        new = [loc for loc in locs if loc not in have]
        if not new:
            return
        self.grew = True
        k += SLACK
        if not self.perms:
            self._put(mine, k, new)
            return
        for perm in self.perms:
            self._put(tables[perm[t]], k, [self._rename(loc, perm) for loc in new])

    def observe(self, t: int, k: int, fp: Footprint) -> None:
        """Thread `t`'s step with index `k` (0-based) has (or would have) this footprint."""
        reads, writes = fp
        if reads:
            self._add(t, k, reads, self.reads)
        if writes:
            self._add(t, k, writes, self.writes)

    def observe_properties(self, state: Mapping[Hashable, Any]) -> None:
        """Record what the always / sometimes predicates read in `state`."""
        if not self.preds or self.observer_all:
            return
        rec = RecordingMapping(state)
        for p in self.preds:
            try:
                p.check(rec)
            except Exception:
                pass
        if rec.everything:
            self.observer_all = True
            self.grew = True
        elif not rec.seen <= self.observer:
            self.observer |= rec.seen
            self.grew = True

    def seed(self, program: Program, runs: int, max_steps: int | None) -> None:
        """Record the footprints of the extreme schedules (each thread run as far as it
        goes, in every rotation of the thread order and its reverse) and of `runs` seeded
        random executions, each with random thread speeds (a thread is picked with a
        weight drawn per run from 1, 10, 100), so a slow thread meets a fast one midway."""
        rng = Random(0)
        orders = [list(range(i, self.n)) + list(range(i)) for i in range(self.n)]
        orders += [o[::-1] for o in orders]
        for r in range(len(orders) + runs):
            order = orders[r] if r < len(orders) else None
            speed = [rng.choice((1, 10, 100)) for _ in range(self.n)]
            ex = Execution(program, max_steps)
            self.observe_properties(ex.visible)
            while not ex.over():
                enabled = ex.enabled()
                if not enabled:
                    break
                t = rng.choices(enabled, [speed[u] for u in enabled])[0] if order is None \
                    else next(u for u in order if u in enabled)
                ev = ex.step(t, rng.choice(ex.outcomes(t)))
                self.observe(t, ev.pos - 1, ev.fp)
                self.observe_properties(ex.visible)

    # -- the relation -----------------------------------------------------------------
    def independent(self, t: int, fp: Footprint, steps: list[int], live: list[int]) -> bool:
        """True when no live thread u other than `t`, at its step `steps[u]` or later, and
        no property predicate accesses a location in conflict with footprint `fp`."""
        reads, writes = fp
        if self.unknown:
            return False
        if writes and (self.observer_all or not self.observer.isdisjoint(writes)):
            return False
        for u in live:
            if u == t:
                continue
            uw = _at(self.writes[u], steps[u])
            if writes and (not uw.isdisjoint(writes)
                           or not _at(self.reads[u], steps[u]).isdisjoint(writes)):
                return False
            if reads and not uw.isdisjoint(reads):
                return False
        return True


_NONE: frozenset[Hashable] = frozenset()


def _at(table: list[set[Hashable]], k: int) -> set[Hashable] | frozenset[Hashable]:
    """F(t, k) from thread t's table: empty past the last step ever seen."""
    return table[k] if k < len(table) else _NONE
