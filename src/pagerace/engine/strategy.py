"""The strategy protocol: what chooses the next step (in the style of awslabs/shuttle).

A strategy only chooses; `Execution.step` is the only thing that changes the state, and
the driver (runner.py) is the only loop that calls it. Three methods:

- `new_execution() -> bool`: prepare the next execution; False when there is none left
  (an exhaustive strategy has covered its space, a sampler has drawn its samples).
- `next_choice(ex) -> Choice | None`: the next (thread, outcome) for the running
  execution `ex`, or None to end it here: no thread is enabled (the driver then records
  a deadlock) or the strategy cuts the execution off (a sleep set, the end of a replayed
  schedule). A strategy learns what its previous choice did from `ex.events[-1]`.
- `finish(ex) -> Schedule | None`: the execution has ended; return the schedule it ran,
  or None when the strategy cut it off as redundant (counted as sleep-blocked, not as an
  execution).

`exhaustive` says whether running out of executions means the whole space was covered;
`estimate()` is the strategy's guess of the fraction of its space explored so far (None
when it has none), reported through the progress hook.

Wrappers (preemption.py, determinism.py) take a strategy and are one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pagerace.engine.execution import Execution
    from pagerace.engine.schedule import Choice, Schedule


class Strategy(Protocol):
    name: str
    exhaustive: bool

    def new_execution(self) -> bool:
        """Prepare the next execution; False when none is left."""
        ...

    def next_choice(self, ex: Execution) -> Choice | None:
        """The next step of `ex`, or None to end it here."""
        ...

    def finish(self, ex: Execution) -> Schedule | None:
        """`ex` has ended: its schedule, or None if it was cut off as redundant."""
        ...

    def estimate(self) -> float | None:
        """Fraction of the space explored so far, if the strategy can tell."""
        ...
