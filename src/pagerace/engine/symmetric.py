"""Symmetry inside the stateless tree search (DPOR): a thread whose twin - the thread in
the same position of another block of its symmetry group - was already explored from a
state is not explored from it again, when that state cannot tell the two blocks apart.

The rule. Let pi swap two blocks A and B of a group (symmetry.py). A node N is
pi-invariant when neither block has stepped on the path to N and every step on that path
maps to itself under pi: its thread is in neither block, its footprint is pi-closed, the
items it wrote are pi-closed (so the state stays invariant: the initial state is, by
`check_initial`) and its result does not change under renaming (so no other thread's
program point tells A from B). At such a node, the subtree below thread t in block B is the
pi-image of the subtree below its twin pi(t) in A: every execution of one is an execution
of the other renamed, with the same violations and renamed end states. So once pi(t) is
done at N, t is skipped (`twin_done`), and its twin's explored events are put to sleep for
t, renamed (`rename_fp`, in dpor.py's `on_backtrack`), as DPOR puts an explored thread to
sleep for its later siblings: a sibling branch that would run t first is the image of one
that ran pi(t) first.

Why this is sound together with the race analysis (C. N. Ip and D. L. Dill, "Better
verification through symmetry", FMSD 1996, for the quotient; for DPOR the argument of
this module): every race the skipped subtree would have reversed has its pi-image in the
twin's subtree, with the earlier event on the invariant path mapping to itself, so the
image race adds pi(q) where the skipped one would have added q, at a pi-invariant node,
where q and pi(q) again cover each other. Invariance of the whole path - not only of the
state at N - is what makes that hold: a step on the path that touched a location of one
block only would map to a different step, and its races would not mirror.

Counts are then up to symmetry: one execution per trace orbit, and terminal states named
by their orbit's least fingerprint (result.py, symmetry.orbit_fingerprint). The cross-check
against naive DFS (tests/engine/test_engine_dpor_symmetry.py) compares orbits.

What it catches is limited (README, "Measured"): two walkers whose first steps are private
(rcu_read_lock() on their own CPU) make the path non-invariant as soon as one has taken
it, and most mirrored traces part only after that.

Leaves out: weak memory models (thread views are indexed by thread number and are not
renamed: `TreeSearch.use_symmetry` ignores the symmetry there), permutations other than
transpositions of two blocks (a 3-cycle is a product of them, each applied at its node),
and the symmetry of a state whose path was not invariant (the stateful search catches
those by its canonical key).
"""

from __future__ import annotations

from collections.abc import Hashable, Set

from pagerace.engine.apply import Footprint
from pagerace.engine.execution import Execution
from pagerace.engine.symmetry import Perm, Symmetry

Swap = tuple[Perm, frozenset[int]]  # the thread permutation, the threads of both blocks


def _image(sym: Symmetry, loc: Hashable, ex: Execution, perm: Perm) -> tuple[Hashable, object]:
    return sym.rename(loc, ex.state.get(loc), perm)


def _invariant(sym: Symmetry, perm: Perm, ex: Execution) -> bool:
    """Whether the last step of `ex` maps to itself under `perm` (see the header)."""
    e = ex.events[-1]
    reads, writes = e.fp
    state = ex.state
    try:
        for loc in writes:
            to, value = _image(sym, loc, ex, perm)
            if to not in writes or to not in state or state[to] != value:
                return False
        for loc in reads:
            if _image(sym, loc, ex, perm)[0] not in reads:
                return False
        return not sym.mentions(e.result) or sym.rename_result(e.result, perm) == e.result
    except Exception:  # a rename hook that cannot rename this item: not invariant
        return False


def kept_swaps(sym: Symmetry, swaps: tuple[Swap, ...], ex: Execution) -> tuple[Swap, ...]:
    """The swaps, of a node's `swaps`, under which the step `ex` just took from it is
    invariant: the swaps of the node after it."""
    if not swaps or not ex.events:
        return ()
    t = ex.events[-1].thread
    return tuple(sw for sw in swaps if t not in sw[1] and _invariant(sym, sw[0], ex))


def twin_done(swaps: tuple[Swap, ...], done: Set[int], t: int) -> bool:
    """Whether a twin of `t` under one of a node's `swaps` is `done` there."""
    for perm, threads in swaps:
        if t in threads and perm[t] in done:
            return True
    return False


def rename_fp(sym: Symmetry, fp: Footprint, perm: Perm) -> Footprint | None:
    """The footprint of the twin's step (locations renamed), None if a location cannot be
    renamed without its value."""
    try:
        return (frozenset(sym.rename(loc, None, perm)[0] for loc in fp[0]),
                frozenset(sym.rename(loc, None, perm)[0] for loc in fp[1]))
    except Exception:
        return None


__all__ = ["Swap", "kept_swaps", "rename_fp", "twin_done"]
