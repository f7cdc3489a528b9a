"""Replay: one execution along a given schedule.

Strict (the default): a choice that does not fit the program - a thread that cannot run
at that point, an outcome its op does not have, more choices than the execution has
steps - is a `ScheduleError`. Lenient (the minimizer's): a choice whose thread cannot run
is skipped, an impossible outcome becomes the first possible one, and the execution
ends where it ends; `taken` holds the choices actually run.
"""

from __future__ import annotations

from pagerace.engine.execution import Execution
from pagerace.engine.schedule import Choice, Schedule, ScheduleError


class Replay:
    name = "replay"
    exhaustive = False

    def __init__(self, schedule: Schedule, strict: bool = True) -> None:
        self.schedule = schedule
        self.strict = strict
        self.i = 0
        self.taken: list[Choice] = []
        self.started = False

    def new_execution(self) -> bool:
        if self.started:
            return False
        self.started = True
        return True

    def next_choice(self, ex: Execution) -> Choice | None:
        choices = self.schedule.choices
        if ex.finished():
            return None
        while self.i < len(choices):
            i = self.i
            c = choices[i]
            self.i += 1
            if not (0 <= c.thread < ex.n) or not ex.is_enabled(c.thread):
                if self.strict:
                    raise ScheduleError(f"choice {i}: thread {c.thread} cannot run at that point")
                continue
            outs = ex.outcomes(c.thread)
            o = c.outcome
            if o not in outs:
                if self.strict:
                    raise ScheduleError(f"choice {i}: outcome {o} is not possible for "
                                        f"thread {c.thread} at that point")
                o = outs[0]
            taken = Choice(c.thread, o)
            self.taken.append(taken)
            return taken
        return None

    def finish(self, ex: Execution) -> Schedule | None:
        if self.strict and self.i < len(self.schedule):
            raise ScheduleError(f"schedule has {len(self.schedule)} choices but the "
                                f"execution ends after {self.i}")
        return Schedule(tuple(self.taken))

    def estimate(self) -> float | None:
        return None
