"""Source-DPOR with sleep sets: the race analysis on top of the tree walk (tree.py).

Algorithm: Source-DPOR, Algorithm 1 of P. Abdulla, S. Aronis, B. Jonsson, K. Sagonas,
"Optimal Dynamic Partial Order Reduction", POPL 2014 (and JACM 2017), with sleep sets
(P. Godefroid, LNCS 1032, 1996). Every maximal execution it completes belongs to a
different Mazurkiewicz trace (sleep sets guarantee that); every trace is covered (source
sets guarantee that). Where source sets alone would start a redundant exploration the
sleep set cuts it off early: such partial runs are counted as `sleep_blocked`, not as
executions. Wakeup trees (the "optimal" algorithm of the same paper) would avoid those
partial runs too; they are not implemented.

Happens-before is tracked with vector clocks: an event's immediate predecessors are its
thread's previous event and the latest dependent events of other threads not already
ordered before a later predecessor; an immediate predecessor on another thread is a race.
For a race e ⋖ e' the algorithm computes v = notdep(e, E).e' and adds an initial of v
(an enabled one) to the backtrack set of the state before e unless one is already there.
A race whose reversal would need a blocked `Await` to run early is not reversible and is
skipped. Blocking needs two additions: an `Await` races with every dependent write of
another thread before it, not only its immediate predecessors (it may have to go before
the write that disabled it, which an enabling write hides); and a thread still blocked
when a run ends never executes, so its await is analysed as a virtual last event.

Nondeterministic ops (several outcomes) make an event a (thread, outcome) pair: sleep sets
hold such events, so an explored outcome sleeps while the thread's other outcomes are
still explored after it.

The tree walking (stack of nodes, replay, backtracking) is in tree.py; this module adds
the race analysis, the sleep sets and the analysis of threads still blocked at the end.
"""

from __future__ import annotations

from collections.abc import Hashable

from pagerace.engine import violation as vk
from pagerace.engine.apply import Footprint
from pagerace.engine.execution import Event, Execution, dependent
from pagerace.engine.memory import stepping as weak
from pagerace.engine.memory.choices import Alternative
from pagerace.engine.memory.history import buffer_locs
from pagerace.engine.ops import Await
from pagerace.engine.program import Program
from pagerace.engine.symmetric import rename_fp
from pagerace.engine.tree import Node, SleepEntry, TreeSearch


class SourceDPOR(TreeSearch):
    name = "dpor"

    def __init__(self, program: Program) -> None:
        super().__init__(program)
        # the index of the events on the stack: each location's last write, the reads
        # since, every write; and each thread's last event
        self.last_write: dict[Hashable, int] = {}
        self.reads_since: dict[Hashable, list[int]] = {}
        self.writes_all: dict[Hashable, list[int]] = {}
        self.last: list[int] = [-1] * self.nthreads
        # per indexed node: (thread, its previous last event, per written location the
        # previous last write and reads-since list, the locations only read)
        self.undo: list[tuple[int, int, list[tuple[Hashable, int | None, list[int] | None]],
                              list[Hashable]]] = []

    # -- the tree hooks -----------------------------------------------------------------
    def first_backtrack(self, node: Node, options: list[int]) -> set[int]:
        return {self._pick(node, options)}

    def inherit_sleep(self, parent: Node, node: Node, ex: Execution) -> None:
        assert parent.event is not None
        efp = parent.event.fp
        for q, entry in parent.sleep.items():
            if q == parent.thread:
                if ex.model is not None:
                    kept = _kept_across_own_step(entry, parent.event, ex, q)
                    if kept is not None:
                        node.sleep[q] = kept
                continue
            awake = {o: fp for o, fp in entry.asleep.items() if not dependent(fp, efp)}
            if awake:
                node.sleep[q] = SleepEntry(entry.outs, awake,
                                           {o: a for o, a in entry.alts.items() if o in awake})

    def absorb(self, i: int, fresh: bool) -> None:
        if fresh:
            self._analyze(i)
        if i >= len(self.undo):  # a replayed node's entries are still in the index
            self._index(i)

    def end_run(self, ex: Execution) -> None:
        self._analyze_blocked(ex)
        self._analyze_violation(ex)

    def on_backtrack(self, node: Node) -> None:
        assert node.outcomes is not None and node.event is not None
        if len(self.undo) == len(self.stack):  # the top node's choice changes or goes
            self._unindex()
        entry = node.sleep.setdefault(node.thread, SleepEntry(node.all_outcomes, {}))
        o = node.outcomes[node.oi]
        entry.asleep[o] = node.event.fp
        if node.event.alt is not None:
            entry.alts[o] = node.event.alt
        if node.swaps:  # the twin's step is this one renamed (symmetric.py)
            assert self.sym is not None
            for perm, threads in node.swaps:
                q = perm[node.thread]
                if node.thread in threads and q in node.enabled and q not in node.done:
                    fp = rename_fp(self.sym, node.event.fp, perm)
                    if fp is not None:
                        node.sleep.setdefault(q, SleepEntry(node.all_outcomes, {})) \
                            .asleep[o] = fp

    # -- DPOR race analysis --------------------------------------------------------------
    def _analyze(self, i: int, e: Event | None = None) -> None:
        """Clock event `e` (default: the event of node i) against stack[:i]; reverse races."""
        stack = self.stack
        if e is None:
            e = stack[i].event
        assert e is not None
        p = e.thread
        efp = e.fp
        # candidate predecessors from this run's per-location index: the last write of
        # each location touched and, for a write, the reads since then (earlier accesses
        # happen before those and cannot be immediate predecessors); an await looks at
        # every earlier write of what it reads
        found: set[int] = set()
        last_write = self.last_write
        for loc in efp[1]:
            w = last_write.get(loc)
            if w is not None:
                found.add(w)
            found.update(self.reads_since.get(loc, ()))
        for loc in efp[0]:
            w = last_write.get(loc)
            if w is not None:
                found.add(w)
            if e.is_await:
                found.update(self.writes_all.get(loc, ()))
        cand = sorted((j for j in found if j < i and stack[j].thread != p), reverse=True)
        prev = self.last[p]
        if prev >= 0:
            cand.append(prev)
            cand.sort(reverse=True)
        clock = [0] * self.nthreads
        races: list[int] = []
        for j in cand:
            f = stack[j].event
            assert f is not None
            if clock[f.thread] >= f.pos:
                continue
            if f.thread != p:
                races.append(j)
            fvc = f.vc
            for k in range(self.nthreads):
                if fvc[k] > clock[k]:
                    clock[k] = fvc[k]
        clock[p] = e.pos
        e.vc = clock
        if e.is_await:
            # an await can also go before a write that disabled it, which need not be its
            # immediate predecessor: try every dependent write of another thread
            races = [j for j in cand if stack[j].thread != p]
        for j in races:
            self._reverse(j, i, e)

    def _index(self, i: int) -> None:
        """Record the event of node i in the per-location access index, and how to undo
        that (the index is kept across runs for the nodes a replay shares)."""
        e = self.stack[i].event
        assert e is not None
        reads, writes = e.fp
        undo_writes = []
        for loc in writes:
            undo_writes.append((loc, self.last_write.get(loc), self.reads_since.get(loc)))
            self.last_write[loc] = i
            self.reads_since[loc] = []
            self.writes_all.setdefault(loc, []).append(i)
        undo_reads = [loc for loc in reads if loc not in writes]
        for loc in undo_reads:
            self.reads_since.setdefault(loc, []).append(i)
        self.undo.append((e.thread, self.last[e.thread], undo_writes, undo_reads))
        self.last[e.thread] = i

    def _unindex(self) -> None:
        """Take the last indexed node's event out of the index."""
        thread, last, undo_writes, undo_reads = self.undo.pop()
        for loc in undo_reads:
            self.reads_since[loc].pop()
        for loc, w, rs in reversed(undo_writes):
            self.writes_all[loc].pop()
            if w is None:
                del self.last_write[loc]
            else:
                self.last_write[loc] = w
            if rs is None:
                del self.reads_since[loc]
            else:
                self.reads_since[loc] = rs
        self.last[thread] = last

    def _analyze_blocked(self, ex: Execution) -> None:
        """A thread still blocked when the run ends races with the writes that disabled
        it: analyse its pending `Await` as if it were the next event."""
        end = len(self.stack)
        for t in range(ex.n):
            if ex.pending[t] is not None and isinstance(ex.pending[t], Await) \
                    and not ex.is_enabled(t):
                virtual = Event(end, t, ex.steps[t] + 1, "blocked", 0, ex.footprint(t), None,
                                is_await=True)
                self._analyze(end, virtual)

    def _analyze_violation(self, ex: Execution) -> None:
        """A step that raised a violation ended the run, so it disabled every other
        thread's next step: it races with each of them (whatever they touch), and each
        enabled one goes into the backtrack set of the state before it. Without this a
        violation of one thread would hide another thread's independent violation."""
        j = self.pos - 1
        if ex.violation is None or ex.violation.kind == vk.DEADLOCK or j < 0:
            return
        p = self.stack[j].thread
        for u in range(ex.n):
            if u != p and ex.pending[u] is not None:
                self._add_backtrack(j, j + 1, [u], u)

    def _reverse(self, j: int, i: int, ei: Event) -> None:
        stack = self.stack
        ej = stack[j].event
        assert ej is not None
        v: list[Event] = []
        for k in range(j + 1, i):
            ek = stack[k].event
            assert ek is not None
            if ek.vc[ej.thread] < ej.pos:
                v.append(ek)
        v.append(ei)
        initials: list[int] = []
        seen: set[int] = set()
        for idx, ek in enumerate(v):
            if ek.thread in seen:
                continue
            seen.add(ek.thread)
            if not any(ek.vc[em.thread] >= em.pos for em in v[:idx]):
                initials.append(ek.thread)
        self._add_backtrack(j, i, initials, ei.thread)

    def _add_backtrack(self, j: int, i: int, initials: list[int], thread: int) -> None:
        """Reverse the race of node j's event with event i (of `thread`): add an initial
        of v to j's backtrack set unless one is there already."""
        node = self.stack[j]
        if node.backtrack.intersection(initials):
            return
        usable = [q for q in initials if q in node.enabled]
        if not usable:
            return  # not reversible: the later step was blocked before the earlier one
        q = thread if thread in usable else usable[0]
        node.backtrack.add(q)


def _kept_across_own_step(entry: SleepEntry, ev: Event, ex: Execution, q: int
                          ) -> SleepEntry | None:
    """What of thread q's sleeping events stays asleep across q's own step `ev`, under a
    model with store buffers: a drain D and an op O of the same thread that are
    independent commute (D's entry is older than anything O buffers, so O neither changes
    it nor whether it may drain; O is not a load forwarding from it, which would read D's
    buffer key; and D changes nothing O's alternatives depend on), so whichever of the two
    was explored first covers the runs that take the other first and then it. An asleep
    event keeps sleeping under the index its alternative (op outcome and model choices)
    has after the step - a drain can make alternatives of the op available that waited
    for it, which shifts the indices, and an op can add drains - and only where that
    index is still the representative of its outcome; an asleep event whose alternative
    is not known (a sleep set handed to a subtree) wakes. Without this every drain would
    be explored before and after each of its own thread's later steps."""
    outs: list[int] | None = None
    asleep: dict[int, Footprint] = {}
    alts: dict[int, Alternative] = {}
    for o, fp in entry.asleep.items():
        alt = entry.alts.get(o)
        if alt is None or dependent(fp, ev.fp):
            continue
        locs = buffer_locs(fp[1], q)  # the asleep event's drained locations, if a drain
        if bool(locs) == ev.drain:
            continue  # drain across drain, op across op: not the same event any more
        if outs is None:
            outs = ex.outcomes(q)
        if ev.drain:
            kept = weak.index_of(ex, q, alt)
        else:  # a drain's entry index is its position among the entries; none go before
            kept = weak.drain_outcome(ex, q, outs, locs)
            alt = None if kept is None else weak.alternative_at(ex, q, kept)
        if kept is not None and kept in outs and alt is not None:
            asleep[kept] = fp
            alts[kept] = alt
    if not asleep or outs is None:
        return None
    return SleepEntry(tuple(outs), asleep, alts)
