"""What an exploration returns: the verdict, the failing schedule, and statistics."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pagerace.engine.fingerprint import fingerprint
from pagerace.engine.schedule import Schedule
from pagerace.engine.statekey import state_key
from pagerace.engine.symmetry import Symmetry, orbit_fingerprint
from pagerace.engine.violation import ViolationRecord

if TYPE_CHECKING:
    from pagerace.engine.execution import Execution


@dataclass
class Stats:
    executions: int = 0  # maximal executions explored (terminal, violating or deadlocked)
    sleep_blocked: int = 0  # partial executions cut off by a sleep set (DPOR)
    distinct_states: int = 0  # distinct terminal states (fingerprints)
    max_depth: int = 0  # most steps in one execution
    steps: int = 0  # steps applied in total, replays included
    seconds: float = 0.0
    first_violation_seconds: float | None = None
    states: int = 0  # canonical states stored (stateful search only)
    transitions: int = 0  # transitions executed (stateful search only)
    restarts: int = 0  # searches restarted because a may-access set grew (stateful only)
    up_to_symmetry: bool = False  # counts are of states / traces up to renaming CPUs

    @property
    def executions_per_second(self) -> float:
        return self.executions / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "executions": self.executions,
            "sleep_blocked": self.sleep_blocked,
            "distinct_states": self.distinct_states,
            "max_depth": self.max_depth,
            "steps": self.steps,
            "seconds": round(self.seconds, 4),
            "executions_per_second": round(self.executions_per_second, 1),
            "first_violation_seconds": (None if self.first_violation_seconds is None
                                        else round(self.first_violation_seconds, 4)),
            **({"states": self.states, "transitions": self.transitions,
                "restarts": self.restarts} if self.states else {}),
            **({"up_to_symmetry": True} if self.up_to_symmetry else {}),
        }


@dataclass
class Found:
    """One violating execution: what was hit and the schedule that hits it."""

    violation: ViolationRecord
    schedule: Schedule


@dataclass
class ExplorationResult:
    strategy: str
    found: list[Found] = field(default_factory=list)
    terminal_states: set[str] = field(default_factory=set)
    sometimes: dict[str, bool] = field(default_factory=dict)
    stats: Stats = field(default_factory=Stats)
    complete: bool = False  # the whole space was covered (no limit cut it short)
    limit_hit: str | None = None  # "executions" | "time" when a limit stopped the search
    parallel: dict[str, int] = field(default_factory=dict)  # split-search figures (parallel.py)
    # with a symmetry, terminal states are counted up to it (symmetry.orbit_fingerprint)
    orbit: Symmetry | None = field(default=None, repr=False, compare=False)
    # terminal state key -> fingerprint: one SHA-256 per distinct state (statekey.py)
    _fingerprints: dict[Hashable, str] = field(default_factory=dict, repr=False,
                                               compare=False)

    def record(self, ex: Execution, schedule: Schedule | None, elapsed: float) -> bool:
        """Account for one maximal execution (`schedule` None: cut off by a sleep set);
        True if it ended in a violation."""
        stats = self.stats
        stats.steps += len(ex.events)
        stats.max_depth = max(stats.max_depth, len(ex.events))
        if schedule is None:
            stats.sleep_blocked += 1
            return False
        stats.executions += 1
        if ex.violation is not None:
            if stats.first_violation_seconds is None:
                stats.first_violation_seconds = elapsed
            self.found.append(Found(ex.violation, schedule))
            return True
        key = state_key(ex)
        fp = self._fingerprints.get(key)
        if fp is None:
            fp = self._fingerprints[key] = (
                fingerprint(ex.state, tuple(ex.results)) if self.orbit is None
                else orbit_fingerprint(self.orbit, ex.state, ex.results))
            self.terminal_states.add(fp)
        return False

    def finish(self, sometimes: Iterable[str], hit: set[str], elapsed: float) -> None:
        """Close the statistics once the exploration stops."""
        self.stats.seconds = elapsed
        self.stats.distinct_states = len(self.terminal_states)
        self.stats.up_to_symmetry = self.orbit is not None
        self.sometimes = {name: name in hit for name in sorted(sometimes)}

    @property
    def violation(self) -> ViolationRecord | None:
        return self.found[0].violation if self.found else None

    @property
    def schedule(self) -> Schedule | None:
        return self.found[0].schedule if self.found else None

    @property
    def violations(self) -> list[ViolationRecord]:
        return [f.violation for f in self.found]

    def violation_set(self) -> set[tuple[str, str]]:
        return {(v.kind, v.message) for v in self.violations}
