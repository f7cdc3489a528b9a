"""Seeded random walk: at every state an enabled thread and an outcome, uniformly.

All randomness flows from one `random.Random(seed)`; every execution's choices are
recorded as a `Schedule`, so a failure replays without the seed. Runs `samples`
executions (None: until a limit of the exploration stops it).

Leaves out: any memory of earlier executions (the same execution may be drawn twice).
"""

from __future__ import annotations

import random

from pagerace.engine.execution import Execution
from pagerace.engine.schedule import Choice, Schedule

DEFAULT_SAMPLES = 1000


class RandomWalk:
    name = "random"
    exhaustive = False

    def __init__(self, seed: int = 0, samples: int | None = DEFAULT_SAMPLES) -> None:
        self.rng = random.Random(seed)
        self.samples = samples
        self.count = 0
        self.choices: list[Choice] = []

    def new_execution(self) -> bool:
        if self.samples is not None and self.count >= self.samples:
            return False
        self.count += 1
        self.choices = []
        return True

    def pick_thread(self, enabled: list[int]) -> int:
        return enabled[self.rng.randrange(len(enabled))]

    def next_choice(self, ex: Execution) -> Choice | None:
        enabled = ex.enabled()
        if not enabled:
            return None
        t = self.pick_thread(enabled)
        outs = ex.outcomes(t)
        c = Choice(t, outs[self.rng.randrange(len(outs))])
        self.choices.append(c)
        return c

    def finish(self, ex: Execution) -> Schedule | None:
        return Schedule(tuple(self.choices))

    def estimate(self) -> float | None:
        return None
