"""Progress of a running exploration, reported to an optional callback.

`explore(..., progress=fn)` calls `fn(Progress(...))` after an execution when at least
`INTERVAL` seconds have passed since the last call (so at most about four times a
second), and once more when the exploration stops (`done=True`).

`fraction` is the strategy's estimate of how much of its space is explored (tree.py:
for the tree searches, the recursive product of done/total choices along the current
DFS stack, which is exact when sibling subtrees are equally large); None for samplers,
which have no fixed space.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

INTERVAL = 0.25  # seconds between two calls


@dataclass(frozen=True)
class Progress:
    executions: int  # maximal executions so far
    rate: float  # executions per second so far
    distinct_states: int  # distinct terminal states so far
    depth: int  # steps in the latest execution
    max_depth: int  # most steps in one execution so far
    elapsed: float  # seconds since the exploration started
    fraction: float | None  # estimated fraction of the space explored (0..1), if known
    done: bool = False  # the exploration has stopped


ProgressFn = Callable[[Progress], None]


class Throttle:
    """Decides when the callback is due."""

    def __init__(self, fn: ProgressFn | None, interval: float | None = None) -> None:
        self.fn = fn
        self.interval = INTERVAL if interval is None else interval
        self.last = time.perf_counter()

    def due(self) -> bool:
        if self.fn is None:
            return False
        now = time.perf_counter()
        if now - self.last < self.interval:
            return False
        self.last = now
        return True

    def emit(self, p: Progress) -> None:
        if self.fn is not None:
            self.fn(p)
