"""Tracepoints: named markers of a reached window, as instruments.

A `Tracepoint` is an engine instrument (engine/instrument.py): after every step it looks
at the step's descriptor-access notes (descriptor.py) and witnesses the `sometimes`
property of its name in the step of the first access that matches every given criterion
(None / ANY = any): the CPU, the pfn, the field, the access kind ("read", "write", "rmw",
"cmpxchg"), the value (read; written for a write; the old value for a rmw; found for a
cmpxchg), the permission, and whether the vmemmap page still has its boot mapping. It
writes no state, so it adds no footprint and no step. A scenario passes it to its
Program (`instruments=`) and declares the property with `sometimes(tp)`.

Like the kernel's tracepoints it observes and never changes what the code does. Leaves
out: matching on the kernel function name (the label says it; no check needs it yet).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pagerace.engine.instrument import Instrument, StepContext
from pagerace.engine.program import Property
from pagerace.kernel.vmemmap import pte_loc


class _Any:
    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Any()


def access_notes(notes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The descriptor accesses a step's notes describe (batched stores included)."""
    for note in notes:
        if "field" in note and "perm" in note:
            yield note
        yield from note.get("accesses", ())


@dataclass(frozen=True)
class Tracepoint(Instrument):
    name: str = "tracepoint"
    cpu: int | None = None
    pfn: int | None = None
    field: str | None = None
    access: str | None = None
    value: Any = ANY
    perm: str | None = None
    boot_mapping: bool | None = None

    def matches(self, note: Mapping[str, Any], state: Mapping[Hashable, Any]) -> bool:
        if self.cpu is not None and self.cpu != note.get("cpu"):
            return False
        if self.pfn is not None and self.pfn != note.get("pfn"):
            return False
        if self.field is not None and self.field != note.get("field"):
            return False
        if self.access is not None and self.access != note.get("access"):
            return False
        if self.value is not ANY and ("value" not in note or note["value"] != self.value):
            return False
        if self.perm is not None and self.perm != note.get("perm"):
            return False
        if self.boot_mapping is not None:
            boot = state.get(pte_loc(int(note["vpage"]))) is None
            if boot != self.boot_mapping:
                return False
        return True

    def after_step(self, ctx: StepContext) -> None:
        if any(self.matches(n, ctx.state) for n in access_notes(ctx.event.notes)):
            ctx.witness(self.name)

    def sometimes(self, message: str = "") -> Property:
        """The `sometimes` property this tracepoint witnesses (its own check never holds:
        only the witness reaches it)."""
        return Property(self.name, "sometimes", _never, message)


def _never(state: Mapping[Hashable, Any]) -> bool:
    return False
