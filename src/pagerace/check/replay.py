"""Re-running a saved trace file: the same scenario, parameters and schedule, strictly.

`rerun(saved, source)` takes a trace file already loaded and checked for form
(report/trace_json.py `load_trace_file`), loads its scenario, rebuilds the program,
re-runs the schedule with tracing and checks that it reaches the violation the file
records (kind and message). Every way it can go wrong is a one-line `ReplayError`
naming `source` (the file): unknown scenario or bad parameters, a schedule that does not
fit the program, a re-run that ends differently from the record.

Leaves out: reading the file (report/trace_json.py) and printing (report/).
"""

from __future__ import annotations

from typing import Any

from pagerace.check.result import CheckResult
from pagerace.check.run import replay_command, shipped_of
from pagerace.engine.schedule import Schedule, ScheduleError
from pagerace.engine.trace import record_trace
from pagerace.report.trace_json import trace_to_dict
from pagerace.scenarios.catalog import load_scenario


class ReplayError(ValueError):
    """A saved trace that does not re-run as recorded; the message is one line."""


def _describe(v: dict[str, Any] | None) -> str:
    return "no violation" if v is None else f"{v['kind']}: {v['message']}"


def rerun(saved: dict[str, Any], source: str) -> CheckResult:
    """Re-run a loaded trace file; the result of the re-run."""
    ref = saved["scenario"]
    try:
        scenario = load_scenario(ref)
        params = scenario.resolve(saved["params"])
        program = scenario.build(params)
    except ValueError as e:
        raise ReplayError(f"{source}: {e}") from None
    schedule = Schedule.parse(saved["schedule"])
    try:
        trace = record_trace(program, schedule)
    except ScheduleError as e:
        raise ReplayError(f"{source}: the schedule does not fit scenario {ref}: {e}") from None
    got = trace.violation.to_json() if trace.violation is not None else None
    want = saved.get("violation")
    if (got is None) != (want is None) or (
            got is not None and want is not None
            and (got["kind"], got["message"]) != (want["kind"], want["message"])):
        raise ReplayError(f"{source}: the re-run reaches {_describe(got)}, but the file "
                          f"records {_describe(want)}")
    is_shipped, note = shipped_of(scenario, params)
    return CheckResult(
        scenario=ref,
        title=scenario.title,
        params=params,
        strategy="replay",
        verdict="violation" if got is not None else "pass",
        violation=got,
        stats={"executions": 1, "steps": len(trace.steps)},
        schedule=str(schedule),
        replay=replay_command(ref, params, str(schedule)),
        trace=trace_to_dict(trace),
        shipped=is_shipped,
        shipped_note=note,
        memory=program.memory,
    )


__all__ = ["ReplayError", "rerun"]
