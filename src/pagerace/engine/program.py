"""What the engine checks: a program of threads over a shared state, with properties.

A `Program` is a description, separate from checking it: the initial state (location ->
value), one `ThreadSpec` per simulated CPU (a generator function yielding ops from
`ops.py`), named properties, and an optional `observe` hook that turns a state into a
JSON-able snapshot for traces (e.g. the vmemmap map). The engine re-runs the thread bodies
from the start for every execution, so bodies must be deterministic functions of the
results they receive and must keep every piece of shared state in the engine's state.

Properties (named, typed oracles, in the style of stateright):
- `always`: checked after every step; False is a violation of kind "property".
- `at_end`: checked when every thread has finished.
- `sometimes`: must hold after some step of some execution, or be witnessed by a step
  (`view.witness(name)`, a tracepoint inside the step that does the interesting thing);
  an exhaustive exploration that never reaches it reports the check as vacuous.

A `symmetry` (symmetry.py) declares interchangeable threads (walker CPUs running the same
body on the same page) and how renaming them renames the state; the stateful strategy
(stateful.py) stores one state per orbit.

Partial-order reduction explores one representative interleaving per Mazurkiewicz trace,
so an `always` predicate is checked on the states of those representatives: it is exact
for predicates over locations that the steps establishing them write, and a predicate that
relates locations written by independent steps may need naive DFS. Prefer raising a
`Violation` inside the step that does the bad thing.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pagerace.engine.instrument import Instrument
from pagerace.engine.ops import Op
from pagerace.engine.symmetry import Symmetry

ThreadBody = Callable[[], Generator[Op, Any, Any]]
PropertyKind = Literal["always", "at_end", "sometimes"]


@dataclass(frozen=True)
class ThreadSpec:
    """One simulated CPU: a name for traces and a generator function."""

    name: str
    body: ThreadBody = field(compare=False)


@dataclass(frozen=True)
class Property:
    """A named oracle over the state (a read-only mapping)."""

    name: str
    kind: PropertyKind
    check: Callable[[Mapping[Hashable, Any]], bool] = field(compare=False)
    message: str = ""


@dataclass
class Program:
    threads: Sequence[ThreadSpec]
    initial: Mapping[Hashable, Any] = field(default_factory=dict)
    properties: Sequence[Property] = ()
    observe: Callable[[Mapping[Hashable, Any]], dict[str, Any]] | None = None
    name: str = "program"
    instruments: Sequence[Instrument] = ()  # observers of every step (instrument.py)
    memory: str = "sc"  # the memory model steps run under (engine/memory/)
    # interchangeable threads and the renaming of state (symmetry.py); the stateful and
    # dpor strategies use it
    symmetry: Symmetry | None = None

    def __post_init__(self) -> None:
        if not self.threads:
            raise ValueError("a program needs at least one thread")
        names = [p.name for p in self.properties]
        if len(names) != len(set(names)):
            raise ValueError("property names must be unique")
        if self.symmetry is not None:
            self.symmetry.validate(len(self.threads))
        from pagerace.engine.memory import MODELS
        if self.memory not in MODELS:
            raise ValueError(f"unknown memory model {self.memory!r} "
                             f"(known: {', '.join(MODELS)})")

    def properties_of(self, kind: PropertyKind) -> list[Property]:
        return [p for p in self.properties if p.kind == kind]
