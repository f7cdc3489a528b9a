"""Canonical states for the stateful search: a compact key per state, minimised over the
symmetry group.

A state of the search is the shared state plus each thread's program point. Thread bodies
are deterministic functions of the results the engine sent into them (determinism.py
checks that), so a thread's program point is its *history*, the sequence of those
results; histories are interned as ids, each one `(parent id, tagged result)`, so a
thread's part of the key is one int. The shared state enters the key as the set of items
(location, type-tagged value) that differ from the initial state (only locations some step
wrote can differ), each item interned as an int; the key is the bytes of the sorted item
ids followed by the threads' history ids. The item set is kept up to date step by step
(`update` re-tags only the locations a step wrote), so a key costs a sort of ints, and
under symmetry one cached lookup per item and renaming. Equal keys mean equal states
(the tags keep `True` and `1` apart, statekey.py); the key is exact, not a hash.

Symmetry (symmetry.py): the canonical key is the least key over the renamings that sort the
blocks of each group by their threads' history ids; blocks with equal histories are tied
and every order among them is tried. The sort key is equivariant (renaming the state
renames which block holds which history, not the histories, when no history mentions a
thread), so equivalent states get equal keys; when a history does mention a thread the
key is still the key of an equivalent state - sound, just possibly not the least.

Leaves out: a bit-state or hash-compacted visited set (SPIN's -DBITSTATE / -DHC): keys are
exact and stored whole.
"""

from __future__ import annotations

from array import array
from collections.abc import Hashable, Mapping, Sequence
from itertools import permutations, product
from typing import Any

from pagerace.engine.statekey import tag
from pagerace.engine.symmetry import Perm, Symmetry

_MISSING = object()


def _tag(value: Any) -> Hashable:
    try:
        return tag(value)
    except TypeError:
        return (type(value), repr(value))


def tag_results(results: Sequence[Any]) -> Hashable:
    """A hashable, type-tagged stand-in for the threads' results."""
    return tuple(_tag(r) for r in results)


class Canon:
    """Interning tables and the canonical key of a state."""

    def __init__(self, initial: Mapping[Hashable, Any], nthreads: int,
                 symmetry: Symmetry | None) -> None:
        self.initial = {loc: _tag(v) for loc, v in initial.items()}
        self.n = nthreads
        self.sym = symmetry
        self.items: dict[tuple[Hashable, Hashable], int] = {}
        self.hists: dict[tuple[int, Hashable], int] = {}
        self.hist_parent: list[int] = [-1]  # id 0: the empty history
        self.hist_value: list[Any] = [None]
        self.hist_plain: list[bool] = [True]  # no result in it mentions a thread
        self._renamed: dict[tuple[int, Perm], int] = {}
        self.item_lv: list[tuple[Hashable, Any]] = []  # item id -> (location, value)
        self._renamed_items: dict[tuple[int, Perm], int] = {}
        self.identity: Perm = tuple(range(nthreads))

    # -- histories -------------------------------------------------------------------------
    def extend(self, hid: int, value: Any) -> int:
        """The id of history `hid` followed by `value`."""
        key = (hid, _tag(value))
        got = self.hists.get(key)
        if got is None:
            got = self.hists[key] = len(self.hist_parent)
            self.hist_parent.append(hid)
            self.hist_value.append(value)
            plain = self.hist_plain[hid] and (self.sym is None or not self.sym.mentions(value))
            self.hist_plain.append(plain)
        return got

    def values(self, hid: int) -> list[Any]:
        out = []
        while hid > 0:
            out.append(self.hist_value[hid])
            hid = self.hist_parent[hid]
        out.reverse()
        return out

    def _rename_hist(self, hid: int, perm: Perm) -> int:
        if self.hist_plain[hid]:
            return hid
        got = self._renamed.get((hid, perm))
        if got is None:
            assert self.sym is not None
            got = 0
            for v in self.values(hid):
                got = self.extend(got, self.sym.rename_result(v, perm)
                                  if self.sym.mentions(v) else v)
            self._renamed[(hid, perm)] = got
        return got

    # -- states ----------------------------------------------------------------------------
    def update(self, items: dict[Hashable, int], state: Mapping[Hashable, Any],
               written: frozenset[Hashable] | set[Hashable]) -> None:
        """Bring `items` (location -> item id of each location that differs from the
        initial state) up to date after a step that wrote `written`."""
        init = self.initial
        for loc in written:
            v = state.get(loc, _MISSING)
            if v is _MISSING:
                items.pop(loc, None)
                continue
            t = _tag(v)
            if init.get(loc, _MISSING) == t:
                items.pop(loc, None)
                continue
            items[loc] = self._intern(loc, v, t)

    def _intern(self, loc: Hashable, v: Any, t: Hashable) -> int:
        """The id of item (`loc`, `v`), `t` being `v`'s tag."""
        got = self.items.get((loc, t))
        if got is None:
            got = self.items[(loc, t)] = len(self.item_lv)
            self.item_lv.append((loc, v))
        return got

    def _pack(self, ids: list[int], hists: Sequence[int]) -> bytes:
        ids.sort()
        return array("q", ids).tobytes() + b"|" + array("q", hists).tobytes()

    def key(self, items: dict[Hashable, int], hists: Sequence[int]) -> bytes:
        """The canonical key of the state with these shared items and thread histories."""
        if self.sym is None:
            return self._pack(list(items.values()), hists)
        best: bytes | None = None
        for perm in self._candidates(hists):
            k = self._renamed_key(items, hists, perm)
            if best is None or k < best:
                best = k
        assert best is not None
        return best

    def _rename_item(self, item: int, perm: Perm) -> int:
        """The id of `item` renamed by `perm`, computed and cached (callers look in
        `_renamed_items` first)."""
        assert self.sym is not None
        loc, v = self.sym.rename(*self.item_lv[item], perm)
        got = self._renamed_items[(item, perm)] = self._intern(loc, v, _tag(v))
        return got

    def _renamed_key(self, items: dict[Hashable, int], hists: Sequence[int],
                     perm: Perm) -> bytes:
        if perm == self.identity:
            return self._pack(list(items.values()), hists)
        ren = self._renamed_items
        ids = []
        for i in items.values():
            r = ren.get((i, perm))
            ids.append(self._rename_item(i, perm) if r is None else r)
        new = [0] * self.n
        for t, h in enumerate(hists):
            new[perm[t]] = self._rename_hist(h, perm)
        return self._pack(ids, new)

    def _candidates(self, hists: Sequence[int]) -> list[Perm]:
        """The renamings that sort each group's blocks by their histories (all orders of
        tied blocks)."""
        assert self.sym is not None
        per_group: list[list[list[int]]] = []
        for group in self.sym.groups:
            keyed = sorted(range(len(group)), key=lambda b: [hists[t] for t in group[b]])
            ties: list[list[int]] = []
            prev: list[int] | None = None
            for b in keyed:
                k = [hists[t] for t in group[b]]
                if prev is not None and k == prev:
                    ties[-1].append(b)
                else:
                    ties.append([b])
                prev = k
            orders = [[b for part in combo for b in part]
                      for combo in product(*(list(permutations(tie)) for tie in ties))]
            per_group.append(orders)
        return [self.sym.perm_of(orders, self.n) for orders in product(*per_group)]
