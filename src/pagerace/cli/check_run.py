"""Running one check of a scenario: explore, minimize, trace - the result document.

The document is the one result schema every output is rendered from (text, JSON, HTML):
`{"scenario", "params", "verdict", "violation", "stats", "schedule", "replay", "trace",
"sometimes", "complete", "strategy"}`.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pagerace.engine import Limits, Schedule, explore, minimize, record_trace
from pagerace.report.trace_json import trace_to_dict
from pagerace.scenarios.base import Scenario


@dataclass(frozen=True)
class CheckOptions:
    strategy: str = "dpor"
    max_executions: int | None = None
    max_seconds: float | None = None
    max_steps: int = 10_000
    seed: int = 0
    pct_depth: int = 3
    preemption_bound: int | None = None
    minimize: bool = True
    replay: str | None = None  # a schedule to re-run instead of exploring

    def limits(self) -> Limits:
        return Limits(self.max_executions, self.max_seconds, self.max_steps,
                      self.preemption_bound)


def replay_command(scenario: str, params: Mapping[str, str], schedule: str) -> str:
    parts = ["pagerace", "check", scenario]
    for k, v in params.items():
        parts += ["--param", f"{k}={v}"]
    parts += ["--replay", schedule]
    return " ".join(shlex.quote(p) for p in parts)


def run_check(scenario: Scenario, given: Mapping[str, str],
              opts: CheckOptions = CheckOptions(), ref: str | None = None) -> dict[str, Any]:
    """Check `scenario` with parameters `given`; raises ValueError on bad input.

    `ref` is how the user named the scenario (a catalog name or a .py path): the result
    and its replay command carry it, so that a scenario file replays too."""
    name = ref if ref is not None else scenario.name
    params = scenario.resolve(given)
    program = scenario.build(params)
    stats: dict[str, Any]
    sometimes: dict[str, bool] = {}
    complete = False
    if opts.replay is not None:
        schedule = Schedule.parse(opts.replay)
        trace = record_trace(program, schedule, opts.max_steps)
        violation = trace.violation
        stats = {"executions": 1, "seconds": 0.0}
    else:
        result = explore(program, opts.strategy, opts.limits(), seed=opts.seed,
                         pct_depth=opts.pct_depth)
        violation = result.violation
        stats = result.stats.to_json()
        sometimes = result.sometimes
        complete = result.complete
        trace = None
        schedule = result.schedule or Schedule(())
        if violation is not None and len(schedule) > 0:
            found_len = len(schedule)
            if opts.minimize:
                schedule = minimize(program, schedule, violation, opts.max_steps)
            stats["schedule_steps_found"] = found_len
            stats["schedule_steps_minimized"] = len(schedule)
            trace = record_trace(program, schedule, opts.max_steps)
    sched_text = str(schedule) if violation is not None else None
    return {
        "scenario": name,
        "title": scenario.title,
        "params": params,
        "strategy": "replay" if opts.replay is not None else opts.strategy,
        "verdict": "violation" if violation is not None else "pass",
        "violation": violation.to_json() if violation is not None else None,
        "stats": stats,
        "complete": complete,
        "sometimes": sometimes,
        "schedule": sched_text,
        "replay": replay_command(name, params, sched_text) if sched_text else None,
        "trace": trace_to_dict(trace) if trace is not None else None,
    }


__all__ = ["CheckOptions", "replay_command", "run_check"]
