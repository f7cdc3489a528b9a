"""Scenario benchmark: the full seed matrix end to end, DPOR against naive DFS on seed
cells, and how cost grows with the folio size (scaled vs real geometry) and with the
number of CPUs (1-4 walkers beside the vmemmap modifier; 60 s limit per point).

Run: `.venv/bin/python benchmarks/scenario_bench.py`. Everything printed is measured in
this run; naive DFS is given a time limit and reported as a lower bound when it hits it.
"""

from __future__ import annotations

import time

from pagerace.check import CheckOptions, run_matrix
from pagerace.engine import Limits, explore
from pagerace.engine.mazurkiewicz import count_traces
from pagerace.scenarios.catalog import load_scenario

SEED = "hvo-speculative-walker"


def matrix_timing() -> None:
    sc = load_scenario(SEED)
    for jobs in (1, 2):
        t0 = time.perf_counter()
        m = run_matrix(sc, SEED, {}, CheckOptions(), jobs=jobs)
        dt = time.perf_counter() - t0
        ex = sum(c.stats["executions"] for c in m.cells)
        print(f"seed matrix, {len(m.cells)} cells, {jobs} worker(s): {dt:.2f} s end to end "
              f"(explore + minimize + trace), {ex} executions")


def dpor_vs_dfs() -> None:
    sc = load_scenario(SEED)
    print(f"{'cell':34} {'dpor':>6} {'traces':>7} {'dfs':>9} {'dpor/dfs':>9} {'dpor s':>7} "
          f"{'dfs s':>7}")
    for gen, arch, target in [("G0", "arm64-nolse", "unaligned"), ("rw-tails", "x86", "unaligned"),
                              ("G2", "x86", "unaligned"), ("G3", "arm64-nolse", "aligned")]:
        prog = sc.build({"gen": gen, "arch": arch, "target": target})
        t0 = time.perf_counter()
        dpor = explore(prog, "dpor", stop_on_violation=False)
        t1 = time.perf_counter()
        dfs = explore(prog, "dfs", Limits(max_seconds=20), stop_on_violation=False)
        t2 = time.perf_counter()
        traces = count_traces(prog, Limits(max_seconds=20)) if dfs.complete else None
        bound = "" if dfs.complete else ">"
        ratio = dpor.stats.executions / dfs.stats.executions
        print(f"{gen + ' ' + arch + ' ' + target:34} {dpor.stats.executions:>6} "
              f"{traces if traces is not None else '-':>7} "
              f"{bound + str(dfs.stats.executions):>9} {ratio:>9.4f} {t1 - t0:>7.3f} "
              f"{t2 - t1:>7.2f}")


def folio_size() -> None:
    sc = load_scenario(SEED)
    for geometry in ("scaled", "real"):
        for gen in ("G0", "G2"):
            prog = sc.build({"gen": gen, "arch": "arm64-nolse", "target": "unaligned",
                             "geometry": geometry})
            t0 = time.perf_counter()
            r = explore(prog, "dpor", stop_on_violation=False)
            dt = time.perf_counter() - t0
            print(f"{geometry:7} {gen}: {r.stats.executions:>4} executions, depth "
                  f"{r.stats.max_depth:>3}, {dt:.3f} s, {r.stats.executions / dt:7.0f} ex/s")


def cpus() -> None:
    sc = load_scenario(SEED)
    for walkers in range(1, 5):
        prog = sc.build({"gen": "G2", "arch": "x86", "target": "unaligned",
                         "walkers": str(walkers)})
        t0 = time.perf_counter()
        r = explore(prog, "dpor", Limits(max_seconds=60), stop_on_violation=False)
        dt = time.perf_counter() - t0
        bound = "" if r.complete else ">"
        print(f"{walkers + 1} CPUs (G2 x86 unaligned): {bound}{r.stats.executions:>6} executions, "
              f"{r.stats.sleep_blocked} sleep-blocked, {dt:7.2f} s, "
              f"{r.stats.executions / dt:6.0f} ex/s, verdict "
              f"{'pass' if r.violation is None else r.violation.kind}")


if __name__ == "__main__":
    matrix_timing()
    print()
    dpor_vs_dfs()
    print()
    folio_size()
    print()
    cpus()
