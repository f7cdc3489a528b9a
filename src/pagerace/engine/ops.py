"""The only things a simulated thread may yield: frozen operation types.

A thread is a generator function. Every `yield` hands the engine one op; the engine
performs it as one atomic step (one scheduling point) and sends the op's result back into
the generator. Each op declares its footprint - the locations it reads and writes - so the
explorer can tell which steps commute:

- `Load`, `Store`, `CompareExchange`, `FetchAdd` touch one location and declare it
  statically.
- `Atomic` is a multi-location atomic step written as a function of a `StepView`
  (`view.load`, `view.store`); its footprint is declared by running the function on a
  recording overlay of the state that is then thrown away (see `footprint.py`). Use it for
  a read-modify-write or an access that translates an address through a page table.
- `Await` is the only blocking op: it is enabled when its predicate over the state holds;
  its footprint is the locations the predicate reads.
- `Choose` is a thread-local nondeterministic choice of 0..n-1 (empty footprint).
- `Fence` is a memory barrier (smp_mb, smp_rmb, smp_wmb, ...): a no-op under sequential
  consistency, an update of the thread's views under a weak memory model (empty footprint).

Ordering annotations: `Load`, `Store`, `CompareExchange` and `FetchAdd` carry an `order`
(one of `ORDERS`: "plain", "once", "relaxed", "acquire", "release", "mb" for a fully ordered
value-returning RMW) and `deps`, the locations whose latest read by this thread the access
depends on (an address or data dependency). Under "sc" (the default memory model) both are
ignored, so today's behaviour and execution counts are unchanged; a weak model
(engine/memory/) interprets them.

An op with `outcomes > 1` is nondeterministic: the engine explores every outcome whose
effects differ (used for "the architecture permits, but does not require, a write").

Locations are opaque hashable keys (tuples of str / int); the engine knows nothing about
what they mean. Values must be immutable (int, bool, str, None, tuples of those).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pagerace.engine.view import StepView

Loc = Hashable
Deps = tuple[Hashable, ...]

ORDERS = ("plain", "once", "relaxed", "acquire", "release", "mb")
FENCES = ("mb", "rmb", "wmb", "acquire", "release")


@dataclass(frozen=True)
class Load:
    """Read one location (atomic)."""

    loc: Loc
    label: str = "load"
    default: Any = 0
    order: str = "plain"
    deps: Deps = ()


@dataclass(frozen=True)
class Store:
    """Write one location (atomic)."""

    loc: Loc
    value: Any
    label: str = "store"
    order: str = "plain"
    deps: Deps = ()


@dataclass(frozen=True)
class CompareExchange:
    """Atomic compare-and-swap of one location; returns the old value.

    Writes only when the compare succeeds (the generic, LL/SC-like semantics; the kernel
    model expresses architecture-specific write cycles with `Atomic`).
    """

    loc: Loc
    expected: Any
    new: Any
    label: str = "cmpxchg"
    default: Any = 0
    order: str = "mb"
    deps: Deps = ()


@dataclass(frozen=True)
class FetchAdd:
    """Atomic add to one location; returns the old value."""

    loc: Loc
    delta: int
    label: str = "fetch_add"
    default: Any = 0
    order: str = "mb"
    deps: Deps = ()


@dataclass(frozen=True)
class Atomic:
    """A multi-location atomic step: `fn(view, outcome)` reads and writes through `view`.

    `outcomes` > 1 makes the step nondeterministic; `fn` receives 0..outcomes-1.
    `fn` may raise `Violation` to report what the step hits (an oops, a WARN, ...).
    """

    fn: Callable[[StepView, int], Any] = field(compare=False)
    label: str = "atomic"
    outcomes: int = 1


@dataclass(frozen=True)
class Await:
    """Block until `pred(view)` holds; then take one step that returns None."""

    pred: Callable[[StepView], bool] = field(compare=False)
    label: str = "await"


@dataclass(frozen=True)
class Choose:
    """A thread-local nondeterministic choice: returns one of 0..n-1, each explored."""

    n: int
    label: str = "choose"


@dataclass(frozen=True)
class Fence:
    """A memory barrier of one of `FENCES` (a no-op under sequential consistency)."""

    kind: str = "mb"
    label: str = "fence"


Op = Load | Store | CompareExchange | FetchAdd | Atomic | Await | Choose | Fence
OP_TYPES = (Load, Store, CompareExchange, FetchAdd, Atomic, Await, Choose, Fence)
