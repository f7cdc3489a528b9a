"""The exploration engine: knows nothing about kernels.

Public API: ops (`Load`, `Store`, `CompareExchange`, `FetchAdd`, `Atomic`, `Await`,
`Choose`, `Fence`), `Program` / `ThreadSpec` / `Property`, `Violation`, `explore` (with its
`Progress` reports and `NondeterminismError`), `Limits`, `Schedule`, `replay`,
`record_trace`, `minimize`; the `Strategy` protocol for writing another strategy.
"""

from pagerace.engine.determinism import NondeterminismError
from pagerace.engine.explorer import STRATEGIES, explore
from pagerace.engine.limits import Limits
from pagerace.engine.minimize import minimize
from pagerace.engine.ops import (
    Atomic,
    Await,
    Choose,
    CompareExchange,
    Fence,
    FetchAdd,
    Load,
    Store,
)
from pagerace.engine.program import Program, Property, ThreadSpec
from pagerace.engine.progress import Progress
from pagerace.engine.result import ExplorationResult, Stats
from pagerace.engine.schedule import Choice, Schedule, ScheduleError
from pagerace.engine.strategy import Strategy
from pagerace.engine.trace import Trace, TraceStep, record_trace, replay
from pagerace.engine.violation import Violation, ViolationRecord

__all__ = [
    "STRATEGIES", "Atomic", "Await", "Choice", "Choose", "CompareExchange",
    "ExplorationResult", "FetchAdd", "Fence", "Limits", "Load", "NondeterminismError",
    "Program", "Progress", "Property", "Schedule", "ScheduleError", "Stats", "Store",
    "Strategy", "ThreadSpec", "Trace", "TraceStep", "Violation", "ViolationRecord",
    "explore", "minimize", "record_trace", "replay",
]
