"""An open `relaxed` check tried under `relaxed-nosb`, its witness lifted to `relaxed`.

Under `relaxed` (store buffers) DPOR may hit its limit before it reaches a violation that
`relaxed-nosb` finds in tens of executions (docs/memory-models.md, "Cost"). Every
`relaxed-nosb` execution is a `relaxed` one in which each store drains at once, so when a
`relaxed` exploration ends incomplete with no violation, `try_lifted` explores the same
cell under `relaxed-nosb` within the same limits; a violation found there is lifted to a
`relaxed` schedule (engine/lift.py) and replayed under `relaxed`, and only a replay that
reaches a violation counts. The check's verdict is then that violation, the result stays
incomplete (the `relaxed` tree was not finished), and its stats say `lifted_from`.

Leaves out: the other direction - a `relaxed-nosb` pass says nothing of `relaxed`, and an
open `relaxed` cell whose `relaxed-nosb` exploration finds nothing stays open.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from pagerace.check.options import CheckOptions
from pagerace.check.split import explore_check
from pagerace.engine import Program, Schedule, ViolationRecord, replay
from pagerace.engine.lift import lift_schedule

LIFTABLE = ("dpor", "dfs")


def try_lifted(program: Program, ref: str, params: Mapping[str, str], opts: CheckOptions,
               progress: Callable[[Any], None] | None = None
               ) -> tuple[Schedule, ViolationRecord, dict[str, Any]] | None:
    """(the lifted schedule, the violation its replay under `relaxed` reaches, stats of
    the `relaxed-nosb` exploration), or None."""
    if program.memory != "relaxed" or opts.strategy not in LIFTABLE:
        return None
    nosb = replace(program, memory="relaxed-nosb")
    found = explore_check(nosb, ref, {**params, "memory": "relaxed-nosb"}, opts, progress)
    if found.violation is None or found.schedule is None:
        return None
    lifted = lift_schedule(program, found.schedule, opts.max_steps)
    ex, _ = replay(program, lifted, opts.max_steps)
    if ex.violation is None:
        return None
    return lifted, ex.violation, {"memory": "relaxed-nosb",
                                  "executions": found.stats.executions,
                                  "seconds": round(found.stats.seconds, 4),
                                  "violation": found.violation.kind}


__all__ = ["LIFTABLE", "try_lifted"]
