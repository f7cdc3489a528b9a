"""Hypothesis strategies for random small programs over a few shared locations."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from hypothesis import strategies as st

from pagerace.engine import (
    Atomic,
    Await,
    Choose,
    CompareExchange,
    Fence,
    FetchAdd,
    Load,
    Program,
    Property,
    Store,
    ThreadSpec,
)

LOCS = ("a", "b", "c")
OpSpec = tuple[Any, ...]

op_spec = st.one_of(
    st.tuples(st.just("load"), st.sampled_from(LOCS)),
    st.tuples(st.just("store"), st.sampled_from(LOCS), st.integers(0, 2)),
    st.tuples(st.just("add"), st.sampled_from(LOCS)),
    st.tuples(st.just("cas"), st.sampled_from(LOCS), st.integers(0, 2), st.integers(0, 2)),
    st.tuples(st.just("await"), st.sampled_from(LOCS), st.integers(0, 1)),
    st.tuples(st.just("maybe"), st.sampled_from(LOCS), st.sampled_from(LOCS)),
    st.tuples(st.just("choose"), st.sampled_from(LOCS)),
)

MAX_STEPS = 7  # steps in all threads together (a choose is two)
MAX_BRANCHING = 2  # nondeterministic ops (maybe, choose) in one program


def _small(threads: list[list[OpSpec]]) -> bool:
    ops = [op for t in threads for op in t]
    steps = sum(2 if op[0] == "choose" else 1 for op in ops)
    branching = sum(1 for op in ops if op[0] in ("maybe", "choose"))
    return steps <= MAX_STEPS and branching <= MAX_BRANCHING


program_spec = st.tuples(
    st.one_of(
        st.lists(st.lists(op_spec, min_size=1, max_size=3), min_size=2, max_size=2),
        st.lists(st.lists(op_spec, min_size=1, max_size=2), min_size=3, max_size=3),
    ).filter(_small),
    st.sampled_from(LOCS),
    st.integers(0, 3),
)


def _maybe(src: str, dst: str) -> Any:
    def fn(view: Any, outcome: int) -> int:
        v = int(view.load(src))
        if outcome == 1:
            view.store(dst, v + 1)
        return v
    return fn


def _thread(ops: list[OpSpec]) -> Any:
    def body() -> Generator[Any, Any, Any]:
        seen = []
        for spec in ops:
            kind = spec[0]
            if kind == "load":
                seen.append((yield Load(spec[1])))
            elif kind == "store":
                yield Store(spec[1], spec[2])
            elif kind == "add":
                seen.append((yield FetchAdd(spec[1], 1)))
            elif kind == "cas":
                seen.append((yield CompareExchange(spec[1], spec[2], spec[3])))
            elif kind == "await":
                loc, val = spec[1], spec[2]
                yield Await(lambda v, loc=loc, val=val: v.load(loc) >= val)
            elif kind == "maybe":
                seen.append((yield Atomic(_maybe(spec[1], spec[2]), "maybe", outcomes=2)))
            elif kind == "choose":
                c = yield Choose(2)
                yield Store(spec[1], c)
        return tuple(seen)
    return body


def build(spec: tuple[list[list[OpSpec]], str, int]) -> Program:
    threads, loc, bad = spec
    return Program(
        [ThreadSpec(f"t{i}", _thread(ops)) for i, ops in enumerate(threads)],
        {name: 0 for name in LOCS},
        [Property("not-bad", "at_end", lambda s, loc=loc, bad=bad: s[loc] != bad)],
        name="random")


# -- with ordering annotations and fences, for the weak memory models ------------------
ORDERED_LOAD = ("plain", "once", "acquire")
ORDERED_STORE = ("plain", "once", "release")

weak_op_spec = st.one_of(
    st.tuples(st.just("load"), st.sampled_from(LOCS), st.sampled_from(ORDERED_LOAD)),
    st.tuples(st.just("depload"), st.sampled_from(LOCS), st.sampled_from(LOCS)),
    st.tuples(st.just("store"), st.sampled_from(LOCS), st.integers(1, 2),
              st.sampled_from(ORDERED_STORE)),
    st.tuples(st.just("add"), st.sampled_from(LOCS), st.sampled_from(("mb", "relaxed"))),
    st.tuples(st.just("cas"), st.sampled_from(LOCS), st.integers(0, 1), st.integers(1, 2)),
    st.tuples(st.just("fence"), st.sampled_from(("mb", "rmb", "wmb", "acquire"))),
    st.tuples(st.just("await"), st.sampled_from(LOCS), st.integers(0, 1)),
    st.tuples(st.just("maybe"), st.sampled_from(LOCS), st.sampled_from(LOCS)),
    # one step: a store, a fence, a second store, an acquire load of the first location
    # (the store buffer's same-step entries, flushes and waits)
    st.tuples(st.just("storepair"), st.sampled_from(LOCS), st.sampled_from(LOCS),
              st.sampled_from(("none", "wmb", "mb")), st.sampled_from(("once", "release"))),
    # one step: a load and, where it read 0, smp_mb(): the step's alternatives that read 0
    # wait for the store buffer and the others do not (indices shift when it drains)
    st.tuples(st.just("condmb"), st.sampled_from(LOCS)),
)

MAX_WEAK_ACCESSES = 6  # memory accesses in all threads together


def _weak_small(threads: list[list[OpSpec]]) -> bool:
    ops = [op for t in threads for op in t]
    accesses = sum(2 if op[0] in ("depload", "maybe") else 3 if op[0] == "storepair"
                   else 0 if op[0] == "fence" else 1 for op in ops)
    return accesses <= MAX_WEAK_ACCESSES and sum(op[0] == "maybe" for op in ops) <= 1


weak_program_spec = st.tuples(
    st.one_of(
        st.lists(st.lists(weak_op_spec, min_size=1, max_size=3), min_size=2, max_size=2),
        st.lists(st.lists(weak_op_spec, min_size=1, max_size=2), min_size=3, max_size=3),
    ).filter(_weak_small),
    st.sampled_from(LOCS),
    st.integers(0, 3),
)


def _depload(src: str, dst: str) -> Any:
    def fn(view: Any, outcome: int) -> tuple[int, int]:
        a = int(view.load(src, order="once"))
        return a, int(view.load(dst, order="once", deps=(src,)))
    return fn


def _storepair(first: str, second: str, fence: str, order: str) -> Any:
    def fn(view: Any, outcome: int) -> int:
        view.store(first, 1, order="once")
        if fence != "none":
            view.fence(fence)
        view.store(second, 2, order=order)
        return int(view.load(first, order="acquire"))
    return fn


def condmb(loc: str) -> Any:
    """An `Atomic` step: READ_ONCE(loc), then smp_mb() where it read 0."""
    def fn(view: Any, outcome: int) -> int:
        a = int(view.load(loc, order="once"))
        if a == 0:
            view.fence("mb")
        return a
    return fn


def _weak_thread(ops: list[OpSpec]) -> Any:
    def body() -> Generator[Any, Any, Any]:
        seen = []
        for spec in ops:
            kind = spec[0]
            if kind == "load":
                seen.append((yield Load(spec[1], order=spec[2])))
            elif kind == "depload":
                seen.append((yield Atomic(_depload(spec[1], spec[2]), "depload")))
            elif kind == "store":
                yield Store(spec[1], spec[2], order=spec[3])
            elif kind == "add":
                seen.append((yield FetchAdd(spec[1], 1, order=spec[2])))
            elif kind == "cas":
                seen.append((yield CompareExchange(spec[1], spec[2], spec[3])))
            elif kind == "fence":
                yield Fence(spec[1])
            elif kind == "await":
                loc, val = spec[1], spec[2]
                yield Await(lambda v, loc=loc, val=val: v.load(loc) >= val)
            elif kind == "maybe":
                seen.append((yield Atomic(_maybe(spec[1], spec[2]), "maybe", outcomes=2)))
            elif kind == "storepair":
                seen.append((yield Atomic(_storepair(*spec[1:]), "storepair")))
            elif kind == "condmb":
                seen.append((yield Atomic(condmb(spec[1]), "condmb")))
        return tuple(seen)
    return body


def build_weak(spec: tuple[list[list[OpSpec]], str, int], memory: str) -> Program:
    threads, loc, bad = spec
    return Program(
        [ThreadSpec(f"t{i}", _weak_thread(ops)) for i, ops in enumerate(threads)],
        {name: 0 for name in LOCS},
        [Property("not-bad", "at_end", lambda s, loc=loc, bad=bad: s[loc] != bad)],
        name="random-weak", memory=memory)
