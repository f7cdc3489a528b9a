"""Running one check of a scenario: explore, minimize, trace - one `CheckResult`.

`run_check` explores the scenario's program with the chosen strategy (or re-runs one
schedule with `CheckOptions.replay`), tries an open `relaxed` cell under `relaxed-nosb`
and lifts what it finds (lifted.py), minimizes a counterexample, records its trace, and
says whether the configuration ever shipped (`shipped_of`). The exploration runs in this
process or split over `opts.jobs` processes or a cluster (split.py); a progress
callback, when given, reaches the engine.

Leaves out: parsing options (cli/) and rendering (report/).
"""

from __future__ import annotations

import inspect
import shlex
from collections.abc import Callable, Mapping
from typing import Any

from pagerace.check.lifted import try_lifted
from pagerace.check.options import CheckOptions
from pagerace.check.result import CheckResult
from pagerace.check.split import explore_check
from pagerace.engine import Schedule, explore, minimize, record_trace
from pagerace.kernel.shipped import shipped
from pagerace.report.trace_json import trace_to_dict
from pagerace.scenarios.base import Scenario

Progress = Callable[[Any], None]


def replay_command(scenario: str, params: Mapping[str, str], schedule: str) -> str:
    parts = ["pagerace", "check", scenario]
    for k, v in params.items():
        parts += ["--param", f"{k}={v}"]
    parts += ["--replay", schedule]
    return " ".join(shlex.quote(p) for p in parts)


def shipped_of(scenario: Scenario, params: Mapping[str, str]) -> tuple[bool, str]:
    """Whether the cell's generation on its architecture ran in a mainline release;
    (True, "") for a scenario without both a gen and an arch matrix axis."""
    axes = {p.name for p in scenario.matrix_params()}
    if not {"gen", "arch"} <= axes:
        return True, ""
    return shipped(params["gen"], params["arch"])


def explore_supports_progress() -> bool:
    return "progress" in inspect.signature(explore).parameters


def run_check(scenario: Scenario, given: Mapping[str, str],
              opts: CheckOptions | None = None, ref: str | None = None,
              progress: Progress | None = None) -> CheckResult:
    """Check `scenario` with parameters `given`; raises ValueError on bad input.

    `ref` is how the user named the scenario (a catalog name or a .py path): the result
    and its replay command carry it, so that a scenario file replays too."""
    opts = opts or CheckOptions()
    name = ref if ref is not None else scenario.name
    params = scenario.resolve(given)
    program = scenario.build(params)
    is_shipped, note = shipped_of(scenario, params)
    stats: dict[str, Any]
    sometimes: dict[str, bool] = {}
    complete = False
    if opts.replay is not None:
        schedule = Schedule.parse(opts.replay)
        trace = record_trace(program, schedule, opts.max_steps)
        violation = trace.violation
        stats = {"executions": 1, "seconds": 0.0}
    else:
        result = explore_check(program, name, params, opts, progress)
        violation = result.violation
        stats = result.stats.to_json()
        if result.parallel:
            stats["parallel"] = dict(result.parallel)
        sometimes = result.sometimes
        complete = result.complete
        trace = None
        schedule = result.schedule or Schedule(())
        if violation is None and not complete:  # an open relaxed cell: lifted.py
            got = try_lifted(program, name, params, opts, progress)
            if got is not None:
                schedule, violation, stats["lifted_from"] = got
        if violation is not None and len(schedule) > 0:
            found_len = len(schedule)
            if opts.minimize:
                schedule = minimize(program, schedule, violation, opts.max_steps)
            stats["schedule_steps_found"] = found_len
            stats["schedule_steps_minimized"] = len(schedule)
            trace = record_trace(program, schedule, opts.max_steps)
    sched_text = str(schedule) if violation is not None else None
    return CheckResult(
        scenario=name,
        title=scenario.title,
        params=params,
        strategy="replay" if opts.replay is not None else opts.strategy,
        verdict="violation" if violation is not None else "pass",
        violation=violation.to_json() if violation is not None else None,
        stats=stats,
        complete=complete,
        sometimes=sometimes,
        schedule=sched_text,
        replay=replay_command(name, params, sched_text) if sched_text else None,
        trace=trace_to_dict(trace) if trace is not None else None,
        shipped=is_shipped,
        shipped_note=note,
        memory=program.memory,
    )


__all__ = ["explore_supports_progress", "replay_command", "run_check", "shipped_of"]
