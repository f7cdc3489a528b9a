"""PCT, probabilistic concurrency testing with depth d.

S. Burckhardt, P. Kothari, M. Musuvathi, S. Nagarakatte, "A Randomized Scheduler with
Probabilistic Guarantees of Finding Bugs", ASPLOS 2010: threads get random distinct
priorities d..d+n-1; d-1 priority change points are drawn uniformly from the first k
steps (k estimated from the longest run so far); the enabled thread with the highest
priority runs; at the j-th change point the running thread's priority drops to j - d,
below every initial priority. A bug of depth d is found with probability
>= 1/(n k^(d-1)) per execution. Outcomes of nondeterministic ops are drawn uniformly.

Leaves out: the paper's known-k variant (k is learned from the runs instead).
"""

from __future__ import annotations

from pagerace.engine.execution import Execution
from pagerace.engine.random_walk import DEFAULT_SAMPLES, RandomWalk
from pagerace.engine.schedule import Schedule


class PCT(RandomWalk):
    name = "pct"

    def __init__(self, nthreads: int, depth: int = 3, seed: int = 0,
                 samples: int | None = DEFAULT_SAMPLES) -> None:
        super().__init__(seed, samples)
        self.n = nthreads
        self.depth = depth
        self.k_estimate = 1
        self.prio: list[int] = []
        self.change: dict[int, int] = {}

    def new_execution(self) -> bool:
        if not super().new_execution():
            return False
        self.prio = list(range(self.depth, self.depth + self.n))
        self.rng.shuffle(self.prio)
        self.change = {self.rng.randrange(1, self.k_estimate + 1): j
                       for j in range(1, self.depth)}
        return True

    def pick_thread(self, enabled: list[int]) -> int:
        prio = self.prio
        t = max(enabled, key=lambda x: prio[x])
        j = self.change.get(len(self.choices) + 1)
        if j is not None:
            prio[t] = j - self.depth  # below every initial priority
            t = max(enabled, key=lambda x: prio[x])
        return t

    def finish(self, ex: Execution) -> Schedule | None:
        self.k_estimate = max(self.k_estimate, len(self.choices))
        return super().finish(ex)
