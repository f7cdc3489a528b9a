"""A memo of `Atomic` steps for the stateful search: a step that runs again from the same
program point on the same values is re-applied from its recorded effects.

Thread bodies are deterministic functions of their histories (determinism.py), so the op
a thread has pending is a function of its history, and an `Atomic` op's function is a
function of the values it reads: given the same values at every location it reads, it
reads the same locations, writes the same values, returns the same result and attaches
the same notes. The stateful search runs the same step from many states (the same point
of the vmemmap modifier with the walkers elsewhere), so the memo keys a step by (thread,
history id, outcome) and records, the first time, every location the step read -
including those it only `peek`ed for an assertion, which can decide whether it raises a
violation - with the value it found there, and what it wrote. Next time, if each of those
locations holds an identical value (or one with an equal type-tagged encoding, so `True`
and `1` stay apart) and is present or absent as before, the effects are re-applied instead
of running the function; otherwise the step runs and its record replaces the old one.
The record also keeps the canonical item ids the step leaves (canonical.py), so a
re-applied step is not re-tagged either. A dry run (the footprint of a pending step, run
on an overlay) is recorded the same way: the step it previews is then re-applied, and a
later footprint of the same step on the same values is read off the record.

On the real geometry this is what makes prep_compound_page()'s 511-descriptor step cheap:
comparing its ~1,500 values is several times faster than running its model code.

Exact under "sc", where a step's effect on the state is its writes (the stateful search
supports no other model). Not recorded: a step that raised a violation (it runs again,
so the report is the real one).

A re-applied step sends its recorded result into the thread, so the executions that
re-apply one step share that result object: a thread body must not mutate a result it
receives (none does; DPOR's replay of recorded effects shares them the same way).

Leaves out: simple ops (a Load, a Store: running them is as cheap as checking them).
"""

from __future__ import annotations

from collections.abc import Hashable
from itertools import repeat
from operator import is_
from typing import Any, NamedTuple

from pagerace.engine.statekey import tag
from pagerace.engine.view import State, StepView

MISSING: Any = object()


class RecordingView(StepView):
    """A committing `StepView` that also records the locations it peeked and those it
    wrote that held nothing before (`old` says `None` for them)."""

    __slots__ = ("peeked", "absent")

    def __init__(self, state: State, commit: bool = True) -> None:
        super().__init__(state, commit)
        self.peeked: set[Hashable] = set()
        self.absent: set[Hashable] = set()

    def peek(self, loc: Hashable, default: Any = 0) -> Any:
        self.peeked.add(loc)
        return super().peek(loc, default)

    def store(self, loc: Hashable, value: Any, order: str = "plain",
              deps: tuple[Hashable, ...] = ()) -> None:
        if loc not in self.writes and loc not in self.state:
            self.absent.add(loc)
        super().store(loc, value, order, deps)


class Record(NamedTuple):
    locs: tuple[Hashable, ...]  # every location the step read or peeked
    vals: list[Any]  # what each held before the step (MISSING: absent)
    effects: dict[Hashable, Any]
    label: str
    fp: tuple[frozenset[Hashable], frozenset[Hashable]]
    result: Any
    notes: list[dict[str, Any]]
    old: dict[Hashable, Any]
    witnessed: tuple[str, ...]
    pairs: tuple[tuple[Hashable, int], ...]  # canonical.py: the item ids it leaves


def record(view: RecordingView, state: State, label: str, result: Any,
           effects: dict[Hashable, Any], pairs: tuple[tuple[Hashable, int], ...]
           ) -> Record:
    """The record of a step that just ran through `view` on `state` (after it when the
    view committed, unchanged when it was a dry run)."""
    locs = tuple(view.reads | view.peeked)
    old = view.old
    if view.commit:
        absent = view.absent
        vals = [(MISSING if loc in absent else old[loc]) if loc in old
                else state.get(loc, MISSING) for loc in locs]
    else:
        vals = [state.get(loc, MISSING) for loc in locs]
    return Record(locs, vals, effects, label, (frozenset(view.reads), frozenset(view.writes)),
                  result, view.notes, dict(old), tuple(view.witnessed), pairs)


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if a is MISSING or b is MISSING:
        return False
    try:
        return bool(tag(a) == tag(b))
    except TypeError:
        return False


def valid(rec: Record, state: State) -> bool:
    """Whether `state` holds what `rec`'s step found (so it would run the same again)."""
    now = list(map(state.get, rec.locs, repeat(MISSING)))
    if all(map(is_, now, rec.vals)):
        return True
    return all(map(_same, now, rec.vals))
