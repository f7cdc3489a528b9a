"""Counterexample minimization: fewest steps, then fewest preemptions.

Hypothesis-style shrinking on the schedule (a sequence of choices), re-running the
program for every candidate: (1) delete single choices, replaying leniently and keeping
the candidate when it reaches the same violation (same kind and message), until no
deletion helps; (2) swap adjacent choices of different threads when that lowers the
number of context switches without adding steps, and move a choice next to the nearest
choice of the same thread (merging blocks), until a fixpoint. The result is a local
minimum (no single deletion or adjacent swap improves it), not a global one; it is always
a schedule that replays strictly.
"""

from __future__ import annotations

from pagerace.engine.program import Program
from pagerace.engine.schedule import Choice, Schedule
from pagerace.engine.trace import replay
from pagerace.engine.violation import ViolationRecord


def _key(s: Schedule) -> tuple[int, int]:
    return len(s), s.preemptions()


def minimize(program: Program, schedule: Schedule, violation: ViolationRecord,
             max_steps: int | None = 10_000, max_runs: int = 5000) -> Schedule:
    runs = 0

    def attempt(choices: list[Choice]) -> Schedule | None:
        nonlocal runs
        runs += 1
        ex, taken = replay(program, Schedule(tuple(choices)), max_steps, strict=False)
        v = ex.violation
        if v is not None and v.kind == violation.kind and v.message == violation.message:
            return taken
        return None

    best = attempt(list(schedule.choices))
    if best is None:
        return schedule  # does not reproduce leniently; leave it as it is
    improved = True
    while improved and runs < max_runs:
        improved = False
        i = len(best) - 1
        while i >= 0 and runs < max_runs:
            cand = list(best.choices[:i] + best.choices[i + 1:])
            got = attempt(cand)
            if got is not None and _key(got) < _key(best):
                best = got
                improved = True
            i = min(i - 1, len(best) - 1)
    improved = True
    while improved and runs < max_runs:
        improved = False
        for cand in _reorderings(list(best.choices)):
            got = attempt(cand)
            if got is not None and _key(got) < _key(best):
                best = got
                improved = True
                break
    return best


def _reorderings(ch: list[Choice]) -> list[list[Choice]]:
    """Candidates with fewer context switches: adjacent swaps and block merges."""
    out: list[list[Choice]] = []
    for i in range(len(ch) - 1):
        if ch[i].thread != ch[i + 1].thread:
            swapped = list(ch)
            swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
            out.append(swapped)
    for i, c in enumerate(ch):
        prev = max((j for j in range(i) if ch[j].thread == c.thread), default=None)
        if prev is not None and prev + 1 < i:
            out.append(ch[:prev + 1] + [c] + ch[prev + 1:i] + ch[i + 1:])
        nxt = min((j for j in range(i + 1, len(ch)) if ch[j].thread == c.thread), default=None)
        if nxt is not None and nxt > i + 1:
            out.append(ch[:i] + ch[i + 1:nxt] + [c] + ch[nxt:])
    base = Schedule(tuple(ch)).preemptions()
    return [cand for cand in out if Schedule(tuple(cand)).preemptions() < base]
