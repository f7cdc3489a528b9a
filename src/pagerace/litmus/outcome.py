"""Running a litmus test: the final states the checker reaches and the verdict on them.

The program is explored exhaustively with DPOR under the chosen memory model; an
instrument records, at the end of every complete execution, the final value of every
observed variable (the `P:reg` and shared locations the condition, the filter and
`locations` name). States the `filter` rejects are dropped. Like herd7: `exists C` is
Positive for the states satisfying C, and the observation is Never / Sometimes / Always
by how many of the states do; `~exists C` and `forall C` are validated (Ok) when no state /
every state satisfies C.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pagerace.engine import Limits, explore
from pagerace.engine.instrument import EndContext, Instrument
from pagerace.litmus.interp import build
from pagerace.litmus.parse import LitmusError
from pagerace.litmus.syntax import And, Cmp, Cond, Const, Not, Or, Test

Key = tuple[int | None, str]
FinalState = tuple[tuple[Key, Any], ...]


def observed(test: Test) -> list[Key]:
    keys: list[Key] = []

    def walk(c: Cond | None) -> None:
        if isinstance(c, Cmp):
            if (c.thread, c.name) not in keys:
                keys.append((c.thread, c.name))
        elif isinstance(c, Not):
            walk(c.arg)
        elif isinstance(c, And | Or):
            walk(c.left)
            walk(c.right)
    for k in test.locations:
        if k not in keys:
            keys.append(k)
    walk(test.cond)
    walk(test.filter)
    return keys


def holds(c: Cond, state: Mapping[Key, Any]) -> bool:
    if isinstance(c, Const):
        return c.value
    if isinstance(c, Not):
        return not holds(c.arg, state)
    if isinstance(c, And):
        return holds(c.left, state) and holds(c.right, state)
    if isinstance(c, Or):
        return holds(c.left, state) or holds(c.right, state)
    v = state.get((c.thread, c.name), 0)
    want: Any = ("&", c.value) if isinstance(c.value, str) else c.value
    return bool(v != want) if c.negated else bool(v == want)


class _Finals(Instrument):
    name = "litmus-finals"

    def __init__(self, keys: list[Key]) -> None:
        self.keys = keys
        self.states: set[FinalState] = set()

    def at_end(self, ctx: EndContext) -> None:
        regs = [dict(r) if isinstance(r, tuple) else {} for r in ctx.results]
        out = []
        for t, name in self.keys:
            if t is None:
                v = ctx.state.get(name, 0)
            else:
                v = regs[t].get(name, 0) if t < len(regs) else 0
            out.append(((t, name), v))
        self.states.add(tuple(out))


@dataclass
class Outcome:
    test: Test
    memory: str
    states: list[FinalState] = field(default_factory=list)
    positive: int = 0
    negative: int = 0
    executions: int = 0
    seconds: float = 0.0
    complete: bool = True
    problems: list[str] = field(default_factory=list)  # violations: deadlocks, bounds

    @property
    def observation(self) -> str:
        if not self.states:
            return "Never"
        if self.positive == 0:
            return "Never"
        return "Always" if self.negative == 0 else "Sometimes"

    @property
    def validated(self) -> bool:
        """herd's Ok / No: the condition as quantified holds."""
        if self.test.quantifier == "exists":
            return self.positive > 0
        if self.test.quantifier == "~exists":
            return self.positive == 0
        return self.negative == 0


def run(test: Test, memory: str, max_seconds: float | None = None) -> Outcome:
    prog = build(test, memory)
    finals = _Finals(observed(test))
    prog.instruments = (finals,)
    res = explore(prog, "dpor", Limits(max_seconds=max_seconds, max_steps=2_000),
                  stop_on_violation=False)
    out = Outcome(test, memory, executions=res.stats.executions,
                  seconds=res.stats.seconds, complete=res.complete)
    for v in res.violations:  # what the interpreter cannot run, reported from a thread
        if "LitmusError: " in v.message:
            raise LitmusError(v.message.split("LitmusError: ", 1)[1])
    out.problems = sorted({f"{v.kind}: {v.message}" for v in res.violations})
    for st in sorted(finals.states, key=repr):
        if test.filter is not None and not holds(test.filter, dict(st)):
            continue
        out.states.append(st)
        if holds(test.cond, dict(st)):
            out.positive += 1
        else:
            out.negative += 1
    return out
