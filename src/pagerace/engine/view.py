"""The state of one execution and the views a step sees of it.

`State` is a plain dict from location to value (missing locations read as the op's
default), shared by all threads: sequentially consistent memory. `StepView` is what an
`Atomic` / `Await` function reads and writes through: it records every location read and
written (the step's footprint) and any notes the step attaches for the trace. A dry-run
view (`commit=False`) buffers writes in an overlay so the footprint of a pending step can
be computed without changing the state.

Ordering annotations (`order=`, `deps=` on `load` / `store` / `update`, and `fence`) are
ignored here: this is the sequentially consistent view. Under a weak memory model the
engine hands the step a subclass (engine/memory/weak_view.py) that routes the same calls
through the model, so an `Atomic` step written against this API runs under every model.

The API a modelled step uses (see docs/memory-models.md):
- `view.load(loc, default, order="once", deps=(pte_loc,))`: `deps` are locations whose
  latest read by this thread the address (or value) of this access was computed from;
- `view.store(loc, value, order="release", deps=(...))`;
- `view.update(loc, fn, default, order="mb")`: an atomic read-modify-write; `fn(old)`
  returns the new value or `NO_WRITE` (a failed cmpxchg); returns the old value;
- `view.fence("mb" | "rmb" | "wmb" | "acquire" | "release")`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

State = dict[Hashable, Any]


class _NoWrite:
    def __repr__(self) -> str:
        return "NO_WRITE"


NO_WRITE: Any = _NoWrite()
"""What an `update` function returns to leave the location unwritten."""


class StepView:
    """Reads and writes of one step, recorded; writes go to the state or to an overlay."""

    __slots__ = ("state", "commit", "overlay", "reads", "writes", "notes", "old", "witnessed")
    weak = False  # True for a weak memory model's view (engine/memory/weak_view.py)

    def __init__(self, state: State, commit: bool) -> None:
        self.state = state
        self.commit = commit
        self.overlay: dict[Hashable, Any] = {}
        self.reads: set[Hashable] = set()
        self.writes: set[Hashable] = set()
        self.notes: list[dict[str, Any]] = []
        # location -> value before this step's first write (for traces)
        self.old: dict[Hashable, Any] = {}
        self.witnessed: list[str] = []

    def load(self, loc: Hashable, default: Any = 0, order: str = "plain",
             deps: tuple[Hashable, ...] = ()) -> Any:
        """Read `loc` (its value as this step has left it so far)."""
        self.reads.add(loc)
        if loc in self.overlay:
            return self.overlay[loc]
        return self.state.get(loc, default)

    def peek(self, loc: Hashable, default: Any = 0) -> Any:
        """Read `loc` without recording it - only for assertions about ghost state that
        must not create dependencies. Never use it to decide what a step does."""
        if loc in self.overlay:
            return self.overlay[loc]
        return self.state.get(loc, default)

    def ghost(self, loc: Hashable, value: Any) -> None:
        """Write the model's own bookkeeping (ghost state, counters of what a check saw):
        a plain store here; under a weak model written at once, never buffered."""
        self.store(loc, value)

    def store(self, loc: Hashable, value: Any, order: str = "plain",
              deps: tuple[Hashable, ...] = ()) -> None:
        """Write `value` to `loc`."""
        if loc not in self.writes:
            self.old[loc] = self.overlay[loc] if loc in self.overlay else self.state.get(loc)
        self.writes.add(loc)
        if self.commit:
            self.state[loc] = value
        else:
            self.overlay[loc] = value

    def update(self, loc: Hashable, fn: Callable[[Any], Any], default: Any = 0,
               order: str = "mb", deps: tuple[Hashable, ...] = ()) -> Any:
        """Atomic read-modify-write of `loc`: store `fn(old)` unless it is `NO_WRITE`;
        return the old value."""
        old = self.load(loc, default)
        new = fn(old)
        if new is not NO_WRITE:
            self.store(loc, new)
        return old

    def fence(self, kind: str = "mb") -> None:
        """A memory barrier: nothing to do under sequential consistency."""

    def witness(self, name: str) -> None:
        """Mark the `sometimes` property `name` as reached by this step (a tracepoint: it
        has no footprint and changes nothing)."""
        self.witnessed.append(name)

    def note(self, text: str, **fields: Any) -> None:
        """Attach a human-readable description (and structured fields) to this step."""
        self.notes.append({"text": text, **fields})
