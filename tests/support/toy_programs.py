"""Small programs with exactly known answers, shared by the engine tests and benchmarks."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from pagerace.engine import (
    Atomic,
    Await,
    Choose,
    FetchAdd,
    Load,
    Program,
    Property,
    Store,
    ThreadSpec,
)

Body = Generator[Any, Any, Any]


def lost_update(atomic: bool, n: int = 2) -> Program:
    """n threads increment x: non-atomically (load; store) or with one fetch_add."""

    def inc() -> Body:
        if atomic:
            yield FetchAdd("x", 1)
        else:
            v = yield Load("x")
            yield Store("x", v + 1)

    return Program([ThreadSpec(f"t{i}", inc) for i in range(n)], {"x": 0},
                   [Property("no-lost-update", "at_end", lambda s: s["x"] == n)],
                   name="lost-update")


def store_buffering() -> Program:
    """SB litmus: x=1; r0=y || y=1; r1=x. Under SC both reads 0 is impossible."""

    def t0() -> Body:
        yield Store("x", 1)
        r = yield Load("y")
        yield Store("r0", r)

    def t1() -> Body:
        yield Store("y", 1)
        r = yield Load("x")
        yield Store("r1", r)

    return Program([ThreadSpec("t0", t0), ThreadSpec("t1", t1)],
                   {"x": 0, "y": 0, "r0": -1, "r1": -1},
                   [Property("not-both-zero", "at_end",
                             lambda s: not (s["r0"] == 0 and s["r1"] == 0))],
                   name="store-buffering")


def independent(n: int, steps: int = 2) -> Program:
    """n threads, each writing only its own location."""

    def body(i: int) -> Any:
        def run() -> Body:
            for k in range(steps):
                yield Store(("own", i), k)
        return run

    return Program([ThreadSpec(f"t{i}", body(i)) for i in range(n)], name="independent")


def deadlock() -> Program:
    """Each thread waits for the other's flag before setting its own."""

    def t(mine: str, other: str) -> Any:
        def run() -> Body:
            yield Await(lambda v: v.load(other) == 1, label=f"wait {other}")
            yield Store(mine, 1)
        return run

    return Program([ThreadSpec("a", t("fa", "fb")), ThreadSpec("b", t("fb", "fa"))],
                   name="deadlock")


def spin_forever() -> Program:
    def run() -> Body:
        while True:
            yield Load("x")

    return Program([ThreadSpec("spinner", run)], name="spin")


def message_passing() -> Program:
    """MP: data=1; flag=1 || await flag; r=data. Under SC r is always 1."""

    def producer() -> Body:
        yield Store("data", 1)
        yield Store("flag", 1)

    def consumer() -> Body:
        yield Await(lambda v: v.load("flag") == 1, label="wait flag")
        r = yield Load("data")
        return r

    return Program([ThreadSpec("producer", producer), ThreadSpec("consumer", consumer)],
                   {"data": 0, "flag": 0},
                   name="message-passing")


def chooser() -> Program:
    def run() -> Body:
        c = yield Choose(3)
        yield Store("x", c)

    def maybe_write(view: Any, outcome: int) -> None:
        if outcome == 1:
            view.store("y", view.load("y") + 1)

    def other() -> Body:
        yield Atomic(maybe_write, label="maybe", outcomes=2)

    return Program([ThreadSpec("c", run), ThreadSpec("m", other)], {"x": 0, "y": 0},
                   name="chooser")
