"""The versioned JSON form of a trace, and the saved-trace file `pagerace replay` reads.

`trace_to_dict` turns an engine `Trace` into plain JSON (the `trace` of a `CheckResult`);
`result_of_trace` wraps a bare trace as a result for the renderers. A saved trace file
is one JSON object:

    {"format": "pagerace-trace", "version": 1,
     "scenario": "hvo-speculative-walker",          # a catalog name or a .py path
     "params": {"generation": "G2", ...},           # string -> string
     "schedule": "0,0,1,1:1,0",                     # Schedule text form
     "violation": {"kind": "oops", "message": "..."} | null,
     "trace": <trace dict> | null}                  # informative: replay re-runs

`load_trace_file` checks all of it and raises `TraceFileError` with one line that says
what is wrong (bad JSON, truncated file, wrong format or version, a member of the wrong
type, a schedule that does not parse). Whether the schedule fits the scenario is decided
by re-running it (see the replay command), not here.

Leaves out: reading older versions (there is only version 1) and re-creating `Trace`
objects from JSON (renderers work on the dict form).
"""

from __future__ import annotations

import json
import os
from typing import Any

from pagerace.check.result import CheckResult
from pagerace.engine.schedule import Schedule, ScheduleError
from pagerace.engine.trace import Trace, TraceStep
from pagerace.report.atomic import write_atomic

TRACE_FORMAT = "pagerace-trace"
TRACE_VERSION = 1


class TraceFileError(ValueError):
    """A trace file that cannot be used; the message is one line."""


def step_to_dict(step: TraceStep) -> dict[str, Any]:
    """One step. `index` is 0-based; reports number steps from 1 (step k is the state
    after the k-th choice of the schedule, step 0 the initial state)."""
    return {
        "index": step.index,
        "thread": step.thread,
        "thread_name": step.thread_name,
        "label": step.label,
        "stack": list(step.stack),
        "outcome": step.outcome,
        "result": step.result,
        "reads": [[loc, value] for loc, value in step.reads],
        "writes": [[loc, old, new] for loc, old, new in step.writes],
        "notes": [dict(n) for n in step.notes],
        "observation": step.observation,
    }


def trace_to_dict(trace: Trace) -> dict[str, Any]:
    """The JSON form of `trace` (already JSON-able: the engine converted the values)."""
    return {
        "program": trace.program,
        "memory": trace.memory,
        "threads": list(trace.threads),
        "schedule": str(trace.schedule),
        "initial_observation": trace.initial_observation,
        "steps": [step_to_dict(s) for s in trace.steps],
        "violation": None if trace.violation is None else trace.violation.to_json(),
        "finished": trace.finished,
    }


def result_of_trace(trace: Trace | dict[str, Any]) -> CheckResult:
    """A bare trace (an engine `Trace` or its dict form) as a result the renderers read:
    no exploration behind it, so the verdict is "violation" or "no violation"."""
    doc = trace_to_dict(trace) if isinstance(trace, Trace) else trace
    violation = doc.get("violation")
    return CheckResult(
        scenario=str(doc.get("program") or "trace"), params={},
        verdict="violation" if violation else "no violation", violation=violation,
        schedule=doc.get("schedule"), trace=doc)


def trace_file_doc(result: CheckResult | dict[str, Any]) -> dict[str, Any]:
    """The saved-trace document for a check result (which has a schedule): a
    `CheckResult`, or its JSON form as `check --json` / `replay --json` print it."""
    doc = result.to_json() if isinstance(result, CheckResult) else result
    if doc.get("schedule") is None:
        raise TraceFileError("this check result has no schedule to save")
    return {
        "format": TRACE_FORMAT,
        "version": TRACE_VERSION,
        "scenario": doc.get("scenario"),
        "params": dict(doc.get("params") or {}),
        "schedule": doc["schedule"],
        "violation": doc.get("violation"),
        "trace": doc.get("trace"),
    }


def _fail(what: str) -> TraceFileError:
    return TraceFileError(" ".join(what.split()))


def validate_trace_doc(doc: Any) -> dict[str, Any]:
    """Check a loaded document; return it with params normalised to strings."""
    if not isinstance(doc, dict):
        raise _fail(f"expected a JSON object, found {type(doc).__name__}")
    fmt = doc.get("format")
    if fmt != TRACE_FORMAT:
        raise _fail(f'not a pagerace trace file ("format" is {json.dumps(fmt)}, '
                    f'expected "{TRACE_FORMAT}")')
    version = doc.get("version")
    if version != TRACE_VERSION or isinstance(version, bool):
        raise _fail(f"unsupported trace file version {json.dumps(version)} "
                    f"(this pagerace reads version {TRACE_VERSION})")
    scenario = doc.get("scenario")
    if not isinstance(scenario, str) or not scenario.strip():
        raise _fail('"scenario" must be a non-empty string')
    params = doc.get("params", {})
    if not isinstance(params, dict):
        raise _fail('"params" must be an object of name -> value')
    norm: dict[str, str] = {}
    for k, v in params.items():
        if isinstance(v, bool) or not isinstance(v, str | int | float):
            raise _fail(f'parameter "{k}" must be a string, found {json.dumps(v)}')
        norm[k] = str(v)
    schedule = doc.get("schedule")
    if not isinstance(schedule, str):
        raise _fail('"schedule" must be a string like "0,0,1,1:1"')
    try:
        Schedule.parse(schedule)
    except ScheduleError as e:
        raise _fail(f'"schedule": {e}') from None
    violation = doc.get("violation")
    if violation is not None and not (
            isinstance(violation, dict) and isinstance(violation.get("kind"), str)
            and isinstance(violation.get("message"), str)):
        raise _fail('"violation" must be null or {"kind": ..., "message": ...}')
    trace = doc.get("trace")
    if trace is not None and not (isinstance(trace, dict)
                                  and isinstance(trace.get("steps"), list)):
        raise _fail('"trace" must be null or a trace object with a "steps" list')
    return {**doc, "params": norm}


def save_trace_file(path: str | os.PathLike[str],
                    doc: CheckResult | dict[str, Any]) -> None:
    """Write a saved-trace document atomically; a check result (or its JSON form) is
    converted first (see `trace_file_doc`). Raises TraceFileError if it would not load
    back."""
    if isinstance(doc, CheckResult) or "format" not in doc:
        doc = trace_file_doc(doc)
    validate_trace_doc(doc)
    write_atomic(path, json.dumps(doc, indent=1) + "\n")


def load_trace_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a trace file; every problem is a one-line `TraceFileError`."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise _fail(f"{os.fspath(path)}: no such file") from None
    except IsADirectoryError:
        raise _fail(f"{os.fspath(path)}: is a directory") from None
    except UnicodeDecodeError:
        raise _fail(f"{os.fspath(path)}: not a text file (invalid UTF-8)") from None
    except OSError as e:
        raise _fail(f"{os.fspath(path)}: cannot read: {e.strerror or e}") from None
    if not text.strip():
        raise _fail(f"{os.fspath(path)}: empty file")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        hint = " (truncated?)" if e.pos >= len(text.rstrip()) else ""
        raise _fail(f"{os.fspath(path)}: bad JSON at line {e.lineno} column {e.colno}: "
                    f"{e.msg}{hint}") from None
    except RecursionError:
        raise _fail(f"{os.fspath(path)}: bad JSON: nested too deeply") from None
    try:
        return validate_trace_doc(doc)
    except TraceFileError as e:
        raise _fail(f"{os.fspath(path)}: {e}") from None
