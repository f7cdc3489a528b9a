"""Instruments: observers that every step of an execution passes through.

An instrument sees each executed step (its `Event`: thread, label, outcome, footprint,
notes) and the state after it, and the end of every complete execution. It may mark a
`sometimes` property as reached (`ctx.witness(name)`) or report a violation by raising
`Violation`; it never changes the state, so it adds no footprint and cannot change which
interleavings the explorer considers (in the style of trio's instrument hooks: observation
goes through one hook, not code sprinkled in the steps).

Tracepoints, ghost checks and tracing attach here; none of them is part of the modelled
system's configuration. Instruments must be stateless across executions or reset in
`start`, since the explorer re-runs the program from the start for every execution.

Leaves out: hooks before a step or on scheduling decisions (no instrument needs them).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class StepEvent(Protocol):
    """The parts of an executed step (`execution.Event`) an instrument may look at."""

    thread: int
    label: str
    outcome: int
    result: Any
    notes: list[dict[str, Any]]


@dataclass
class StepContext:
    """What an instrument sees after one step."""

    event: StepEvent
    state: Mapping[Hashable, Any]
    witnessed: list[str] = field(default_factory=list)

    def witness(self, name: str) -> None:
        """Mark the `sometimes` property `name` as reached by this step."""
        self.witnessed.append(name)


@dataclass(frozen=True)
class EndContext:
    """What an instrument sees when every thread has finished."""

    state: Mapping[Hashable, Any]
    results: Sequence[Any]


class Instrument:
    """Base class: override what you need. Raise `Violation` to report one."""

    name: str = "instrument"

    def start(self) -> None:
        """A new execution begins."""

    def after_step(self, ctx: StepContext) -> None:
        """Called after every step that did not itself raise a violation."""

    def at_end(self, ctx: EndContext) -> None:
        """Called once when every thread has finished without a violation."""
