"""Instruments: an after_step hook sees every step, can witness and can report; at_end runs
once per complete execution; neither changes what the explorer explores."""

from __future__ import annotations

from pagerace.engine import Load, Program, Property, Store, ThreadSpec, Violation, explore
from pagerace.engine.instrument import EndContext, Instrument, StepContext


def _program(instruments: tuple[Instrument, ...] = (), props: tuple[Property, ...] = ()
             ) -> Program:
    def writer():  # type: ignore[no-untyped-def]
        yield Store("x", 1, "x = 1")

    def reader():  # type: ignore[no-untyped-def]
        return (yield Load("x", "r = x"))

    return Program([ThreadSpec("w", writer), ThreadSpec("r", reader)], {"x": 0},
                   properties=props, instruments=instruments)


class Counting(Instrument):
    def __init__(self) -> None:
        self.steps = 0
        self.ends: list[tuple[int, ...]] = []

    def after_step(self, ctx: StepContext) -> None:
        self.steps += 1

    def at_end(self, ctx: EndContext) -> None:
        self.ends.append((ctx.state["x"], ctx.results[1]))


def test_hooks_see_every_step_and_every_end_without_changing_the_count() -> None:
    plain = explore(_program(), "dfs")
    c = Counting()
    res = explore(_program((c,)), "dfs")
    assert res.stats.executions == plain.stats.executions == 2
    assert c.steps == 4
    assert sorted(c.ends) == [(1, 0), (1, 1)]


class ReadsOne(Instrument):
    def after_step(self, ctx: StepContext) -> None:
        if ctx.event.label == "r = x" and ctx.event.result == 1:
            ctx.witness("reads-one")


class NoZeroRead(Instrument):
    def after_step(self, ctx: StepContext) -> None:
        if ctx.event.label == "r = x" and ctx.event.result == 0:
            raise Violation("warn", "read 0")


def test_witness_satisfies_a_sometimes_property_and_a_raise_is_a_violation() -> None:
    prop = Property("reads-one", "sometimes", lambda s: False)
    res = explore(_program((ReadsOne(),), (prop,)), "dfs")
    assert res.violation is None
    vacuous = explore(_program((), (prop,)), "dfs")
    assert vacuous.violation is not None and vacuous.violation.kind == "sometimes"
    bad = explore(_program((NoZeroRead(),)), "dpor")
    assert bad.violation is not None and bad.violation.kind == "warn"
