"""Replaying a schedule, and the step-by-step trace a report renders.

`replay` re-runs a schedule exactly (strict: a choice that does not fit the program is a
`ScheduleError`) or leniently (skipping choices that do not fit: used by the minimizer).
`record_trace` replays with tracing on and returns a `Trace`: per step the thread, the
function stack of the generator (e.g. walker > get_page_unless_zero > page_ref_add_unless),
the op label, the values read and written, the notes the step attached, and the program's
`observe` snapshot of the state after the step.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from pagerace.engine.execution import Execution
from pagerace.engine.memory.history import is_model_key
from pagerace.engine.program import Program
from pagerace.engine.replay_strategy import Replay
from pagerace.engine.runner import run_one
from pagerace.engine.schedule import Schedule
from pagerace.engine.violation import ViolationRecord


def replay(program: Program, schedule: Schedule, max_steps: int | None = 10_000,
           trace: bool = False, strict: bool = True) -> tuple[Execution, Schedule]:
    """Run `schedule`; return the execution and the choices actually taken."""
    ex = Execution(program, max_steps, trace=trace)
    strategy = Replay(schedule, strict)
    strategy.new_execution()
    taken = run_one(ex, strategy)
    assert taken is not None
    return ex, taken


def _loc(loc: Hashable) -> str:
    if isinstance(loc, tuple):
        return ":".join(str(x) for x in loc)
    return str(loc)


@dataclass
class TraceStep:
    index: int
    thread: int
    thread_name: str
    label: str
    stack: list[str]
    outcome: int
    result: Any
    reads: list[tuple[str, Any]]
    writes: list[tuple[str, Any, Any]]
    notes: list[dict[str, Any]]
    observation: dict[str, Any] | None


@dataclass
class Trace:
    program: str
    threads: list[str]
    schedule: Schedule
    steps: list[TraceStep] = field(default_factory=list)
    violation: ViolationRecord | None = None
    initial_observation: dict[str, Any] | None = None
    finished: bool = False
    memory: str = "sc"  # the memory model the trace ran under


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, tuple | list):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return repr(v)


def record_trace(program: Program, schedule: Schedule,
                 max_steps: int | None = 10_000) -> Trace:
    """Replay `schedule` strictly with tracing and return the rendered-ready trace."""
    observe = program.observe
    ex = Execution(program, max_steps, trace=True)
    out = Trace(program.name, [t.name for t in program.threads], schedule,
                initial_observation=observe(ex.visible) if observe else None,
                memory=program.memory)
    if ex.violation is not None:
        out.violation = ex.violation
        return out
    # validate first, so a mismatched schedule is one clear error
    replay(program, schedule, max_steps, strict=True)
    for c in schedule.choices:
        ev = ex.step(c.thread, c.outcome)
        written = ev.fp[1]
        state = ex.visible
        reads = [(_loc(loc), _jsonable(ev.old[loc] if loc in written else state.get(loc)))
                 for loc in sorted(ev.fp[0], key=repr) if not is_model_key(loc)]
        writes = [(_loc(loc), _jsonable(ev.old.get(loc)), _jsonable(state.get(loc)))
                  for loc in sorted(written, key=repr) if not is_model_key(loc)]
        out.steps.append(TraceStep(
            ev.index, ev.thread, program.threads[ev.thread].name, ev.label,
            list(ev.stack), ev.outcome, _jsonable(ev.result), reads, writes,
            [_jsonable(n) for n in ev.notes], observe(state) if observe else None))
    if ex.violation is None and not ex.finished():
        ex.check_deadlock()
    out.violation = ex.violation
    out.finished = ex.finished()
    return out
