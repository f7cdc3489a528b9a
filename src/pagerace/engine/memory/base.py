"""The interface every weak memory model implements, and what it is handed.

A model decides what a load returns (which message of the location's history it reads:
a nondeterministic choice the engine explores), what a store, a read-modify-write and a
fence do to the thread's views, and explains each out-of-order choice with a trace note.
It works through a `ModelContext` (the weak step view): the histories of shared locations
(recorded in the step's footprint), the global clock, the thread's private views (not
recorded), `choose(n)` and `note(...)`.

Orders (ops.ORDERS): "plain" and "once" and "relaxed" are unordered accesses; "acquire"
loads and "release" stores; "mb" is a fully ordered value-returning RMW (the kernel's
xchg, cmpxchg, atomic_*_return: smp_mb() before and after when it writes); "ghost" is the
model's own bookkeeping (written at once, never buffered, ordering nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Protocol

from pagerace.engine.memory.history import Msg


class ModelContext(Protocol):
    thread: int
    scratch: dict[str, Any]  # the model's notes about the current step (reset per step)

    def hist(self, loc: Hashable) -> tuple[Msg, ...]: ...
    def append(self, loc: Hashable, value: Any) -> int: ...
    def buffer_read(self, loc: Hashable) -> None: ...
    def buffer_write(self, loc: Hashable) -> None: ...
    def tstate(self, initial: Any) -> Any: ...
    def set_tstate(self, value: Any) -> None: ...
    def choose(self, n: int) -> int: ...
    def note(self, text: str, **fields: Any) -> None: ...


class MemoryModel:
    """Base class; `name` is what `Program.memory` selects."""

    name = "model"
    follows = ""  # the published model it follows

    def initial(self) -> Any:
        """A thread's views before its first step."""
        raise NotImplementedError

    def load(self, cx: ModelContext, loc: Hashable, default: Any, order: str,
             deps: tuple[Hashable, ...]) -> Any:
        raise NotImplementedError

    def store(self, cx: ModelContext, loc: Hashable, value: Any, order: str,
              deps: tuple[Hashable, ...]) -> None:
        raise NotImplementedError

    def update(self, cx: ModelContext, loc: Hashable, fn: Callable[[Any], Any],
               default: Any, order: str, deps: tuple[Hashable, ...]) -> Any:
        raise NotImplementedError

    def fence(self, cx: ModelContext, kind: str) -> None:
        raise NotImplementedError

    # -- a model with store buffers (storebuffer.py) overrides these -------------------
    def drainable(self, tstate: Any) -> list[int]:
        """Entries of the thread's store buffer that may drain next (none: no buffer)."""
        return []

    def drain(self, cx: ModelContext, entry: int) -> str:
        """Make buffered entry `entry` visible; return the drain step's label."""
        raise NotImplementedError

    def forwarded(self, tstate: Any, loc: Hashable) -> tuple[bool, Any]:
        """(True, value) when the thread has a buffered store to `loc`."""
        return False, None


def loc_name(loc: Hashable) -> str:
    if isinstance(loc, tuple):
        return ":".join(str(x) for x in loc)
    return str(loc)
