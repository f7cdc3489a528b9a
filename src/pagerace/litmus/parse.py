"""A parser for herd7's C litmus format: one clear `LitmusError` for what it cannot read.

Reads the `C name` line, the comment's `Result: Never|Sometimes|Always` (LKMM's answer),
the init block (`x=1;`, `int *p = &x;`, `atomic_t v = ATOMIC_INIT(1);`, `spinlock_t l;`,
`0:r1=2;`), the processes `Pn(params) { ... }` (declarations, assignments, calls,
if/else, blocks; C expressions with C precedence) and the final `locations [...]`,
`filter (...)` and `exists` / `~exists` / `forall` condition. Loops, gotos, arrays,
structs and function definitions other than Pn are not part of the format LKMM uses and
are rejected.
"""

from __future__ import annotations

import re

from pagerace.litmus.syntax import (
    And,
    Assign,
    Binary,
    Block,
    Call,
    Cmp,
    Cond,
    Const,
    Decl,
    Expr,
    ExprStmt,
    If,
    Name,
    Not,
    Num,
    Or,
    Proc,
    Stmt,
    Test,
    Unary,
)


class LitmusError(Exception):
    """A litmus file pagerace cannot read (one line)."""


TYPES = {"int", "intptr_t", "unsigned", "long", "spinlock_t", "atomic_t", "char", "u32",
         "u64", "uintptr_t", "short", "signed", "const", "volatile", "struct",
         "atomic_long_t", "bool", "_Bool", "size_t", "void"}
TOKEN = re.compile(r"\s*(?:(0x[0-9a-fA-F]+|\d+)|([A-Za-z_][A-Za-z_0-9]*)|"
                   r"(/\\|\\/|==|!=|<=|>=|&&|\|\||<<|>>|[-+*/%&|^!~<>=(){};,:\[\]?.]))")
BIN_PREC = [("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", ">", "<=", ">="),
            ("<<", ">>"), ("+", "-"), ("*", "/", "%")]


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise LitmusError(f"unexpected character {text[pos:].strip()[0]!r}")
        out.append(m.group(m.lastindex or 0))
        pos = m.end()
    return out


def _strip_comments(text: str) -> tuple[str, str]:
    """The text without comments, and the comments' text."""
    comments: list[str] = []

    def keep(m: re.Match[str]) -> str:
        comments.append(m.group(0))
        return " "
    text = re.sub(r"\(\*(?![A-Za-z_(]).*?\*\)", keep, text, flags=re.S)
    text = re.sub(r"/\*.*?\*/", keep, text, flags=re.S)
    text = re.sub(r"//[^\n]*", keep, text)
    return text, "\n".join(comments)


class _Parser:
    def __init__(self, toks: list[str]) -> None:
        self.t = toks
        self.i = 0

    def peek(self, k: int = 0) -> str | None:
        return self.t[self.i + k] if self.i + k < len(self.t) else None

    def next(self) -> str:
        if self.i >= len(self.t):
            raise LitmusError("unexpected end of file")
        tok = self.t[self.i]
        self.i += 1
        return tok

    def expect(self, tok: str) -> None:
        got = self.next()
        if got != tok:
            raise LitmusError(f"expected {tok!r}, found {got!r}")

    def accept(self, tok: str) -> bool:
        if self.peek() == tok:
            self.i += 1
            return True
        return False

    def ident(self) -> str:
        tok = self.next()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", tok):
            raise LitmusError(f"expected a name, found {tok!r}")
        return tok

    # -- expressions -----------------------------------------------------------------
    def expr(self, level: int = 0) -> Expr:
        if level == len(BIN_PREC):
            return self.unary()
        left = self.expr(level + 1)
        while self.peek() in BIN_PREC[level]:
            op = self.next()
            left = Binary(op, left, self.expr(level + 1))
        if level == 0 and self.accept("?"):
            a = self.expr()
            self.expect(":")
            b = self.expr()
            left = Call("?:", (left, a, b))
        return left

    def unary(self) -> Expr:
        tok = self.peek()
        if tok in ("*", "&", "!", "-", "~"):
            self.next()
            return Unary(tok, self.unary())
        if tok == "(":
            self.next()
            if self.peek() in TYPES:  # a cast: skip it
                while self.peek() != ")":
                    self.next()
                self.next()
                return self.unary()
            e = self.expr()
            self.expect(")")
            return e
        tok = self.next()
        if re.fullmatch(r"0x[0-9a-fA-F]+|\d+", tok):
            return Num(int(tok, 0))
        if not re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", tok):
            raise LitmusError(f"unexpected {tok!r} in an expression")
        if self.accept("("):
            args: list[Expr] = []
            if not self.accept(")"):
                args.append(self.expr())
                while self.accept(","):
                    args.append(self.expr())
                self.expect(")")
            return Call(tok, tuple(args))
        return Name(tok)

    # -- statements ------------------------------------------------------------------
    def block(self) -> Block:
        self.expect("{")
        body: list[Stmt] = []
        while not self.accept("}"):
            body.extend(self.stmt())
        return Block(tuple(body))

    def stmt(self) -> list[Stmt]:
        tok = self.peek()
        if tok == "{":
            return [self.block()]
        if tok == ";":
            self.next()
            return []
        if tok == "if":
            self.next()
            self.expect("(")
            cond = self.expr()
            self.expect(")")
            then = self._one(self.stmt())
            other = self._one(self.stmt()) if self.accept("else") else None
            return [If(cond, then, other)]
        if tok in ("while", "for", "do", "goto", "return", "switch"):
            raise LitmusError(f"unsupported statement {tok!r}")
        if tok in TYPES:
            while self.peek() in TYPES:
                self.next()
            out: list[Stmt] = []
            while True:
                while self.accept("*"):
                    pass
                name = self.ident()
                init = self.expr() if self.accept("=") else None
                out.append(Decl(name, init))
                if not self.accept(","):
                    break
            self.expect(";")
            return out
        e = self.expr()
        if self.accept("="):
            v = self.expr()
            self.expect(";")
            if not isinstance(e, Name | Unary) or (isinstance(e, Unary) and e.op != "*"):
                raise LitmusError("unsupported assignment target")
            return [Assign(e, v)]
        self.expect(";")
        return [ExprStmt(e)]

    @staticmethod
    def _one(stmts: list[Stmt]) -> Stmt:
        return stmts[0] if len(stmts) == 1 else Block(tuple(stmts))

    # -- conditions --------------------------------------------------------------------
    def cond(self) -> Cond:
        left = self.cond_and()
        while self.accept("\\/"):
            left = Or(left, self.cond_and())
        return left

    def cond_and(self) -> Cond:
        left = self.cond_atom()
        while self.accept("/\\"):
            left = And(left, self.cond_atom())
        return left

    def cond_atom(self) -> Cond:
        if self.accept("~") or self.accept("not"):
            return Not(self.cond_atom())
        if self.accept("("):
            c = self.cond()
            self.expect(")")
            return c
        if self.accept("true"):
            return Const(True)
        if self.accept("false"):
            return Const(False)
        thread, name = self.cond_loc()
        neg = False
        if self.accept("!="):
            neg = True
        elif not self.accept("="):
            self.expect("==")
        tok = self.next()
        neg_val = tok == "-"
        if neg_val:
            tok = self.next()
        value: int | str = int(tok, 0) if re.fullmatch(r"0x[0-9a-fA-F]+|\d+", tok) else tok
        if neg_val and isinstance(value, int):
            value = -value
        return Cmp(thread, name, value, neg)

    def cond_loc(self) -> tuple[int | None, str]:
        tok = self.next()
        if tok.isdigit() and self.accept(":"):
            return int(tok), self.ident()
        if tok == "*":
            tok = self.ident()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", tok):
            raise LitmusError(f"unexpected {tok!r} in the condition")
        return None, tok


def _init(text: str, test: Test) -> None:
    for item in text.split(";"):
        item = item.strip()
        if not item:
            continue
        m = re.fullmatch(r"(\d+)\s*:\s*([A-Za-z_]\w*)\s*=\s*(.+)", item)
        if m:
            test.reg_init[(int(m.group(1)), m.group(2))] = _init_value(m.group(3))
            continue
        m = re.fullmatch(r"((?:[A-Za-z_]\w*\s+)*)\**\s*([A-Za-z_]\w*)\s*(?:=\s*(.+))?", item)
        if m is None:
            raise LitmusError(f"cannot read the init item {item!r}")
        test.init[m.group(2)] = 0 if m.group(3) is None else _init_value(m.group(3))


def _init_value(text: str) -> int | str:
    text = text.strip()
    m = re.fullmatch(r"ATOMIC_INIT\s*\(\s*(-?\w+)\s*\)", text)
    if m:
        text = m.group(1)
    text = text.lstrip("&").strip()
    if re.fullmatch(r"-?(0x[0-9a-fA-F]+|\d+)", text):
        return int(text, 0)
    if re.fullmatch(r"[A-Za-z_]\w*", text):
        return text
    raise LitmusError(f"cannot read the initial value {text!r}")


def parse(text: str) -> Test:
    """Parse one C litmus test; `LitmusError` says what it cannot read."""
    first, _, rest = text.lstrip().partition("\n")
    words = first.split()
    if len(words) < 2 or words[0] != "C":
        raise LitmusError("not a C litmus test (the first line must be 'C NAME')")
    test = Test(words[1])
    body, comments = _strip_comments(rest)
    m = re.search(r"Result:\s*(Never|Sometimes|Always)", comments)
    test.expected = m.group(1) if m else None
    m = re.search(r"\{(.*?)\}", body, flags=re.S)
    if m is None:
        raise LitmusError("no init block")
    _init(m.group(1), test)
    p = _Parser(_tokens(body[m.end():]))
    while True:
        tok = p.peek()
        if tok is None:
            raise LitmusError("no final condition (exists / forall)")
        pm = re.fullmatch(r"P(\d+)", tok)
        if pm:
            p.next()
            p.expect("(")
            params: list[str] = []
            while not p.accept(")"):
                if p.peek() == ",":
                    p.next()
                    continue
                while p.peek() in TYPES or p.peek() == "*":
                    p.next()
                params.append(p.ident())
            test.procs.append(Proc(int(pm.group(1)), tuple(params), p.block()))
            continue
        break
    if not test.procs:
        raise LitmusError("no processes P0..Pn")
    if [pr.index for pr in test.procs] != list(range(len(test.procs))):
        raise LitmusError("processes must be P0, P1, ... in order")
    while p.peek() is not None:
        tok = p.next()
        if tok == "locations":
            p.expect("[")
            while not p.accept("]"):
                if p.accept(";"):
                    continue
                test.locations.append(p.cond_loc())
        elif tok == "filter":
            test.filter = p.cond()
        elif tok == "exists":
            test.quantifier, test.cond = "exists", p.cond()
        elif tok == "~" and p.accept("exists"):
            test.quantifier, test.cond = "~exists", p.cond()
        elif tok == "forall":
            test.quantifier, test.cond = "forall", p.cond()
        else:
            raise LitmusError(f"unexpected {tok!r} after the processes")
    return test
