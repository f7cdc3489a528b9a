"""Engine benchmark: executions/s, DPOR vs naive DFS execution counts, DPOR vs the number
of Mazurkiewicz traces, how cost grows with the number of threads, and executions/s on a
seed cell at real geometry (CPU time of this process, best of three, so that other load
on the machine matters less).

Run: `.venv/bin/python benchmarks/engine_bench.py` (or `make bench`). All ratios are
measured in this run; nothing is asserted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

import toy_programs as toys  # noqa: E402

from pagerace.engine import Limits, Program, explore  # noqa: E402
from pagerace.engine.mazurkiewicz import count_traces  # noqa: E402
from pagerace.scenarios.catalog import load_scenario  # noqa: E402


def row(name: str, prog: Program) -> None:
    t0 = time.perf_counter()
    dfs = explore(prog, "dfs", stop_on_violation=False)
    t1 = time.perf_counter()
    dpor = explore(prog, "dpor", stop_on_violation=False)
    t2 = time.perf_counter()
    traces = count_traces(prog)
    print(f"{name:28} {dfs.stats.executions:>8} {dpor.stats.executions:>6} {traces:>7} "
          f"{dpor.stats.executions / dfs.stats.executions:>10.4f} "
          f"{dpor.stats.executions / traces:>9.2f} "
          f"{dfs.stats.executions / (t1 - t0):>10.0f} {dpor.stats.executions / (t2 - t1):>9.0f}")


def main() -> None:
    print(f"{'program':28} {'dfs':>8} {'dpor':>6} {'traces':>7} {'dpor/dfs':>10} "
          f"{'dpor/tr':>9} {'dfs ex/s':>10} {'dpor ex/s':>9}")
    row("lost-update (2 threads)", toys.lost_update(False, 2))
    row("lost-update (3 threads)", toys.lost_update(False, 3))
    row("atomic increment (4)", toys.lost_update(True, 4))
    row("store buffering", toys.store_buffering())
    row("message passing", toys.message_passing())
    row("independent (3 x 3 steps)", toys.independent(3, 3))
    row("chooser", toys.chooser())
    print()
    print("cost growth with threads (non-atomic increment, DPOR):")
    for n in range(2, 6):
        t0 = time.perf_counter()
        r = explore(toys.lost_update(False, n), "dpor", Limits(), stop_on_violation=False)
        dt = time.perf_counter() - t0
        print(f"  {n} threads: {r.stats.executions:>7} executions, "
              f"{r.stats.sleep_blocked:>6} sleep-blocked, {dt:7.3f} s, "
              f"{r.stats.executions / dt:8.0f} executions/s")


def seed_cell() -> None:
    print()
    print("seed cell hvo-speculative-walker G2 x86 unaligned, geometry=real (CPU seconds, "
          "best of 3):")
    scenario = load_scenario("hvo-speculative-walker")
    for strategy, walkers in (("dpor", "1"), ("dpor", "2"), ("dfs", "1"), ("random", "1")):
        params = scenario.resolve({"gen": "G2", "arch": "x86", "target": "unaligned",
                                   "geometry": "real", "walkers": walkers})
        prog = scenario.build(params)
        best = float("inf")
        for _ in range(3):
            t0 = time.process_time()
            r = explore(prog, strategy, stop_on_violation=False)
            best = min(best, time.process_time() - t0)
        print(f"  {strategy:6} walkers={walkers}: {r.stats.executions:>6} executions, "
              f"{r.stats.steps:>7} steps, {r.stats.distinct_states} states, {best:7.3f} s, "
              f"{r.stats.executions / best:7.1f} executions/s")


if __name__ == "__main__":
    main()
    seed_cell()
