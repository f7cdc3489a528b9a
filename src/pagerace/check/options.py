"""How to explore: the strategy and its limits, as `check` and `matrix` take them."""

from __future__ import annotations

from dataclasses import dataclass

from pagerace.engine import Limits


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
    jobs: int = 1  # processes for one exploration (check/split.py); 1: this process
    cluster: str | None = None  # a Dask scheduler's address to run on instead
    split_depth: int | None = None  # where a split exploration cuts the tree (None: chosen)
    split_after: float = 0.5  # seconds in this process before a --jobs check splits
    symmetry: bool = True  # stateful: reduce by the program's declared symmetry

    def limits(self) -> Limits:
        return Limits(self.max_executions, self.max_seconds, self.max_steps,
                      self.preemption_bound)


__all__ = ["CheckOptions"]
