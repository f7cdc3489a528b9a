"""The step view a thread's step sees under a weak memory model.

`WeakStepView` is a `StepView` whose `load` / `store` / `update` / `fence` go through the
memory model instead of reading and writing plain values. The same `Atomic` step function
therefore runs under every model. It records the footprint in terms of shared locations
(a load reads its location's history, a store reads and writes it and the global clock;
the thread's own views are not recorded: no other thread touches them), and keeps `old`
as the newest value before the step's first write, so traces show values, not histories.

The choices a step makes (which message each load reads) come from a `Chooser`: when
exploring alternatives it records each choice point's arity and replays a prefix (see
choices.py); when committing a step it replays the chosen alternative exactly.

`peek` and `Await` predicates read the newest message (an awaiting CPU eventually sees the
newest value; it is not an ordering point).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from pagerace.engine.memory.base import MemoryModel
from pagerace.engine.memory.history import (
    CLOCK,
    UNSET,
    Msg,
    buffer_key,
    initial_history,
    thread_key,
)
from pagerace.engine.view import State, StepView


class Chooser:
    """Replays `path` and then picks 0, recording the arity of every choice point."""

    __slots__ = ("path", "arities", "pos")

    def __init__(self, path: tuple[int, ...] = ()) -> None:
        self.path = path
        self.arities: list[int] = []
        self.pos = 0

    def choose(self, n: int) -> int:
        i = self.pos
        self.pos += 1
        self.arities.append(n)
        if i < len(self.path):
            c = self.path[i]
            if not 0 <= c < n:
                raise RuntimeError("a replayed memory-model choice no longer fits")
            return c
        return 0

    def taken(self) -> tuple[int, ...]:
        return self.path + (0,) * (len(self.arities) - len(self.path))


class WeakStepView(StepView):
    """A step's view of the state under `model`, as thread `thread`."""

    __slots__ = ("model", "thread", "chooser", "scratch")
    weak = True

    def __init__(self, state: State, commit: bool, model: MemoryModel, thread: int,
                 chooser: Chooser | None = None) -> None:
        super().__init__(state, commit)
        self.model = model
        self.thread = thread
        self.chooser = chooser or Chooser()
        self.scratch: dict[str, Any] = {}

    # -- raw access for the model ----------------------------------------------------
    def _raw(self, key: Hashable, default: Any) -> Any:
        if key in self.overlay:
            return self.overlay[key]
        return self.state.get(key, default)

    def _put(self, key: Hashable, value: Any) -> None:
        if self.commit:
            self.state[key] = value
        else:
            self.overlay[key] = value

    def hist(self, loc: Hashable) -> tuple[Msg, ...]:
        self.reads.add(loc)
        h: tuple[Msg, ...] = self._raw(loc, initial_history(UNSET))
        return h

    def append(self, loc: Hashable, value: Any) -> int:
        """Append a message to `loc`'s history at a fresh global timestamp; return it."""
        self.reads.add(CLOCK)
        self.writes.add(CLOCK)
        ts = int(self._raw(CLOCK, 0)) + 1
        self._put(CLOCK, ts)
        h = self.hist(loc)
        if loc not in self.writes:
            self.old[loc] = None if h[-1].value == UNSET else h[-1].value
        self.writes.add(loc)
        self._put(loc, h + (Msg(ts, value, self.thread),))
        return ts

    def buffer_read(self, loc: Hashable) -> None:
        """Record that the step read this thread's buffered store to `loc` (forwarding)."""
        self.reads.add(buffer_key(self.thread, loc))

    def buffer_write(self, loc: Hashable) -> None:
        """Record that the step drained this thread's buffered store to `loc` (the key is
        written into the state too, with a constant, so that every written location of a
        footprint is one of the state's)."""
        key = buffer_key(self.thread, loc)
        self.writes.add(key)
        self._put(key, True)

    def tstate(self, initial: Any) -> Any:
        return self._raw(thread_key(self.thread), initial)

    def set_tstate(self, value: Any) -> None:
        self._put(thread_key(self.thread), value)

    def choose(self, n: int) -> int:
        return 0 if n <= 1 else self.chooser.choose(n)

    # -- the StepView API --------------------------------------------------------------
    def load(self, loc: Hashable, default: Any = 0, order: str = "plain",
             deps: tuple[Hashable, ...] = ()) -> Any:
        return self.model.load(self, loc, default, order, tuple(deps))

    def peek(self, loc: Hashable, default: Any = 0) -> Any:
        buffered, value = self.model.forwarded(self.tstate(None), loc)
        if buffered:  # this CPU's own store, not yet visible to others
            return value
        h: tuple[Msg, ...] = self._raw(loc, initial_history(UNSET))
        v = h[-1].value
        return default if v == UNSET else v

    def newest(self, loc: Hashable, default: Any = 0) -> Any:
        """The newest value of `loc`, recorded as a read (for `Await` predicates)."""
        h = self.hist(loc)
        v = h[-1].value
        return default if v == UNSET else v

    def store(self, loc: Hashable, value: Any, order: str = "plain",
              deps: tuple[Hashable, ...] = ()) -> None:
        self.model.store(self, loc, value, order, tuple(deps))

    def ghost(self, loc: Hashable, value: Any) -> None:
        self.model.store(self, loc, value, "ghost", ())

    def update(self, loc: Hashable, fn: Callable[[Any], Any], default: Any = 0,
               order: str = "mb", deps: tuple[Hashable, ...] = ()) -> Any:
        return self.model.update(self, loc, fn, default, order, tuple(deps))

    def fence(self, kind: str = "mb") -> None:
        self.model.fence(self, kind)


class AwaitView(WeakStepView):
    """What an `Await` predicate sees: every load reads the newest message."""

    __slots__ = ()

    def load(self, loc: Hashable, default: Any = 0, order: str = "plain",
             deps: tuple[Hashable, ...] = ()) -> Any:
        return self.newest(loc, default)
