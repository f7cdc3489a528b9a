"""Symmetry of a program: interchangeable threads and how renaming them renames the state.

A `Program` may declare a `Symmetry`: groups of interchangeable *blocks* of threads (a
block is usually one thread - a walker CPU - or a CPU's thread together with its helper
pseudo-threads, e.g. its TLB eviction; blocks of a group have equal length and their
threads correspond position by position). Any permutation of the blocks of a group, applied
to every group independently, is a thread permutation `perm` (`perm[t]` is the index
thread `t` is renamed to). Because state locations and values may name a thread's CPU
(per-CPU RCU nesting, TLBs, IRQ state), the declaration carries two hooks:

- `rename(loc, value, perm) -> (loc, value)`: the item of the renamed state;
- `rename_result(value, perm) -> value`: a result the engine sent into a thread (a thread's
  program point is the history of those results), renamed; `mentions(value)` says whether
  a result can change under renaming at all (most results cannot: that keeps it cheap).

The contract (what makes symmetry reduction sound, as in C. N. Ip and D. L. Dill, "Better
verification through symmetry", FMSD 9, 1996; E. M. Clarke, E. A. Emerson, S. Jha, A. P.
Sistla, "Symmetry reductions in model checking", CAV 1998): for every permutation the
declaration generates, renaming is a bijection of states that maps the initial state to
itself, every transition to a transition and every violation to a violation of the same
kind - so a thread body of a block must behave as its counterpart's body with the CPUs
renamed, and every property, `sometimes` witness and instrument must treat the blocks
alike. `check_initial` checks the first part; the cross-checks against naive DFS check
the rest on the programs we have.

Leaves out: weak memory models (their per-thread views are indexed by thread index and are
not renamed; `stateful.py` refuses symmetry under them and DPOR ignores it,
symmetric.py).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import permutations, product
from typing import Any

Perm = tuple[int, ...]
Block = tuple[int, ...]
RenameItem = Callable[[Hashable, Any, Perm], tuple[Hashable, Any]]
RenameResult = Callable[[Any, Perm], Any]


def _same_item(loc: Hashable, value: Any, perm: Perm) -> tuple[Hashable, Any]:
    return loc, value


def _same_result(value: Any, perm: Perm) -> Any:
    return value


def _never(value: Any) -> bool:
    return False


@dataclass(frozen=True)
class Symmetry:
    """Interchangeable blocks of threads and the renaming of state and results."""

    groups: tuple[tuple[Block, ...], ...]
    rename: RenameItem = _same_item
    rename_result: RenameResult = _same_result
    mentions: Callable[[Any], bool] = _never

    def validate(self, nthreads: int) -> None:
        seen: set[int] = set()
        for group in self.groups:
            if len({len(b) for b in group}) > 1:
                raise ValueError("the blocks of a symmetry group must have equal length")
            for block in group:
                for t in block:
                    if not 0 <= t < nthreads or t in seen:
                        raise ValueError(f"symmetry: thread {t} is out of range or in two "
                                         "blocks")
                    seen.add(t)

    def perm_of(self, orders: Sequence[Sequence[int]], nthreads: int) -> Perm:
        """The thread permutation that sends block `orders[g][i]` of group g to block i."""
        perm = list(range(nthreads))
        for group, order in zip(self.groups, orders, strict=True):
            for i, src in enumerate(order):
                for a, b in zip(group[src], group[i], strict=True):
                    perm[a] = b
        return tuple(perm)

    def all_perms(self, nthreads: int) -> Iterator[Perm]:
        """Every thread permutation the declaration generates (the identity first)."""
        for orders in product(*(permutations(range(len(g))) for g in self.groups)):
            yield self.perm_of(orders, nthreads)

    def rename_state(self, state: Mapping[Hashable, Any], perm: Perm) -> dict[Hashable, Any]:
        return dict(self.rename(loc, v, perm) for loc, v in state.items())


def check_initial(sym: Symmetry, initial: Mapping[Hashable, Any], nthreads: int) -> None:
    """Raise ValueError unless every generated permutation maps `initial` to itself."""
    sym.validate(nthreads)
    from pagerace.engine.fingerprint import encode
    want = encode(dict(initial))
    for perm in sym.all_perms(nthreads):
        if encode(sym.rename_state(initial, perm)) != want:
            raise ValueError(f"symmetry: the initial state is not invariant under the "
                             f"thread permutation {perm}")


def orbit_fingerprint(sym: Symmetry, state: Mapping[Hashable, Any],
                      results: Sequence[Any]) -> str:
    """The least fingerprint over the renamings of a terminal state and its results: one
    name for the whole orbit, so terminal states are counted up to symmetry."""
    from pagerace.engine.fingerprint import fingerprint
    n = len(results)
    best: str | None = None
    for perm in sym.all_perms(n):
        res: list[Any] = [None] * n
        for t, r in enumerate(results):
            res[perm[t]] = sym.rename_result(r, perm) if sym.mentions(r) else r
        fp = fingerprint(sym.rename_state(state, perm), tuple(res))
        if best is None or fp < best:
            best = fp
    assert best is not None
    return best


def swaps(sym: Symmetry, nthreads: int) -> list[tuple[Perm, frozenset[int]]]:
    """Every transposition of two blocks of a group, as (the thread permutation, the
    threads of both blocks)."""
    out: list[tuple[Perm, frozenset[int]]] = []
    for g, group in enumerate(sym.groups):
        for i in range(len(group)):
            for j in range(i + 1, len(group)):
                orders = [list(range(len(h))) for h in sym.groups]
                orders[g][i], orders[g][j] = j, i
                out.append((sym.perm_of(orders, nthreads), frozenset(group[i] + group[j])))
    return out


def transposition(n: int, a: int, b: int) -> Perm:
    perm = list(range(n))
    perm[a], perm[b] = b, a
    return tuple(perm)
