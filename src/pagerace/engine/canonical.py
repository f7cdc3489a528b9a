"""Canonical states for the stateful search: a compact key per state, minimised over the
symmetry group.

A state of the search is the shared state plus each thread's program point. Thread bodies
are deterministic functions of the results the engine sent into them (determinism.py
checks that), so a thread's program point is its *history*, the sequence of those
results; histories are interned as ids, each one `(parent id, tagged result)`, so a
thread's part of the key is one int. The shared state enters the key as the set of items
(location, type-tagged value) that differ from the initial state (only locations some step
wrote can differ), each item interned as an int, and split in two:

- *fixed* items, which no renaming of the symmetry changes (a descriptor's flags, a PTE,
  the refcount: nearly all of the state on the real geometry), enter as one 128-bit
  Zobrist hash (A. L. Zobrist, "A new hashing method with application for game playing",
  1970): the sum modulo 2**128 of a random word per item, kept up to date step by step
  (`pairs` re-tags only the locations a step wrote), so their cost does not grow with
  the state;
- *moving* items (a location or value that names a CPU: per-CPU RCU nesting, a TLB) enter
  exactly, as their sorted ids, renamed under symmetry.

The key is the hash's 16 bytes, the moving ids and the threads' history ids. So the
visited set is hash-compacted in the fixed part, as SPIN's -DHC is: two states with
different fixed parts get the same key only if their hashes collide; for two given
distinct item sets that has probability 2**-128 (the hash is a sum of independent uniform
words), so a search storing N states merges two distinct ones with probability below
N**2 / 2**129 (about 1e-26 for 10**6 states). The type tags keep `True` and `1` apart
(statekey.py); the moving part and the histories are exact.

Symmetry (symmetry.py): the canonical key is the least key over the renamings that sort the
blocks of each group by their threads' history ids; blocks with equal histories are tied
and every order among them is tried. The sort key is equivariant (renaming the state
renames which block holds which history, not the histories, when no history mentions a
thread), so equivalent states get equal keys; when a history does mention a thread the
key is still the key of an equivalent state - sound, just possibly not the least. An item
is fixed when every transposition of two blocks of a group maps it to itself (the
transpositions generate the group), so the hash is the same under every renaming.

Leaves out: a bit-state visited set (SPIN's -DBITSTATE), which would trade completeness
for memory; the probability above is the only inexactness.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Hashable, Mapping, Sequence
from itertools import permutations, product
from typing import Any

from pagerace.engine.statekey import tag
from pagerace.engine.symmetry import Perm, Symmetry, swaps

_MISSING = object()
_MASK = (1 << 128) - 1
_SEED = 0x5EED  # the words are fixed per run of a program, so counts are reproducible


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
        self._swaps = [p for p, _ in swaps(symmetry, nthreads)] if symmetry else []
        self._perms: dict[tuple[tuple[int, ...], ...], Perm] = {}  # block orders -> perm
        self.fixed: list[bool] = []  # item id -> no renaming changes it
        self.word: list[int] = []  # item id -> its random 128-bit word
        self._rng = random.Random(_SEED)

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
    def pairs(self, state: Mapping[Hashable, Any], written: frozenset[Hashable] | set[Hashable]
              ) -> tuple[tuple[Hashable, int], ...]:
        """After a step that wrote `written`: each of those locations with the item id it
        now holds, -1 where it holds its initial value (or nothing)."""
        init = self.initial
        out = []
        for loc in written:
            v = state.get(loc, _MISSING)
            if v is _MISSING:
                out.append((loc, -1))
                continue
            t = _tag(v)
            out.append((loc, -1 if init.get(loc, _MISSING) == t else self._intern(loc, v, t)))
        return tuple(out)

    def update(self, zsum: int, items: dict[Hashable, int], moving: dict[Hashable, int],
               pairs: tuple[tuple[Hashable, int], ...]) -> int:
        """Bring `items` (location -> item id of each location that differs from the
        initial state) and its subset `moving` (those whose item is moving) up to date with
        a step's `pairs`, and return the new hash of the fixed ones (`zsum` the old
        one)."""
        fixed = self.fixed
        word = self.word
        for loc, new in pairs:
            old = items.pop(loc, None)
            if old is not None:
                if fixed[old]:
                    zsum -= word[old]
                else:
                    del moving[loc]
            if new < 0:
                continue
            items[loc] = new
            if fixed[new]:
                zsum += word[new]
            else:
                moving[loc] = new
        return zsum & _MASK

    def _intern(self, loc: Hashable, v: Any, t: Hashable) -> int:
        """The id of item (`loc`, `v`), `t` being `v`'s tag."""
        got = self.items.get((loc, t))
        if got is None:
            got = self.items[(loc, t)] = len(self.item_lv)
            self.item_lv.append((loc, v))
            self.word.append(self._rng.getrandbits(128))
            self.fixed.append(True)  # while its renamings are interned below
            if self.sym is not None:
                self.fixed[got] = all(self._rename_item(got, p) == got for p in self._swaps)
        return got

    def _pack(self, ids: list[int], hists: Sequence[int]) -> bytes:
        ids.sort()
        return array("q", ids).tobytes() + b"|" + array("q", hists).tobytes()

    def key(self, zsum: int, moving: dict[Hashable, int], hists: Sequence[int]) -> bytes:
        """The canonical key of the state with this hash of its fixed items, these moving
        items and these thread histories."""
        head = zsum.to_bytes(16, "little")
        if self.sym is None:
            return head + self._pack(list(moving.values()), hists)
        best: bytes | None = None
        for perm in self._candidates(hists):
            k = self._renamed_key(moving, hists, perm)
            if best is None or k < best:
                best = k
        assert best is not None
        return head + best

    def _rename_item(self, item: int, perm: Perm) -> int:
        """The id of `item` renamed by `perm`, computed and cached (callers look in
        `_renamed_items` first)."""
        assert self.sym is not None
        loc, v = self.sym.rename(*self.item_lv[item], perm)
        got = self._renamed_items[(item, perm)] = self._intern(loc, v, _tag(v))
        return got

    def _renamed_key(self, moving: dict[Hashable, int], hists: Sequence[int],
                     perm: Perm) -> bytes:
        if perm == self.identity:
            return self._pack(list(moving.values()), hists)
        ren = self._renamed_items
        ids = []
        for i in moving.values():
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
        per_group: list[list[tuple[int, ...]]] = []
        for group in self.sym.groups:
            keys = [tuple([hists[t] for t in block]) for block in group]
            keyed = sorted(range(len(group)), key=keys.__getitem__)
            if len(set(keys)) == len(keys):  # no ties: one order
                per_group.append([tuple(keyed)])
                continue
            ties: list[list[int]] = []
            prev: tuple[int, ...] | None = None
            for b in keyed:
                if prev is not None and keys[b] == prev:
                    ties[-1].append(b)
                else:
                    ties.append([b])
                prev = keys[b]
            per_group.append([tuple(b for part in combo for b in part)
                              for combo in product(*(list(permutations(tie))
                                                     for tie in ties))])
        perms = self._perms
        out = []
        for orders in product(*per_group):
            perm = perms.get(orders)
            if perm is None:
                perm = perms[orders] = self.sym.perm_of(orders, self.n)
            out.append(perm)
        return out
