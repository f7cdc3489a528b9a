"""Lifting a schedule found under `relaxed-nosb` to `relaxed`, where every store drains at
once.

`relaxed-nosb` is `relaxed` without store buffers (memory/promising.py): a store becomes
visible in the step that makes it. Every `relaxed-nosb` execution is therefore a `relaxed`
execution in which each buffered store drains right after the step that buffered it,
before any other thread moves. `lift_schedule` builds that execution: it runs the
schedule under `relaxed-nosb` and under `relaxed` side by side, takes under `relaxed` the
alternative the `relaxed-nosb` step took (named by its op outcome and model choices, not
its index: memory/choices.py), and after each step drains the thread's buffer oldest
entry first. The result is a schedule of the `relaxed` program, to be replayed like any
other: the replay, not this argument, is what shows the violation is reachable under
`relaxed`.

Why it is needed: under `relaxed` DPOR explores the orders of the drains at the end of a
run before it reverses a race near its start, so a violation that `relaxed-nosb` finds in
tens of executions may not be found in minutes (docs/memory-models.md, "Cost").

Leaves out: the other direction (a `relaxed` pass says nothing of `relaxed-nosb`, and a
`relaxed-nosb` pass nothing of `relaxed`).
"""

from __future__ import annotations

from dataclasses import replace

from pagerace.engine.execution import Execution
from pagerace.engine.memory import stepping as weak
from pagerace.engine.memory.choices import DRAIN
from pagerace.engine.program import Program
from pagerace.engine.schedule import Choice, Schedule, ScheduleError


def lift_schedule(program: Program, schedule: Schedule,
                  max_steps: int | None = 10_000) -> Schedule:
    """`schedule`, a schedule of `program` under `relaxed-nosb`, as a schedule of
    `program` (whose memory is `relaxed`) with every store drained at once. Raises
    ScheduleError where the schedule does not fit."""
    if program.memory != "relaxed":
        raise ValueError("lift_schedule lifts to the relaxed model (program.memory)")
    src = Execution(replace(program, memory="relaxed-nosb"), max_steps)
    dst = Execution(program, max_steps)
    out: list[Choice] = []
    for n, c in enumerate(schedule.choices):
        t = c.thread
        if t not in src.enabled():
            raise ScheduleError(f"step {n}: thread {t} cannot run under relaxed-nosb")
        ev = src.step(t, c.outcome)
        i = weak.index_of(dst, t, ev.alt) if ev.alt is not None else None
        if i is None:
            raise ScheduleError(f"step {n}: thread {t}'s alternative {ev.alt} is not one "
                                "under relaxed")
        dst.step(t, i)
        out.append(Choice(t, i))
        while dst.violation is None and weak.buffered(dst, t):
            d = weak.index_of(dst, t, (DRAIN, (0,)))
            assert d is not None  # the oldest entry may always drain
            dst.step(t, d)
            out.append(Choice(t, d))
        if dst.violation is not None or src.violation is not None:
            break
    return Schedule.of(out)


__all__ = ["lift_schedule"]
