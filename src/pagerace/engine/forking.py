"""An execution that can be forked: the stateful search's way to keep a state alive.

Generators cannot be copied, so a fork shares its parent's thread generators and
re-creates one only when it must advance it: a fresh generator of that thread's body,
fed the thread's history (the results the engine sent into it; bodies are deterministic
functions of them). Every generator has at most one owner, the only execution that may
advance it: the parent keeps its own across a fork, except the one it gives the fork; an
execution that does not own a thread's generator re-creates its own before advancing it,
so the parent and all its forks stay valid. Nothing else is re-executed: the shared state
is a dict copy, the pending ops and results are copied lists.

And a generator is advanced only to reach a program point no execution of the search
reached before: the op a thread yields after a history (or the result it returns) is
recorded per history id (`next_ops`), shared by all executions of the search, so a
thread that reaches a known point takes its op from there and leaves its generator, now
behind, to be re-created if it is ever needed again. Sharing an op object between
executions is what forks did already: the engine tells an op its result only by sending
it into the generator. An `Atomic` step, and the dry run of its footprint, that runs
again on the same values is re-applied from its record (memo.py).

Footprints and distinct outcomes of pending ops are cached per thread and kept across a
step that wrote none of the locations the op's dry run read (the dry run is a function of
those values, so it would give the same answer), and across forks.

Each execution also keeps its history ids (canonical.py interns them), the item ids of
the locations that differ from the initial state and the hash of the fixed ones, which is
all the canonical key needs.

Leaves out: the event log of a forked run (`events` holds only the steps since the fork:
the stateful search reports schedules, and replay rebuilds traces from them) and weak
memory models (a fork copies the state dict shallowly, which is exact only under "sc").
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from pagerace.engine.canonical import Canon
from pagerace.engine.determinism import NondeterminismError
from pagerace.engine.execution import Event, Execution, Footprint, apply_op, op_outcomes
from pagerace.engine.memo import Record, RecordingView, record, valid
from pagerace.engine.ops import Atomic
from pagerace.engine.program import Program
from pagerace.engine.view import StepView


class ForkingExecution(Execution):
    """An `Execution` with `fork()`; threads' histories kept as interned ids."""

    def __init__(self, program: Program, canon: Canon, max_steps: int | None = None,
                 memo: dict[tuple[int, int, int], Record] | None = None,
                 next_ops: dict[tuple[int, int], tuple[bool, Any]] | None = None) -> None:
        self.canon = canon
        # (thread, history id) -> (True, the op it yields there) or (False, its result):
        # a thread reaches a known program point without advancing any generator
        self.next_ops: dict[tuple[int, int], tuple[bool, Any]] = \
            {} if next_ops is None else next_ops
        # memo.py: (thread, history id, outcome) -> the record of that Atomic step,
        # shared by an execution and all its forks
        self.memo: dict[tuple[int, int, int], Record] = {} if memo is None else memo
        self._view: RecordingView | None = None
        self.hist: list[int] = [0] * len(program.threads)
        self.values: list[tuple[Any, ...]] = [()] * len(program.threads)
        self.owned: list[bool] = [True] * len(program.threads)
        self.items: dict[Hashable, int] = {}  # canonical.py: locations that differ
        self.moving: dict[Hashable, int] = {}  # those of them whose item is moving
        self.zsum = 0  # the hash of the fixed ones
        # thread -> its pending op, that op's footprint and distinct outcomes (see step)
        self._fp_cache: dict[int, tuple[Any, Footprint, list[int] | None]] = {}
        super().__init__(program, max_steps)

    def fork(self, give: int | None = None) -> ForkingExecution:
        """A copy of this execution's state; both may go on independently. With `give`,
        the caller promises never to step thread `give` of this execution again, so its
        generator, if this execution owns it, passes to the copy (no replay there)."""
        new = object.__new__(ForkingExecution)
        new.__dict__.update(self.__dict__)
        new.state = dict(self.state)
        new.visible = new.state
        new._alts = {}
        new.pending = list(self.pending)
        new.results = list(self.results)
        new.steps = list(self.steps)
        new.events = []
        new.sometimes_hit = set()
        new._gens = list(self._gens)
        new.hist = list(self.hist)
        new.values = list(self.values)
        new.items = dict(self.items)
        new.moving = dict(self.moving)
        new._fp_cache = dict(self._fp_cache)
        new.owned = [False] * self.n
        if give is not None and self.owned[give]:
            new.owned[give] = True
            self.owned[give] = False
        return new

    def _advance(self, t: int, value: Any, first: bool = False) -> None:
        if first:
            super()._advance(t, value, first)
            return
        h = self.hist[t] = self.canon.extend(self.hist[t], value)
        self.values[t] = self.values[t] + (value,)
        got = self.next_ops.get((t, h))
        if got is not None:  # this program point was reached before: its op is known
            self.owned[t] = False  # the generator, if this execution has it, is behind
            if got[0]:
                self.pending[t] = got[1]
            else:
                self.pending[t], self.results[t] = None, got[1]
            return
        if not self.owned[t]:
            self._recreate(t)
        super()._advance(t, value)
        if self.violation is None:
            op = self.pending[t]
            self.next_ops[(t, h)] = (True, op) if op is not None else (False, self.results[t])

    def _recreate(self, t: int) -> None:
        """A generator of thread `t` at its current program point, fed its history but
        the last result (which `_advance` sends next)."""
        gen = self.program.threads[t].body()
        op = next(gen)
        for v in self.values[t][:-1]:
            op = gen.send(v)
        was = self.pending[t]
        if type(op) is not type(was) or op.label != getattr(was, "label", None):
            raise NondeterminismError(
                f"nondeterministic program: thread {self.program.threads[t].name} "
                f"yields {op.label!r} where, after the same results, it yielded "
                f"{getattr(was, 'label', None)!r}; a thread body must be a "
                "deterministic function of the results it receives")
        self._gens[t] = gen
        self.owned[t] = True

    def footprint(self, t: int) -> Footprint:
        got = self._fp_cache.get(t)
        op = self.pending[t]
        if got is not None and got[0] is op:
            return got[1]
        fp = self._atomic_footprint(t, op) if type(op) is Atomic else super().footprint(t)
        self._fp_cache[t] = (op, fp, None)
        return fp

    def _atomic_footprint(self, t: int, op: Atomic) -> Footprint:
        """The footprint of `t`'s pending Atomic op, outcome by outcome from its records
        (memo.py), dry-running and recording the outcomes that have none valid here."""
        reads: set[Hashable] = set()
        writes: set[Hashable] = set()
        h = self.hist[t]
        state = self.state
        for o in range(op_outcomes(op)):
            key = (t, h, o)
            rec = self.memo.get(key)
            if rec is None or not valid(rec, state):
                view = RecordingView(state, commit=False)
                try:
                    result = apply_op(op, view, o)
                except Exception:  # as Execution.footprint: the accesses up to it count
                    reads |= view.reads
                    writes |= view.writes
                    continue
                effects = dict(view.overlay)
                rec = self.memo[key] = record(view, state, op.label, result, effects,
                                              self.canon.pairs(effects, view.writes))
            reads |= rec.fp[0]
            writes |= rec.fp[1]
        return frozenset(reads), frozenset(writes)

    def outcomes(self, t: int) -> list[int]:
        op = self.pending[t]
        if op is None or op_outcomes(op) == 1:
            return [0]
        got = self._fp_cache.get(t)
        if got is not None and got[0] is self.pending[t] and got[2] is not None:
            return got[2]
        fp = self.footprint(t)
        outs = super().outcomes(t)
        self._fp_cache[t] = (self.pending[t], fp, outs)
        return outs

    def step(self, t: int, outcome: int = 0) -> Event:
        op = self.pending[t]
        key = (t, self.hist[t], outcome) if type(op) is Atomic else None
        rec = self.memo.get(key) if key is not None else None
        canon = self.canon
        if rec is not None and self.violation is None and valid(rec, self.state):
            ev = self._replay(t, outcome, rec)
            pairs = rec.pairs
        else:
            self._view = RecordingView(self.state) if key is not None else None
            ev = super().step(t, outcome)
            view, self._view = self._view, None
            pairs = canon.pairs(self.state, ev.fp[1])
            if view is not None and ev.effects is not None:
                assert key is not None
                self.memo[key] = record(view, self.state, ev.label, ev.result, ev.effects,
                                        pairs)
        self.zsum = canon.update(self.zsum, self.items, self.moving, pairs)
        # a dry run that read none of the locations this step wrote would run the same
        # again: keep its footprint and outcomes; forget the rest and the mover's
        written = ev.fp[1]
        cache = self._fp_cache
        for u in list(cache):
            if u == t or (written and not written.isdisjoint(cache[u][1][0])):
                del cache[u]
        return ev

    def _commit_view(self) -> StepView:
        return self._view if self._view is not None else super()._commit_view()

    def _replay(self, t: int, outcome: int, rec: Record) -> Event:
        """Step `t` by re-applying `rec`, its recorded step from a state that held the
        same values where the step looked (memo.py)."""
        self.steps[t] += 1
        self.state.update(rec.effects)
        if rec.witnessed:
            self.sometimes_hit.update(rec.witnessed)
        ev = Event(len(self.events), t, self.steps[t], rec.label, outcome, rec.fp,
                   rec.result, rec.notes, rec.old, effects=rec.effects,
                   witnessed=rec.witnessed)
        return self._after(ev, rec.result)

    def key(self) -> bytes:
        return self.canon.key(self.zsum, self.moving, self.hist)
