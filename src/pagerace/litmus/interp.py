"""A litmus test as an engine `Program`: each process a generator interpreting its body.

A local holds a value and the set of shared locations it was computed from (its
dependencies): the address of an access through it is an address dependency, the value
stored from it a data dependency (`deps=` on the op). Pointers are values `("&", name)`;
a shared variable named as a parameter is a pointer to itself. Control dependencies order
nothing (see engine/memory/promising.py). Each process returns its locals as sorted
(name, value) pairs; the shared variables' final values are the newest ones.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from pagerace.engine.ops import CompareExchange, Fence, Load, Op, Store
from pagerace.engine.program import Program, ThreadSpec
from pagerace.engine.view import NO_WRITE
from pagerace.litmus import primitives as pr
from pagerace.litmus.parse import LitmusError
from pagerace.litmus.syntax import (
    Assign,
    Binary,
    Block,
    Call,
    Decl,
    Expr,
    ExprStmt,
    If,
    Name,
    Num,
    Proc,
    Stmt,
    Test,
    Unary,
)

Val = tuple[Any, frozenset[str]]  # a value and the shared locations it depends on
Gen = Generator[Op, Any, Any]

BINOPS: dict[str, Any] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a // b if b else 0, "%": lambda a, b: a % b if b else 0,
    "&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b,
    "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b,
    "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b), ">": lambda a, b: int(a > b),
    "<=": lambda a, b: int(a <= b), ">=": lambda a, b: int(a >= b),
    "&&": lambda a, b: int(bool(a) and bool(b)), "||": lambda a, b: int(bool(a) or bool(b)),
}


PTR_LAST = {"atomic_add", "atomic_sub", "atomic_or", "atomic_and", "atomic_xor",
            "atomic_andnot", "atomic_add_return", "atomic_sub_return", "atomic_fetch_add",
            "atomic_fetch_sub", "atomic_fetch_or", "atomic_fetch_and", "atomic_fetch_xor",
            "atomic_fetch_andnot", "atomic_sub_and_test", "atomic_add_negative"}


def rcu_nest(i: int, domain: str = "rcu") -> tuple[str, str, int]:
    return ("rcu", domain, i)


class Process:
    """Interprets one process of a test."""

    def __init__(self, test: Test, proc: Proc, shared: set[str]) -> None:
        self.test = test
        self.proc = proc
        self.shared = shared
        self.locals: dict[str, Val] = {}
        self.depth: dict[str, int] = {}
        for (t, name), v in test.reg_init.items():
            if t == proc.index:
                self.locals[name] = (("&", v) if isinstance(v, str) else v, frozenset())

    def run(self) -> Gen:
        yield from self.stmt(self.proc.body)
        return tuple(sorted((k, v[0]) for k, v in self.locals.items()))

    # -- statements ------------------------------------------------------------------
    def stmt(self, s: Stmt) -> Gen:
        if isinstance(s, Block):
            for x in s.body:
                yield from self.stmt(x)
        elif isinstance(s, Decl):
            self.locals[s.name] = (0, frozenset()) if s.init is None \
                else (yield from self.expr(s.init))
        elif isinstance(s, Assign):
            val = yield from self.expr(s.value)
            if isinstance(s.target, Name):
                if s.target.name in self.shared and s.target.name not in self.locals:
                    raise LitmusError(f"assignment to the pointer {s.target.name}")
                self.locals[s.target.name] = val
            else:
                assert isinstance(s.target, Unary)
                loc, adeps = yield from self.addr(s.target.arg)
                yield Store(loc, val[0], "store", order="plain",
                            deps=tuple(sorted(adeps | val[1])))
        elif isinstance(s, ExprStmt):
            yield from self.expr(s.expr)
        elif isinstance(s, If):
            c = yield from self.expr(s.cond)
            if c[0]:
                yield from self.stmt(s.then)
            elif s.other is not None:
                yield from self.stmt(s.other)

    # -- expressions -------------------------------------------------------------------
    def addr(self, e: Expr) -> Generator[Op, Any, tuple[str, frozenset[str]]]:
        """The shared location a pointer expression points to, and its dependencies."""
        if isinstance(e, Unary) and e.op == "*":  # READ_ONCE(*x): the argument is *x
            e = e.arg
        v, deps = yield from self.expr(e)
        if not (isinstance(v, tuple) and len(v) == 2 and v[0] == "&"):
            raise LitmusError(f"process {self.proc.index} dereferences a non-pointer {v!r}")
        return str(v[1]), deps

    def expr(self, e: Expr) -> Generator[Op, Any, Val]:
        if isinstance(e, Num):
            return e.value, frozenset()
        if isinstance(e, Name):
            if e.name in self.locals:
                return self.locals[e.name]
            if e.name in self.shared:
                return ("&", e.name), frozenset()
            raise LitmusError(f"process {self.proc.index}: unknown name {e.name!r}")
        if isinstance(e, Unary):
            if e.op == "*":
                loc, deps = yield from self.addr(e.arg)
                v = yield Load(loc, "load", order="plain", deps=tuple(sorted(deps)))
                return v, deps | {loc}
            if e.op == "&":
                if isinstance(e.arg, Name) and e.arg.name in self.shared:
                    return ("&", e.arg.name), frozenset()
                raise LitmusError("unsupported use of '&'")
            v, deps = yield from self.expr(e.arg)
            if e.op == "!":
                return int(not v), deps
            if e.op == "-":
                return -v, deps
            return ~v, deps
        if isinstance(e, Binary):
            a, da = yield from self.expr(e.left)
            b, db = yield from self.expr(e.right)
            try:
                return BINOPS[e.op](a, b), da | db
            except TypeError:
                if e.op in ("==", "!="):
                    return BINOPS[e.op](a, b), da | db
                raise LitmusError(f"cannot compute {a!r} {e.op} {b!r}") from None
        assert isinstance(e, Call)
        return (yield from self.call(e))

    def args(self, e: Call, n: int) -> Generator[Op, Any, list[Val]]:
        if len(e.args) != n:
            raise LitmusError(f"{e.fn} takes {n} argument(s), not {len(e.args)}")
        out = []
        for a in e.args:
            out.append((yield from self.expr(a)))
        return out

    def call(self, e: Call) -> Generator[Op, Any, Val]:
        fn = e.fn
        none: Val = (0, frozenset())
        if fn == "?:":
            c = yield from self.expr(e.args[0])
            return (yield from self.expr(e.args[1] if c[0] else e.args[2]))
        if fn in pr.FENCE_CALLS:
            yield Fence(pr.FENCE_CALLS[fn], fn)
            return none
        loads = {"READ_ONCE": "once", "smp_load_acquire": "acquire",
                 "rcu_dereference": "once", "atomic_read": "once",
                 "atomic_read_acquire": "acquire", "srcu_dereference": "once",
                 "rcu_access_pointer": "once", "lockless_dereference": "once"}
        stores = {"WRITE_ONCE": "once", "smp_store_release": "release",
                  "rcu_assign_pointer": "release", "atomic_set": "once",
                  "atomic_set_release": "release", "smp_store_mb": "mb"}
        if fn in loads:
            loc, deps = yield from self.addr(e.args[0])
            v = yield Load(loc, fn, order=loads[fn], deps=tuple(sorted(deps)))
            return v, deps | {loc}
        if fn in stores:
            if len(e.args) != 2:
                raise LitmusError(f"{fn} takes 2 arguments")
            loc, deps = yield from self.addr(e.args[0])
            val, vdeps = yield from self.expr(e.args[1])
            yield Store(loc, val, fn, order=stores[fn], deps=tuple(sorted(deps | vdeps)))
            if fn == "smp_store_mb":
                yield Fence("mb", fn)
            return none
        if fn in ("spin_lock", "spin_unlock", "spin_trylock", "spin_is_locked"):
            loc, _ = yield from self.addr(e.args[0])
            if fn == "spin_lock":
                yield from pr.spin_lock(loc)
            elif fn == "spin_unlock":
                yield from pr.spin_unlock(loc)
            elif fn == "spin_trylock":
                old = yield CompareExchange(loc, 0, 1, fn, order="acquire")
                return int(old == 0), frozenset({loc})
            else:
                v = yield Load(loc, fn, order="once")
                return int(v != 0), frozenset({loc})
            return none
        rcu = {"rcu_read_lock": 1, "rcu_read_unlock": -1, "srcu_read_lock": 1,
               "srcu_read_unlock": -1, "srcu_down_read": 1, "srcu_up_read": -1}
        if fn in rcu:
            domain = "rcu"
            if fn.startswith("srcu"):
                domain, _ = yield from self.addr(e.args[0])
            nest = rcu_nest(self.proc.index, domain)
            d = self.depth.get(domain, 0)
            if rcu[fn] > 0:
                yield from pr.rcu_read_lock(nest, d, fn)
            else:
                yield from pr.rcu_read_unlock(nest, d, fn)
            self.depth[domain] = d + rcu[fn]
            return none
        if fn in ("synchronize_rcu", "synchronize_rcu_expedited", "synchronize_srcu",
                  "synchronize_srcu_expedited"):
            domain = "rcu"
            if fn.startswith("synchronize_srcu"):
                domain, _ = yield from self.addr(e.args[0])
            others = [rcu_nest(p.index, domain) for p in self.test.procs
                      if p.index != self.proc.index]
            yield from pr.synchronize(others, fn)
            return none
        return (yield from self.atomic(e))

    def atomic(self, e: Call) -> Generator[Op, Any, Val]:
        base, order = pr.split_order(e.fn, "mb")
        if base in ("cmpxchg", "atomic_cmpxchg"):
            loc, deps = yield from self.addr(e.args[0])
            (old, d1), (new, d2) = yield from self.args(Call(e.fn, e.args[1:]), 2)
            dd = tuple(sorted(deps | d1 | d2))
            v = yield pr.rmw_step(loc, lambda o: (new if o == old else NO_WRITE, o), order,
                                  dd, e.fn)
            return v, deps | d1 | d2 | {loc}
        spec = pr.rmw_op(base)
        void = pr.VOID_RMW.get(base)
        test = pr.TEST_RMW.get(base)
        if spec is None and void is None and test is None:
            raise LitmusError(f"unsupported primitive {e.fn}()")
        if not e.args:
            raise LitmusError(f"{e.fn} needs an argument")
        ptr_first = base not in PTR_LAST
        ptr = e.args[0] if ptr_first else e.args[-1]
        rest = e.args[1:] if ptr_first else e.args[:-1]
        loc, deps = yield from self.addr(ptr)
        vals = []
        vdeps = deps
        for a in rest:
            v, d = yield from self.expr(a)
            vals.append(v)
            vdeps = vdeps | d
        dd = tuple(sorted(vdeps))
        if void is not None:
            f = void
            yield pr.rmw_step(loc, lambda o: (f(o, vals), o), "relaxed" if order == "mb"
                              else order, dd, e.fn)
            return 0, frozenset()
        if test is not None:
            g = test
            r = yield pr.rmw_step(loc, lambda o: g(o, vals), order, dd, e.fn)
            return r, vdeps | {loc}
        assert spec is not None
        h, returns_new, _n = spec
        r = yield pr.rmw_step(loc, lambda o: (h(o, vals), h(o, vals) if returns_new else o),
                              order, dd, e.fn)
        return r, vdeps | {loc}


def build(test: Test, memory: str) -> Program:
    """The engine program of `test` under `memory`: shared variables start at their init
    values (0 if not given), RCU nesting counters at 0."""
    shared = set(test.init)
    for p in test.procs:
        shared.update(p.params)
    initial: dict[Any, Any] = {}
    for name in sorted(shared):
        v = test.init.get(name, 0)
        initial[name] = ("&", v) if isinstance(v, str) else v
    threads = []
    for p in test.procs:
        threads.append(ThreadSpec(f"P{p.index}", _body(test, p, shared)))
    return Program(threads, initial, name=test.name, memory=memory)


def _body(test: Test, proc: Proc, shared: set[str]) -> Any:
    def body() -> Gen:
        return (yield from Process(test, proc, shared).run())
    return body
