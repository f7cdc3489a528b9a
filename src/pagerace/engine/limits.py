"""Limits of an exploration: executions, wall-clock time, steps per thread."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_executions: int | None = None
    max_seconds: float | None = None
    max_steps: int | None = 10_000  # per thread; exceeding it is a "step-bound" violation
    preemption_bound: int | None = None  # naive DFS only (Musuvathi & Qadeer, PLDI 2007)


class Budget:
    """Tracks time and executions against `Limits`."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def exhausted(self, executions: int) -> str | None:
        lim = self.limits
        if lim.max_executions is not None and executions >= lim.max_executions:
            return "executions"
        if lim.max_seconds is not None and self.elapsed() >= lim.max_seconds:
            return "time"
        return None
