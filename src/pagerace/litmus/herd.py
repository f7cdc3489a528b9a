"""herd7-like text and JSON output of a litmus outcome.

Text, as herd7 prints it: `Test NAME Allowed|Required`, `States N` and one line per final
state (`0:r0=1; x=2;`), `Ok` / `No`, `Witnesses`, `Positive: P Negative: N`, the
condition, and `Observation NAME Never|Sometimes|Always P N`; plus the memory model, and
LKMM's `Result:` line when the test has one.
"""

from __future__ import annotations

from typing import Any

from pagerace.engine.memory import describe
from pagerace.litmus.outcome import Key, Outcome


def _key(k: Key) -> str:
    t, name = k
    return name if t is None else f"{t}:{name}"


def _val(v: Any) -> str:
    if isinstance(v, tuple) and len(v) == 2 and v[0] == "&":
        return str(v[1])
    return str(v)


def text(out: Outcome) -> str:
    t = out.test
    lines = [f"Test {t.name} {'Required' if t.quantifier == 'forall' else 'Allowed'}",
             f"Memory {out.memory} ({describe(out.memory)})",
             f"States {len(out.states)}"]
    for st in out.states:
        lines.append(" ".join(f"{_key(k)}={_val(v)};" for k, v in st))
    lines.append("Ok" if out.validated else "No")
    lines.append("Witnesses")
    lines.append(f"Positive: {out.positive} Negative: {out.negative}")
    lines.append(f"Condition {t.quantifier}")
    if not out.complete:
        lines.append("Incomplete: a time limit stopped the exploration")
    for p in out.problems:
        lines.append(f"Problem {p}")
    lines.append(f"Observation {t.name} {out.observation} {out.positive} {out.negative}")
    if t.expected:
        agree = "agrees" if agrees(out) else "DISAGREES"
        lines.append(f"LKMM Result: {t.expected} ({agree})")
    return "\n".join(lines)


def agrees(out: Outcome) -> bool | None:
    """Whether the observation matches LKMM's `Result:` line (None if it has none)."""
    if out.test.expected is None:
        return None
    return out.observation == out.test.expected


def sound_for_stronger(out: Outcome) -> bool | None:
    """A model stronger than LKMM never observes an LKMM `Never` and keeps every `Always`."""
    e = out.test.expected
    if e is None:
        return None
    if e == "Never":
        return out.observation == "Never"
    if e == "Always":
        return out.observation == "Always"
    return True


def to_json(out: Outcome) -> dict[str, Any]:
    return {
        "test": out.test.name,
        "memory": out.memory,
        "memory_model": describe(out.memory),
        "quantifier": out.test.quantifier,
        "states": [{_key(k): _val(v) for k, v in st} for st in out.states],
        "positive": out.positive,
        "negative": out.negative,
        "validated": out.validated,
        "observation": out.observation,
        "expected": out.test.expected,
        "agrees": agrees(out),
        "complete": out.complete,
        "problems": out.problems,
        "executions": out.executions,
        "seconds": round(out.seconds, 4),
    }
