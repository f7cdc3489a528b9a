"""The syntax tree of a C litmus test (herd7's C dialect, as LKMM's tests use it).

Expressions: `Num`, `Name` (a local, or a shared variable used as a pointer), `Unary`
(`*` dereference, `&` address-of, `!`, `-`, `~`), `Binary`, `Call` (a kernel primitive).
Statements: `Decl` (a local with an optional initialiser), `Assign` (to a local, or `*p =`
a plain store), `ExprStmt`, `If`, `Block`. A `Test` holds the init block, the processes,
and the final condition (`exists` / `~exists` / `forall`, an optional `filter` and
`locations`). Conditions: `Cmp` (a `P:reg` or shared location against a value), `Not`,
`And`, `Or`, `Const`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Num:
    value: int


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Unary:
    op: str
    arg: Expr


@dataclass(frozen=True)
class Binary:
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Call:
    fn: str
    args: tuple[Expr, ...]


Expr = Num | Name | Unary | Binary | Call


@dataclass(frozen=True)
class Decl:
    name: str
    init: Expr | None


@dataclass(frozen=True)
class Assign:
    target: Expr  # Name (a local) or Unary("*", ...) (a plain store)
    value: Expr


@dataclass(frozen=True)
class ExprStmt:
    expr: Expr


@dataclass(frozen=True)
class If:
    cond: Expr
    then: Stmt
    other: Stmt | None


@dataclass(frozen=True)
class Block:
    body: tuple[Stmt, ...]


Stmt = Decl | Assign | ExprStmt | If | Block


@dataclass(frozen=True)
class Proc:
    index: int
    params: tuple[str, ...]
    body: Block


@dataclass(frozen=True)
class Cmp:
    thread: int | None  # None: a shared location
    name: str
    value: int | str  # an int, or the name of a location (a pointer value)
    negated: bool = False


@dataclass(frozen=True)
class Not:
    arg: Cond


@dataclass(frozen=True)
class And:
    left: Cond
    right: Cond


@dataclass(frozen=True)
class Or:
    left: Cond
    right: Cond


@dataclass(frozen=True)
class Const:
    value: bool


Cond = Cmp | Not | And | Or | Const


@dataclass
class Test:
    name: str
    init: dict[str, int | str] = field(default_factory=dict)  # shared location -> value
    reg_init: dict[tuple[int, str], int | str] = field(default_factory=dict)
    procs: list[Proc] = field(default_factory=list)
    quantifier: str = "exists"  # "exists" | "~exists" | "forall"
    cond: Cond = field(default_factory=lambda: Const(True))
    filter: Cond | None = None
    locations: list[tuple[int | None, str]] = field(default_factory=list)
    expected: str | None = None  # the `Result:` line of the test's comment, if any
