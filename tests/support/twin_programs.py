"""Random small programs with interchangeable threads (one "other" thread and two or three
twins running the same ops, each with a private location), and the naive-DFS reference
counted up to symmetry: the inputs of the cross-checks of every symmetry reduction."""

from __future__ import annotations

from collections.abc import Generator, Hashable, Mapping
from typing import Any

from hypothesis import strategies as st

from pagerace.engine import (
    Atomic,
    Await,
    Choose,
    CompareExchange,
    FetchAdd,
    Load,
    Program,
    Property,
    Store,
    ThreadSpec,
    explore,
)
from pagerace.engine.execution import Execution
from pagerace.engine.symmetry import Perm, Symmetry, orbit_fingerprint
from pagerace.engine.violation import Violation

SHARED = ("a", "b")
op = st.one_of(
    st.tuples(st.just("load"), st.sampled_from(SHARED)),
    st.tuples(st.just("store"), st.sampled_from(SHARED), st.integers(0, 2)),
    st.tuples(st.just("add"), st.sampled_from(SHARED)),
    st.tuples(st.just("cas"), st.sampled_from(SHARED), st.integers(0, 1), st.integers(1, 2)),
    st.tuples(st.just("await"), st.sampled_from(SHARED), st.integers(0, 1)),
    st.tuples(st.just("mine"), st.integers(0, 2)),  # a store to the thread's own location
    st.tuples(st.just("choose"), st.sampled_from(SHARED)),
    st.tuples(st.just("oops"), st.sampled_from(SHARED), st.integers(1, 3)),
    st.tuples(st.just("deref"),),  # a load whose location depends on the last result
    # Atomic steps the stateful search's memo re-applies (memo.py): a copy (which keeps
    # the type it read), a bool store (True and 1 must stay apart), a store of what it
    # peeked
    st.tuples(st.just("copy"), st.sampled_from(SHARED), st.sampled_from(SHARED)),
    st.tuples(st.just("truth"), st.sampled_from(SHARED)),
    st.tuples(st.just("peekinc"), st.sampled_from(SHARED)),
)


def _copy(view: Any, outcome: int, src: str, dst: str) -> None:
    view.store(dst, view.load(src))


def _truth(view: Any, outcome: int, loc: str) -> None:
    view.store(loc, view.load(loc) % 2 == 1)


def _peekinc(view: Any, outcome: int, loc: str) -> None:
    # as the kernel model counts its ghost events: a peek at a location the step then
    # writes (so it is in the step's footprint), the value written depending on it
    view.store(loc, view.peek(loc) + 1)



def body(me: int, ops: list[tuple[Any, ...]]) -> Any:
    def run() -> Generator[Any, Any, Any]:
        last = 0
        for o in ops:
            kind = o[0]
            if kind == "load":
                last = yield Load(o[1])
            elif kind == "store":
                yield Store(o[1], o[2] + last % 2)
            elif kind == "add":
                last = yield FetchAdd(o[1], 1)
            elif kind == "cas":
                last = yield CompareExchange(o[1], o[2], o[3])
            elif kind == "await":
                loc, v = o[1], o[2]
                yield Await(lambda view, loc=loc, v=v: view.load(loc) >= v, "await")
            elif kind == "deref":
                last = yield Load(SHARED[last % 2])
            elif kind == "mine":
                yield Store(("p", me), o[1] + last % 2)
            elif kind == "copy":
                yield Atomic(lambda view, o_, src=o[1], dst=o[2]: _copy(view, o_, src, dst),
                             "copy")
            elif kind == "truth":
                yield Atomic(lambda view, o_, loc=o[1]: _truth(view, o_, loc), "truth")
            elif kind == "peekinc":
                yield Atomic(lambda view, o_, loc=o[1]: _peekinc(view, o_, loc), "peekinc")
            elif kind == "choose":
                c = yield Choose(2)
                yield Store(o[1], c)
            else:
                loc, bad = o[1], o[2]

                def fn(view: Any, outcome: int, loc: str = loc, bad: int = bad) -> None:
                    if view.load(loc) == bad:
                        raise Violation("oops", "bad value")
                yield Atomic(fn, "check")
        return last
    return run


def _rename(loc: Hashable, value: Any, perm: Perm) -> tuple[Hashable, Any]:
    if isinstance(loc, tuple) and loc[0] == "p":
        return ("p", perm[loc[1]]), value
    return loc, value


def build(other: list[tuple[Any, ...]], twin: list[tuple[Any, ...]], twins: int,
          sym: bool = True, always: bool = False) -> Program:
    n = 1 + twins
    threads = [ThreadSpec("other", body(0, other))] + [
        ThreadSpec(f"twin {i}", body(i, twin)) for i in range(1, n)]
    initial: dict[Hashable, Any] = {"a": 0, "b": 0, **{("p", i): 0 for i in range(n)}}
    props = [Property("a-small", "at_end", lambda s: s.get("a", 0) < 3)]
    if always:  # a predicate over a location steps write: those steps are visible
        props.append(Property("b-small", "always", lambda s: s.get("b", 0) < 2))
    return Program(threads, initial, props,
                   symmetry=Symmetry((tuple((i,) for i in range(1, n)),), _rename)
                   if sym else None)


def orbit_fp(p: Program, state: Mapping[Hashable, Any], results: list[Any]) -> str:
    """The least fingerprint over the renamings of a terminal state."""
    assert p.symmetry is not None
    return orbit_fingerprint(p.symmetry, state, results)


def reference(p: Program, strategy: str = "dfs") -> tuple[set[str], set[str]]:
    ends: set[str] = set()

    def seen(ex: Execution) -> None:
        if ex.violation is None and ex.finished():
            ends.add(orbit_fp(p, ex.state, ex.results))
    r = explore(p, strategy, stop_on_violation=False, on_execution=seen)
    assert r.complete
    return {v.kind for v in r.violations}, ends


def _small(spec: tuple[Any, ...]) -> bool:
    other, twin, twins = spec
    ops = other + twin * twins
    steps = sum(2 if o[0] == "choose" else 1 for o in ops)
    return steps <= 8 and sum(1 for o in ops if o[0] == "choose") <= 2


programs = st.tuples(st.lists(op, min_size=1, max_size=2), st.lists(op, min_size=1, max_size=2),
                     st.integers(2, 3)).filter(_small)
