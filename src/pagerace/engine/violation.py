"""Typed violations: what an execution can hit.

A step, a thread's own code, or a property raises `Violation(kind, message)`; the engine
records it and ends that execution. Kinds are free-form strings chosen by the layer above
(the kernel model uses "oops", "warn", "bug", ...); the engine itself reports:

- `deadlock`: every live thread is blocked in an `Await`;
- `step-bound`: a thread took more steps than the per-thread bound (an unbounded loop);
- `exception`: a thread raised a Python exception that is not a `Violation` (a model bug,
  reported with its type and message rather than crashing the explorer);
- `property`: an `always` or `at_end` property returned False.
"""

from __future__ import annotations

from dataclasses import dataclass

DEADLOCK = "deadlock"
STEP_BOUND = "step-bound"
EXCEPTION = "exception"
PROPERTY = "property"


class Violation(Exception):
    """Raised inside a step or a thread to report a violation of kind `kind`."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message

    def record(self) -> ViolationRecord:
        return ViolationRecord(self.kind, self.message)


@dataclass(frozen=True)
class ViolationRecord:
    """A violation as results carry it: kind + message."""

    kind: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}
