"""What a scenario is: named parameters and a function that builds the program to check.

A scenario module defines `SCENARIO = Scenario(...)`: a name, a title, the kernel story
(the module docstring), its parameters (each with its choices, a default, and whether it
is one of the axes of `pagerace matrix`) and `build(params) -> Program`, which writes the
CPUs' programs against the kernel model's public API. The same contract serves the
catalog and a scenario file a kernel developer writes to model their own patch.

Every scenario also takes `memory` (MEMORY_PARAM, added unless the scenario declares its
own): the memory model the program is explored under - "sc" (the default: sequential
consistency, every pinned verdict and count), "tso", "relaxed", or "arch", the scenario's
architecture's own (kernel/memory_model.py: x86 -> tso, arm64 / riscv / loongarch ->
relaxed; "sc" for a scenario without an `arch` parameter). It is not a matrix axis and
is in the resolved parameters only when given.

A definition that cannot be right fails when it is constructed, at import, with a
`ScenarioDefinitionError`: a default outside the parameter's choices, a repeated choice,
a matrix axis without choices, a parameter name declared twice, `matrix_rows` naming no
matrix parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from pagerace.engine.program import Program
from pagerace.kernel.memory_model import MEMORY_CHOICES, resolve_memory


class ParamError(ValueError):
    """An unknown parameter, or a value outside its choices."""


class ScenarioDefinitionError(ValueError):
    """A scenario or parameter that is wrong as written: raised when it is defined."""


@dataclass(frozen=True)
class Param:
    name: str
    default: str
    choices: tuple[str, ...] | None = None  # None: free-form (validated by build)
    help: str = ""
    matrix: bool = False  # an axis of `pagerace matrix`

    def __post_init__(self) -> None:
        if self.choices is not None:
            if self.default not in self.choices:
                raise ScenarioDefinitionError(
                    f"parameter {self.name}: default {self.default!r} is not one of its "
                    f"choices ({', '.join(self.choices)})")
            if len(set(self.choices)) != len(self.choices):
                raise ScenarioDefinitionError(f"parameter {self.name}: a choice repeats")
        elif self.matrix:
            raise ScenarioDefinitionError(
                f"parameter {self.name}: a matrix axis needs its choices")


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    build_program: Callable[[Mapping[str, str]], Program] = field(compare=False)
    params: Sequence[Param] = ()
    story: str = ""
    matrix_rows: str | None = None  # the matrix parameter whose values are the table's rows

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ScenarioDefinitionError(
                f"scenario {self.name}: parameter {', '.join(dup)} is declared twice")
        if self.matrix_rows is not None and self.matrix_rows not in {
                p.name for p in self.params if p.matrix}:
            raise ScenarioDefinitionError(
                f"scenario {self.name}: matrix_rows={self.matrix_rows!r} is not a matrix "
                f"parameter (matrix: "
                f"{', '.join(p.name for p in self.params if p.matrix) or 'none'})")

    @property
    def all_params(self) -> tuple[Param, ...]:
        """The declared parameters, then `memory` unless the scenario declares it."""
        own = tuple(self.params)
        return own if any(p.name == MEMORY for p in own) else own + (MEMORY_PARAM,)

    def param(self, name: str) -> Param:
        for p in self.all_params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.all_params)
        raise ParamError(f"scenario {self.name} has no parameter {name!r} (known: {known})")

    def resolve(self, given: Mapping[str, str]) -> dict[str, str]:
        """Defaults filled in; every value checked against its choices."""
        out = {p.name: p.default for p in self.params}
        for name, value in given.items():
            p = self.param(name)
            if p.choices is not None and value not in p.choices:
                raise ParamError(f"parameter {name}={value!r} is not one of: "
                                 f"{', '.join(p.choices)}")
            out[name] = value
        return out

    def build(self, given: Mapping[str, str]) -> Program:
        params = self.resolve(given)
        declared = any(p.name == MEMORY for p in self.params)
        try:
            prog = self.build_program(params if declared else
                                      {k: v for k, v in params.items() if k != MEMORY})
            if not declared and MEMORY in params:
                prog.memory = resolve_memory(params[MEMORY], params.get("arch"))
        except ParamError:
            raise
        except ValueError as e:
            raise ParamError(str(e)) from None
        prog.name = self.name
        return prog

    def matrix_params(self) -> list[Param]:
        return [p for p in self.params if p.matrix]


MEMORY = "memory"
MEMORY_PARAM = Param(
    MEMORY, "sc", MEMORY_CHOICES,
    "the memory model to explore under - sc: sequential consistency; tso: x86-TSO; "
    "relaxed: ARMv8 / RVWMO without load buffering (docs/memory-models.md); relaxed-nosb: "
    "relaxed without store buffers (no store->store reordering; cheaper); arch: the "
    "architecture's own (x86 -> tso; arm64, riscv, loongarch -> relaxed)")


def parse_assignments(items: Sequence[str]) -> dict[str, str]:
    """`["gen=G0", "arch=x86"]` -> `{"gen": "G0", "arch": "x86"}`."""
    out: dict[str, str] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise ParamError(f"bad parameter {item!r} (expected NAME=VALUE)")
        out[name.strip()] = value.strip()
    return out
